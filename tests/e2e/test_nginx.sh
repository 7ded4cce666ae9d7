#!/bin/sh
# e2e: nginx with conf/nginx/antireplay.conf as shipped (socket path and
# prefix substituted) in front of the app under spawn-fcgi -F 4, Redis with
# conf/redis/antireplay-redis.conf, the whole contract driven with curl
# mounted at /api, its prefix-relevant part again at /shop/api. Then
# nginx's own answers when the pool is down, stuck or full (fast 502 from a
# short backlog, 504 after fastcgi_read_timeout), each with one
# Cache-Control: no-store.
# Every worker, the overload one too, runs under $AR_APP_WRAPPER when set
# (tests/valgrind/test_e2e.sh: make check-valgrind).
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/lib/front.sh"
. "$top_srcdir/tests/e2e/nginx.sh"
. "$top_srcdir/tests/e2e/http.sh"
. "$top_srcdir/tests/e2e/scenario.sh"

ar_require "$NGINX" "$CURL" "$JQ"
ar_setup

# The example app config is valid as shipped.
if "$ANTIREPLAY_BIN" -c "$top_srcdir/conf/antireplay.conf" --check-config >"$AR_TMP/check.out" 2>&1; then
	ok "conf/antireplay.conf passes --check-config"
else
	not_ok "conf/antireplay.conf fails --check-config: $(cat "$AR_TMP/check.out")"
fi
# That it names every key the code knows, once: tests/unit/test_config.

AR_BASE=/api
# Redis with the shipped settings (AOF on: the restart below keeps the data).
ar_start_redis "include $top_srcdir/conf/redis/antireplay-redis.conf"
check "redis runs with appendonly from conf/redis" "appendonly yes" \
	"$(ar_redis CONFIG GET appendonly | tr '\n' ' ' | sed 's/ $//')"
check "redis runs with noeviction from conf/redis" "maxmemory-policy noeviction" \
	"$(ar_redis CONFIG GET maxmemory-policy | tr '\n' ' ' | sed 's/ $//')"
# max_body below nginx's client_max_body_size (16k) so both 413s show.
# shellcheck disable=SC2046 # one key=value per word
ar_write_config $(ar_scenario_config) max_body=8192
ar_start_app 4
ar_start_nginx "$AR_BASE"
echo "# nginx $AR_NGINX_PORT (pid $AR_NGINX_PID), app pids $AR_APP_PIDS"

ar_scenario_run

# Bodies over max_body: the app's JSON 413; over client_max_body_size:
# nginx's own 413 before the app. Neither touches the token. nginx buffers
# a chunked body and passes its length, so the app's check applies to it.
sc_token
t=$SC_TOKEN
big=$(printf '%09000d' 0)
printf '{"items":[{"sku":"SKU-5","qty":1}],"customer":"%s"}' "$big" >"$AR_TMP/big.json"
huge=$(printf '%020000d' 0)
printf '{"items":[{"sku":"SKU-5","qty":1}],"customer":"%s"}' "$huge" >"$AR_TMP/huge.json"
sc_order "$t" "$(cat "$AR_TMP/big.json")"
check_status "a body over max_body" 413 body_too_large
ar_http POST "$AR_BASE/orders" -H "Idempotency-Key: $t" -H 'Content-Type: application/json' \
	-H 'Transfer-Encoding: chunked' --data-binary "@$AR_TMP/big.json"
check_status "a chunked body over max_body" 413 body_too_large
ar_http_front POST "$AR_BASE/orders" -H "Idempotency-Key: $t" \
	-H 'Content-Type: application/json' --data-binary "@$AR_TMP/huge.json"
check "a body over client_max_body_size: nginx's 413" 413 "$H_STATUS"
check "nginx's 413: one Cache-Control: no-store" "no-store 1" \
	"$(h_header Cache-Control) $(h_header_count Cache-Control)"
ar_http_front POST "$AR_BASE/orders" -H "Idempotency-Key: $t" -H 'Content-Type: application/json' \
	-H 'Transfer-Encoding: chunked' --data-binary "@$AR_TMP/huge.json"
check "a chunked body over client_max_body_size: nginx's 413" 413 "$H_STATUS"
sc_order "$t" '{"items":[{"sku":"SKU-5","qty":1}]}'
check_status "the token still works after the 413s" 201
ar_http_front GET "$AR_BASE"
check "GET the prefix without its slash: nginx's 301 to it" "301 $AR_URL$AR_BASE/" \
	"$H_STATUS $(h_header Location)"

# Redis down: 503 with Retry-After: 1, no crash; back once Redis is.
ar_stop_redis
ar_http GET "$AR_BASE/healthz"
check_status "GET /healthz with Redis down" 503
check "503 healthz body: status" unavailable "$(h_json '.status')"
ar_http POST "$AR_BASE/tokens"
check_status "POST /tokens with Redis down" 503 unavailable
check "503 Retry-After" 1 "$(h_header Retry-After)"
sc_order "$t" '{"items":[{"sku":"SKU-5","qty":1}]}'
check_status "POST /orders with Redis down" 503 unavailable
ar_restart_redis
ar_http_until 200 GET "$AR_BASE/healthz"
check_status "GET /healthz after Redis is back" 200
ar_http GET "$AR_BASE/orders/$SC_ORDER1"
check_status "the first order survived the Redis restart (AOF)" 200

# ngx_pool_ok PASS: every worker alive, nothing upstream in the error log.
ngx_pool_ok() {
	check "$1: all 4 app processes still running" 4 "$(ar_count_alive $AR_APP_PIDS)"
	check "$1: no upstream errors in nginx's error log" "" \
		"$(grep -E '\[(alert|crit|error)\].*upstream' "$AR_NGINX_DIR/error.log" | head -n 3)"
}
ngx_pool_ok "$AR_BASE"

