#!/bin/sh
# e2e: lighttpd with conf/lighttpd/antireplay-socket.conf as shipped (only
# the socket path substituted) in front of the app under spawn-fcgi -F 4:
# the shared scenario (chunked bodies included), then what is particular to
# lighttpd (411 for a POST without Content-Length, both 413s, the 8 KiB
# header limit, underscore headers, the read timeout).
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/lib/front.sh"
. "$top_srcdir/tests/e2e/lighttpd.sh"
. "$top_srcdir/tests/e2e/http.sh"
. "$top_srcdir/tests/e2e/scenario.sh"

ar_require "$LIGHTTPD" "$CURL" "$JQ"
ar_setup

SNIPPET=$top_srcdir/conf/lighttpd/antireplay-socket.conf
AR_BASE=/api
ar_start_redis
# max_body below lighttpd's server.max-request-size (16 KiB) so both 413s show.
# shellcheck disable=SC2046 # one key=value per word
ar_write_config $(ar_scenario_config) max_body=8192
ar_start_app 4
ar_snippet "$SNIPPET" /run/antireplay/antireplay.sock "$AR_APP_SOCK" \
	>"$AR_TMP/antireplay-lighttpd.conf" || exit 1
ar_start_lighttpd "$AR_TMP/antireplay-lighttpd.conf"
echo "# lighttpd $AR_LIGHTTPD_PORT (pid $AR_LIGHTTPD_PID), app pids $AR_APP_PIDS"

# lighttpd caps the whole request header block at 8 KiB (the snippet keeps
# that default): the 6 KB + 4 KB of the other fronts gets 431 below.
ar_lighttpd_scenario

# Bodies over max_body: the app's JSON 413; over server.max-request-size
# (16 KiB): lighttpd's own 413 before the app, chunked or not. None of them
# touches the token.
sc_token
t=$SC_TOKEN
big=$(printf '%09000d' 0)
printf '%s' "{\"items\":[{\"sku\":\"SKU-5\",\"qty\":1}],\"customer\":\"$big\"}" >"$AR_TMP/9k.json"
sc_order "$t" "$(cat "$AR_TMP/9k.json")"
check_status "a body over max_body" 413 body_too_large
ar_http POST "$AR_BASE/orders" -H 'Transfer-Encoding: chunked' -H "Idempotency-Key: $t" \
	-H 'Content-Type: application/json' --data-binary @"$AR_TMP/9k.json"
check_status "a chunked body over max_body" 413 body_too_large
huge=$(printf '%020000d' 0)
printf '%s' "{\"items\":[{\"sku\":\"SKU-5\",\"qty\":1}],\"customer\":\"$huge\"}" >"$AR_TMP/20k.json"
# lighttpd_status ARGS...: status and Content-Type of a request that
# lighttpd answers itself (not through ar_http: its error pages carry no
# Cache-Control, which check_every_response would count against the app).
lighttpd_status() {
	"$CURL" -s -o /dev/null -D "$AR_TMP/lt.head" -w '%{http_code} %{content_type}' \
		-H 'Expect:' "$@"
}
check "a body over server.max-request-size: lighttpd's 413" "413 text/html" \
	"$(lighttpd_status -H "Idempotency-Key: $t" -H 'Content-Type: application/json' \
		--data-binary @"$AR_TMP/20k.json" "$AR_URL$AR_BASE/orders")"
check "a chunked body over server.max-request-size: lighttpd's 413" "413 text/html" \
	"$(lighttpd_status -H 'Transfer-Encoding: chunked' -H "Idempotency-Key: $t" \
		-H 'Content-Type: application/json' --data-binary @"$AR_TMP/20k.json" \
		"$AR_URL$AR_BASE/orders")"
sc_order "$t" '{"items":[{"sku":"SKU-5","qty":1}]}'
check_status "the token still works after the 413s" 201

# lighttpd passes a header with '_' in its name (nginx and Apache drop it):
# Idempotency_Key arrives as HTTP_IDEMPOTENCY_KEY. With the dashed one as
# well, the app sees the parameter twice and refuses (fail closed).
sc_token
t=$SC_TOKEN
sc_order "$t" '{"items":[{"sku":"SKU-5","qty":1}]}' -H "Idempotency_Key: $t"
check_status "Idempotency-Key plus Idempotency_Key" 400 malformed_token
ar_http POST "$AR_BASE/orders" -H "Idempotency_Key: $t" -H 'Content-Type: application/json' \
	--data-binary '{"items":[{"sku":"SKU-5","qty":1}]}'
check_status "Idempotency_Key alone reaches the app as HTTP_IDEMPOTENCY_KEY" 201

check_every_response

pad=$(printf '%06144d' 0)
cookie=$(printf '%04094d' 0)
check "a 6 KB header and a 4 KB Cookie (over 8 KiB in all): lighttpd's 431" "431 text/html" \
	"$(lighttpd_status -H "X-Padding: $pad" -H "Cookie: c=$cookie" "$AR_URL$AR_BASE/healthz")"

# A stuck pool: every worker stopped. "read-timeout" => 5 gives a 504
# (lighttpd checks timeouts once a second: measured 7 s), not a hang: after
# the read-timeout, and under 30 s whatever the machine (without it
# lighttpd would wait for ever; curl gives up after 60 s).
for pid in $AR_APP_PIDS; do kill -STOP "$pid"; done
t0=$(ar_now_ms)
code=$("$CURL" -s -o /dev/null -m 60 -w '%{http_code}' "$AR_URL$AR_BASE/healthz")
ms=$(($(ar_now_ms) - t0))
for pid in $AR_APP_PIDS; do kill -CONT "$pid"; done
check "all workers stuck: 504" 504 "$code"
if [ "$ms" -ge 4500 ] && [ "$ms" -lt 30000 ]; then
	ok "the 504 came after the read-timeout ($ms ms)"
else
	not_ok "the 504 came after $ms ms, not 5..30 s"
fi
ar_http GET "$AR_BASE/healthz"
check_status "served again once the workers run" 200

check "all 4 app processes still running" 4 "$(ar_count_alive $AR_APP_PIDS)"
check "no backend errors in lighttpd's error log but the one read timeout" "" \
	"$(grep -E 'gw_backend|mod_fastcgi' "$AR_LIGHTTPD_DIR/error.log" |
		grep -v 'read timeout on socket' | head -n 3)"
check "one read timeout logged" 1 "$(grep -c 'read timeout on socket' "$AR_LIGHTTPD_DIR/error.log")"

ar_done
