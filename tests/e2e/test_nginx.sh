#!/bin/sh
# e2e: nginx with conf/nginx/antireplay.conf as shipped (socket path and
# prefix substituted) in front of the app under spawn-fcgi -F 4, Redis with
# conf/redis/antireplay-redis.conf, the whole contract driven with curl.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/e2e/nginx.sh"
. "$top_srcdir/tests/e2e/http.sh"
. "$top_srcdir/tests/e2e/scenario.sh"

ar_require "$NGINX" "$CURL" "$JQ"
ar_setup

# The example app config is valid as shipped and names every key once.
if "$ANTIREPLAY_BIN" -c "$top_srcdir/conf/antireplay.conf" --check-config >"$AR_TMP/check.out" 2>&1; then
	ok "conf/antireplay.conf passes --check-config"
else
	not_ok "conf/antireplay.conf fails --check-config: $(cat "$AR_TMP/check.out")"
fi
missing=""
for key in redis redis_password redis_user redis_db redis_timeout_ms key_prefix token_ttl \
	result_ttl duplicate_mode bind token_rate max_body base_path admin_token log log_level; do
	[ "$(grep -c "^$key =" "$top_srcdir/conf/antireplay.conf")" = 1 ] || missing="$missing $key"
done
check "conf/antireplay.conf has every key once" "" "$missing"

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
# nginx's own 413 before the app. Neither touches the token.
sc_token
t=$SC_TOKEN
big=$(printf '%09000d' 0)
sc_order "$t" "{\"items\":[{\"sku\":\"SKU-5\",\"qty\":1}],\"customer\":\"$big\"}"
check_status "a body over max_body" 413 body_too_large
huge=$(printf '%020000d' 0)
code=$("$CURL" -s -o "$AR_TMP/huge.out" -w '%{http_code}' -H 'Expect:' \
	-H "Idempotency-Key: $t" -H 'Content-Type: application/json' \
	--data-binary "{\"items\":[{\"sku\":\"SKU-5\",\"qty\":1}],\"customer\":\"$huge\"}" \
	"$AR_URL$AR_BASE/orders")
check "a body over client_max_body_size: nginx's 413" 413 "$code"
sc_order "$t" '{"items":[{"sku":"SKU-5","qty":1}]}'
check_status "the token still works after both 413s" 201

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
n=0
ar_http GET "$AR_BASE/healthz"
while [ "$H_STATUS" != 200 ] && [ $n -lt 50 ]; do
	sleep 0.1
	ar_http GET "$AR_BASE/healthz"
	n=$((n + 1))
done
check_status "GET /healthz after Redis is back" 200
ar_http GET "$AR_BASE/orders/$SC_ORDER1"
check_status "the first order survived the Redis restart (AOF)" 200

check_every_response
alive=0
for pid in $AR_APP_PIDS; do
	ar_alive "$pid" && alive=$((alive + 1))
done
check "all 4 app processes still running" 4 "$alive"
check "no upstream errors in nginx's error log" "" \
	"$(grep -E '\[(alert|crit|error)\].*upstream' "$AR_NGINX_DIR/error.log" | head -n 3)"

ar_done
