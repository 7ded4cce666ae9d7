#!/bin/sh
# test_fault_nginx: the web server restarted under load. nginx (the shipped
# conf/nginx/antireplay.conf) in front of 4 workers under spawn-fcgi -F 4;
# 4 curl clients take tokens and order, retrying every 502/503/504 or
# missing answer with the same token. Mid-load nginx is stopped and started
# again, then reloaded with kill -HUP. The workers survive (same PIDs),
# requests after each step are served, and the accounting is exact.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/e2e/nginx.sh"

ar_require "$NGINX" "$CURL"
ar_setup
ar_start_redis
ar_write_config base_path=/api token_rate=0 log_level=info
ar_start_app 4
PIDS0=$AR_APP_PIDS
AR_BASE=/api
ar_start_nginx /api
AR_FAULT_URL_FILE=$AR_TMP/url
echo "$AR_URL" >"$AR_FAULT_URL_FILE"

FA0=100000
FB0=50000
ar_redis SET ar:stock:FA $FA0 >/dev/null
ar_redis SET ar:stock:FB $FB0 >/dev/null

D=$AR_TMP/nginx-load
mkdir -p "$D"
pids=""
for c in 1 2 3 4; do
	ar_order_client "$D" $c 300 &
	pids="$pids $!"
done

sleep 1.5
n_before=$(ar_redis XLEN ar:orders)
t0=$(ar_now_ms)
ar_stop_nginx
sleep 0.5
ar_start_nginx /api
echo "$AR_URL" >"$AR_FAULT_URL_FILE"
echo "# restart: nginx down and up again in $(($(ar_now_ms) - t0)) ms, $n_before orders before it"
sleep 1.5
n_restart=$(ar_redis XLEN ar:orders)
old_workers=$(pgrep -P "$AR_NGINX_PID" | tr '\n' ' ')
kill -HUP "$AR_NGINX_PID"
sleep 1.5
n_reload=$(ar_redis XLEN ar:orders)
new_workers=$(pgrep -P "$AR_NGINX_PID" | tr '\n' ' ')
sleep 1
: >"$D/stop"
wait $pids
n_end=$(ar_redis XLEN ar:orders)
echo "# orders in the stream: $n_before before the restart, $n_restart 1.5 s after it," \
	"$n_reload 1.5 s after the reload, $n_end at the end"
echo "# nginx workers before the reload: $old_workers; after: $new_workers"

if [ "$n_restart" -gt "$n_before" ]; then ok "orders were served after the restart"; else not_ok "no order after the restart"; fi
if [ "$n_end" -gt "$n_reload" ] && [ "$n_reload" -gt "$n_restart" ]; then
	ok "orders were served after the reload"
else
	not_ok "no order after the reload ($n_restart, $n_reload, $n_end)"
fi
check "the reload replaced nginx's workers" 0 \
	"$(for w in $new_workers; do case " $old_workers " in *" $w "*) echo same ;; esac; done | wc -l)"
ar_fault_account "$D" $FA0 $FB0 "nginx restart"
if [ "$_s000" -gt 0 ]; then ok "the restart hit the clients ($_s000 requests without an answer, retried)"; else not_ok "no client met the restart"; fi
dead=""
for pid in $PIDS0; do ar_alive "$pid" || dead="$dead $pid"; done
check "the 4 app workers survived (same PIDs)" "" "$dead"
code=$("$CURL" -s -o /dev/null -w '%{http_code}' -X POST "$AR_URL/api/tokens")
check "a token through nginx afterwards" 201 "$code"
ar_done
