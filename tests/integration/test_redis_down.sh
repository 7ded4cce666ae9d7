#!/bin/sh
# test_redis_down: the scripts come back after SCRIPT FLUSH (NOSCRIPT), a
# Redis that hangs or is gone gives 503 unavailable quickly (before a web
# server would give up: see ANSWER_MS) without killing a worker, the retry
# after a timeout gets the recorded outcome (stock moves once), and service
# resumes when Redis is back, without restarting the app; a read-only
# replica is one outage, not one per request.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/lib.sh"

ar_require "$CGI_FCGI"
ar_setup
# Persistence, so what was stored before the outage is there after it.
ar_start_redis "appendonly yes" "appendfsync always"
# Far above what a write takes, an fsync on a busy disk included, so that
# only a hung Redis times out.
TIMEOUT_MS=1000
ar_write_config redis_timeout_ms=$TIMEOUT_MS token_rate=0
# A request against a hung or gone Redis must be answered (503) before a web
# server gives up on it and answers 504 itself: the shipped configs
# (conf/nginx, conf/apache, conf/lighttpd) wait 5 s with redis_timeout_ms
# 500, i.e. redis_timeout_ms + 4500 ms. The time taken is shown.
ANSWER_MS=$((TIMEOUT_MS + 4500))
WORKERS=4
ar_start_app $WORKERS
PIDS0=$AR_APP_PIDS
AR_AUDIT=1

ORDER='{"items":[{"sku":"A","qty":1}]}'

# timed DESC MAX_MS ar_fcgi-arguments...: one request; the response must be
# 503 unavailable with Retry-After: 1 within MAX_MS.
timed_unavailable() {
	_desc=$1 _max=$2
	shift 2
	_t0=$(ar_now_ms)
	ar_fcgi "$@"
	_dt=$(($(ar_now_ms) - _t0))
	check "$_desc: status" 503 "$AR_STATUS"
	check "$_desc: Retry-After" 1 "$(ar_header Retry-After)"
	if [ "$_dt" -lt "$_max" ]; then ok "$_desc: answered in ${_dt} ms"; else not_ok "$_desc: took ${_dt} ms (limit $_max)"; fi
	case "$1 $2" in
	"GET /healthz") check_contains "$_desc: body" '"status":"unavailable"' "$AR_BODY" ;;
	*) check_error "$_desc: body" 503 unavailable ;;
	esac
}

ar_redis SET ar:stock:A 100 >/dev/null
ar_fcgi GET /healthz
check "healthz before" 200 "$AR_STATUS"

# --- NOSCRIPT: the script cache flushed under the running app ---
ar_redis SCRIPT FLUSH >/dev/null
ar_token
T1=$AR_TOKEN
check "after SCRIPT FLUSH: POST /tokens" 201 "$AR_STATUS"
ar_redis SCRIPT FLUSH >/dev/null
ar_fcgi POST /orders "$ORDER" "HTTP_IDEMPOTENCY_KEY=$T1"
check "after SCRIPT FLUSH: POST /orders" 201 "$AR_STATUS"
check "after SCRIPT FLUSH: one order" 1 "$(ar_xlen)"
check "after SCRIPT FLUSH: stock" 99 "$(ar_stock A)"
ar_redis SCRIPT FLUSH >/dev/null
ar_fcgi POST /orders "$ORDER" "HTTP_IDEMPOTENCY_KEY=$T1"
check "after SCRIPT FLUSH: the replay" true "$(ar_header Idempotent-Replayed)"
# Every worker must survive its own NOSCRIPT: flush before each request.
i=0
while [ $i -lt 8 ]; do
	ar_redis SCRIPT FLUSH >/dev/null
	ar_token
	[ "$AR_STATUS" = 201 ] || break
	i=$((i + 1))
done
check "8 issuances, each after a SCRIPT FLUSH" 8 "$i"

# --- Redis hangs (SIGSTOP): timeouts, and the retry after one ---
ar_token
T2=$AR_TOKEN
stock0=$(ar_stock A)
n0=$(ar_xlen)
kill -STOP "$AR_REDIS_PID"
# The submission and three more requests at once, so that every worker
# meets the hung Redis (and drops its connection).
t0=$(ar_now_ms)
ar_fcgi_to "$AR_TMP/hung.orders" POST /orders "$ORDER" "HTTP_IDEMPOTENCY_KEY=$T2" &
p1=$!
ar_fcgi_to "$AR_TMP/hung.1" GET /healthz &
p2=$!
ar_fcgi_to "$AR_TMP/hung.2" POST /tokens &
p3=$!
ar_fcgi_to "$AR_TMP/hung.3" GET /stock/A &
p4=$!
wait $p1 $p2 $p3 $p4
dt=$(($(ar_now_ms) - t0))
kill -CONT "$AR_REDIS_PID"
if [ "$dt" -lt "$ANSWER_MS" ]; then ok "hung Redis: 4 requests answered in $dt ms"; else not_ok "hung Redis: 4 requests took $dt ms (limit $ANSWER_MS)"; fi
for f in hung.orders hung.1 hung.2 hung.3; do
	ar_parse "$AR_TMP/$f"
	check "hung Redis: $f status" 503 "$AR_STATUS"
	check "hung Redis: $f Retry-After" 1 "$(ar_header Retry-After)"