# The second mount point: base_path and the location under /shop/api, on
# an emptied Redis (the rate-limit windows start afresh). The lighter pass
# covers what the prefix changes: tokens, an order, its Location, GET by
# Location, replay, 404 inside and outside the prefix.
ar_stop_nginx
ar_stop_app
ar_redis FLUSHALL >/dev/null
AR_BASE=/shop/api
# shellcheck disable=SC2046 # one key=value per word
ar_write_config $(ar_scenario_config) max_body=8192
ar_start_app 4
ar_start_nginx "$AR_BASE"
echo "# second pass, base_path $AR_BASE: nginx $AR_NGINX_PORT, app pids $AR_APP_PIDS"
ar_scenario_run_prefix
ngx_pool_ok "$AR_BASE"
check_every_response

# nginx's own answers, with the pool gone, stuck or full.
ar_stop_app
ar_http_front GET "$AR_BASE/healthz"
check "no worker behind the socket: nginx's 502" 502 "$H_STATUS"
check "nginx's 502: one Cache-Control: no-store" "no-store 1" \
	"$(h_header Cache-Control) $(h_header_count Cache-Control)"

# One worker with a backlog of 2, stopped: 8 concurrent requests. Those the
# backlog holds wait for fastcgi_read_timeout (5 s) and get 504; the others
# find it full and get an immediate 502 (nginx's connect() fails with
# EAGAIN: no wait at all, which its error log shows for each one).
rm -f "$AR_APP_SOCK"
"$SPAWN_FCGI" -s "$AR_APP_SOCK" -M 0666 -b 2 -F 1 -P "$AR_TMP/pool.pid" \
	-- /bin/sh -c "exec ${AR_APP_WRAPPER:-} '$ANTIREPLAY_BIN' -c '$AR_TMP/antireplay.conf' 2>>'$AR_TMP/app.log'" \
	>/dev/null || { echo "# spawn-fcgi -b 2 failed"; exit 1; }
ar_wait_socket "$AR_APP_SOCK"
AR_APP_PIDS=$(tr '\n' ' ' <"$AR_TMP/pool.pid")
for pid in $AR_APP_PIDS; do ar_track "$pid"; done
# shellcheck disable=SC2086 # a list of PIDs
ar_wait_accepting $AR_APP_PIDS
ar_http GET "$AR_BASE/healthz"
check_status "one worker with -b 2 serves" 200
for pid in $AR_APP_PIDS; do kill -STOP "$pid"; done
: >"$AR_NGINX_DIR/error.log"
pids=""
i=0
while [ $i -lt 8 ]; do
	"$CURL" -s -m 60 -o /dev/null -D "$AR_TMP/over.$i.head" -w '%{http_code} %{time_total}' \
		"$AR_URL$AR_BASE/healthz" >"$AR_TMP/over.$i.out" 2>/dev/null &
	pids="$pids $!"
	i=$((i + 1))
done
for p in $pids; do wait "$p"; done
for pid in $AR_APP_PIDS; do kill -CONT "$pid"; done
# A 504 must have waited for fastcgi_read_timeout (5 s), and come well
# before nginx's default (60 s) would have ended it: under 30 s, whatever
# the machine. A 502's time is only shown: that it did not wait is what the
# EAGAIN lines in the error log prove.
fast502=0 slow504=0 other="" nocache="" times=""
i=0
while [ $i -lt 8 ]; do
	read -r code secs <"$AR_TMP/over.$i.out"
	ms=$(echo "$secs" | awk '{ printf "%d", $1 * 1000 }')
	times="$times $code/${ms}ms"
	if [ "$code" = 502 ]; then
		fast502=$((fast502 + 1))
	elif [ "$code" = 504 ] && [ "$ms" -ge 4500 ] && [ "$ms" -lt 30000 ]; then
		slow504=$((slow504 + 1))
	else
		other="$other $code/${ms}ms"
	fi
	tr -d '\r' <"$AR_TMP/over.$i.head" | grep -qix 'Cache-Control: no-store' ||
		nocache="$nocache $code"
	i=$((i + 1))
done
echo "# overload: $fast502 fast 502, $slow504 504 after ~5 s, other:${other:- none};" \
	"times:$times"
check "overload: each answer a 502 or a 504 after fastcgi_read_timeout" "" "$other"
# Linux queues backlog + 1 connections on a unix socket (4 were seen here
# too): at most 4 wait, at least 4 are refused at once.
if [ $slow504 -ge 1 ] && [ $slow504 -le 4 ] && [ $fast502 -ge 4 ]; then
	ok "overload: the short backlog held a few, the rest got 502 at once"
else
	not_ok "overload: expected 1..4 504s and at least 4 fast 502s, got $slow504 and $fast502"
fi
check "overload: nginx logged EAGAIN on connect() for each 502" "$fast502" \
	"$(grep -c 'connect() to unix:.* failed (11: Resource temporarily unavailable)' \
		"$AR_NGINX_DIR/error.log")"
check "overload: Cache-Control: no-store on nginx's 502 and 504" "" "$nocache"
ar_http_until 200 GET "$AR_BASE/healthz"
check_status "the worker serves again once resumed" 200
for pid in $AR_APP_PIDS; do
	if ar_alive "$pid"; then
		ok "the worker survived answering clients that had gone"
	else
		not_ok "the worker $pid died after the abandoned requests"
	fi
done

ar_done
