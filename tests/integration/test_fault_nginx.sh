#!/bin/sh
# test_fault_nginx: the web server restarted under load. nginx (the shipped
# conf/nginx/antireplay.conf) in front of 4 workers under spawn-fcgi -F 4;
# 4 curl clients take tokens and order, retrying every 502/503/504 or
# missing answer with the same token. Mid-load nginx is stopped and started
# again, then reloaded with kill -HUP. The workers survive (same PIDs),
# requests after each step are served, and the accounting is exact.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/lib/faults.sh"
. "$top_srcdir/tests/lib/front.sh"
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
ar_fault_stock $FA0 $FB0

D=$AR_TMP/nginx-load
mkdir -p "$D"
pids=""
for c in 1 2 3 4; do
	ar_order_client "$D" $c 300 &
	pids="$pids $!"
done

# Each step waits for the state it needs (orders placed, a client without
# an answer, nginx's workers replaced), at most 60 s: far more than a slow
# machine needs.
# How many requests of the clients got no answer.
unanswered() {
	cat "$D"/*.log | awk '$4 == "000"' | wc -l
}
# shellcheck disable=SC2317 # called through ar_wait_until
unanswered_beyond() {
	[ "$(unanswered)" -gt "$1" ]
}
# shellcheck disable=SC2317 # called through ar_wait_until
workers_replaced() { # nginx has workers again, none of $old_workers
	new_workers=$(pgrep -P "$AR_NGINX_PID" | tr '\n' ' ')
	[ -n "$new_workers" ] || return 1
	for _w in $new_workers; do
		case " $old_workers " in *" $_w "*) return 1 ;; esac
	done
	return 0
}

ar_wait_until 600 ar_orders_beyond 2 || echo "# no orders before the restart in 60 s"
n_before=$(ar_xlen)
lost=$(unanswered)
t0=$(ar_now_ms)
ar_stop_nginx
# Down until a client has met it (a request without an answer).
ar_wait_until 600 unanswered_beyond "$lost" || echo "# no client met the restart in 60 s"
ar_start_nginx /api
echo "$AR_URL" >"$AR_FAULT_URL_FILE"
echo "# restart: nginx down and up again in $(($(ar_now_ms) - t0)) ms, $n_before orders before it"
ar_wait_until 600 ar_orders_beyond $((n_before + 2)) || echo "# no orders after the restart in 60 s"
n_restart=$(ar_xlen)
old_workers=$(pgrep -P "$AR_NGINX_PID" | tr '\n' ' ')
kill -HUP "$AR_NGINX_PID"
ar_wait_until 600 workers_replaced || echo "# nginx's workers not replaced in 60 s"
n_reload=$(ar_xlen)
ar_wait_until 600 ar_orders_beyond $((n_reload + 2)) || echo "# no orders after the reload in 60 s"
: >"$D/stop"
wait $pids
n_end=$(ar_xlen)
echo "# orders in the stream: $n_before before the restart, $n_restart after it," \
	"$n_reload once the reload replaced the workers, $n_end at the end"
echo "# nginx workers before the reload: $old_workers; after: $new_workers"

if [ "$n_restart" -gt "$n_before" ]; then ok "orders were served after the restart"; else not_ok "no order after the restart"; fi
if [ "$n_end" -gt "$n_reload" ]; then
	ok "orders were served after the reload (by its new workers)"
else
	not_ok "no order after the reload ($n_restart, $n_reload, $n_end)"
fi
if workers_replaced; then
	ok "the reload replaced nginx's workers"
else
	not_ok "the reload replaced nginx's workers (before: $old_workers; after: $new_workers)"
fi
ar_fault_account "$D" $FA0 $FB0 "nginx restart"
if [ "$_s000" -gt 0 ]; then ok "the restart hit the clients ($_s000 requests without an answer, retried)"; else not_ok "no client met the restart"; fi
check_alive "the 4 app workers survived (same PIDs)" $PIDS0
code=$("$CURL" -s -o /dev/null -w '%{http_code}' -X POST "$AR_URL/api/tokens")
check "a token through nginx afterwards" 201 "$code"
ar_done