done
ar_parse "$AR_TMP/hung.orders"
check_error "hung Redis: the submission" 503 unavailable
check_alive "hung Redis: the $WORKERS workers are alive (same PIDs)" $PIDS0
# Redis may or may not have run the queued script once it woke up; the
# retry gets the created order either way, and stock moves exactly once.
ar_fcgi POST /orders "$ORDER" "HTTP_IDEMPOTENCY_KEY=$T2"
check "retry after the timeout" 201 "$AR_STATUS"
ar_fcgi POST /orders "$ORDER" "HTTP_IDEMPOTENCY_KEY=$T2"
check "second retry after the timeout: a replay" "201 true" "$AR_STATUS $(ar_header Idempotent-Replayed)"
check "after the timeout: exactly one order" $((n0 + 1)) "$(ar_xlen)"
check "after the timeout: stock moved once" $((stock0 - 1)) "$(ar_stock A)"

# --- Redis gone ---
ar_token
T3=$AR_TOKEN
check "a token issued before the outage" 201 "$AR_STATUS"
ar_fcgi POST /orders "$ORDER" "HTTP_IDEMPOTENCY_KEY=$T1"
OID1=$(ar_json_get order_id)
# Let every worker drop its connection (a hung Redis again, all at once),
# then stop Redis for good.
kill -STOP "$AR_REDIS_PID"
pids=""
for i in 1 2 3 4; do
	ar_fcgi_to "$AR_TMP/drop.$i" GET /healthz &
	pids="$pids $!"
done
wait $pids
kill -TERM "$AR_REDIS_PID"
kill -CONT "$AR_REDIS_PID"
ar_stop_redis
check "Redis is stopped" 1 "$(ar_alive "$AR_REDIS_PID" && echo 0 || echo 1)"

for round in 1 2; do
	timed_unavailable "down $round: POST /tokens" "$ANSWER_MS" POST /tokens
	timed_unavailable "down $round: POST /orders" "$ANSWER_MS" POST /orders "$ORDER" "HTTP_IDEMPOTENCY_KEY=$T3"
	timed_unavailable "down $round: GET /healthz" "$ANSWER_MS" GET /healthz
	timed_unavailable "down $round: GET /orders/{id}" "$ANSWER_MS" GET "/orders/$OID1"
	timed_unavailable "down $round: GET /stock/A" "$ANSWER_MS" GET /stock/A
	timed_unavailable "down $round: GET /metrics" "$ANSWER_MS" GET /metrics
done
ar_fcgi HEAD /healthz
check "down: HEAD /healthz" 503 "$AR_STATUS"
# Requests that never reach Redis are still answered as usual.
ar_fcgi POST /orders '{"items":[]}' "HTTP_IDEMPOTENCY_KEY=$T3"
check_error "down: a bad body is still a 400" 400 invalid_order
ar_fcgi GET /nope
check_error "down: unknown path still 404" 404 not_found
check_alive "Redis down: the $WORKERS workers are alive (same PIDs)" $PIDS0
# --- Redis back: no app restart ---
ar_restart_redis
ar_fcgi GET /healthz
check "back: the first request (healthz)" 200 "$AR_STATUS"
check "back: healthz body" '{"status":"ok"}' "$AR_BODY"
# The AOF kept the data; the script cache is empty (NOSCRIPT again).
ar_fcgi POST /orders "$ORDER" "HTTP_IDEMPOTENCY_KEY=$T3"
check "back: the token issued before the outage" 201 "$AR_STATUS"
check_not_replayed=$(ar_header Idempotent-Replayed)
check "back: that was not a replay" "" "$check_not_replayed"
ar_fcgi POST /orders "$ORDER" "HTTP_IDEMPOTENCY_KEY=$T1"
check "back: the order from before replays" "201 true" "$AR_STATUS $(ar_header Idempotent-Replayed)"
ar_count_tokens 8 201
check "back: 8 token requests, every one 201" 8 "$AR_COUNT"
check_alive "Redis back: the $WORKERS workers are alive (same PIDs)" $PIDS0
check "back: the same worker PIDs" "$PIDS0" "$AR_APP_PIDS"
ar_fcgi GET /metrics
check "back: metrics" 200 "$AR_STATUS"

# A Redis that takes the connection and its set-up but refuses every write
# (a replica, read-only): one outage for each worker, never over until
# Redis takes writes again (it once looked over at every connect, and
# began again at every request: two log lines each).
serving=$(grep -c 'serving again' "$AR_TMP/app.log")
ar_redis REPLICAOF 127.0.0.1 1 >/dev/null # nothing listens there
ar_count_tokens 8 503
check "read-only replica: 8 token requests, every one 503" 8 "$AR_COUNT"
check_contains "read-only replica: logged as an outage" "READONLY" "$(cat "$AR_TMP/app.log")"
check "read-only replica: the outage never seemed over" "$serving" \
	"$(grep -c 'serving again' "$AR_TMP/app.log")"
ar_redis REPLICAOF NO ONE >/dev/null
ar_token
check "a primary again: 201" 201 "$AR_STATUS"
check "and the outage is over" 1 \
	"$([ "$(grep -c 'serving again' "$AR_TMP/app.log")" -gt "$serving" ] && echo 1)"

ar_audit_report
ar_done
