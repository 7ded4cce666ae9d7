#!/bin/sh
# test_fault_redis: Redis misbehaving under a running app.
#  - SCRIPT FLUSH over and over while 4 clients take tokens and order:
#    every answer is 201 (NOSCRIPT is handled), and the accounting is exact.
#  - Redis slowed (DEBUG SLEEP 5, then CLIENT PAUSE 5000): requests answer
#    503 within redis_timeout_ms (300) + 4500 ms, no worker stays stuck,
#    service resumes by itself (the first request once Redis answers again
#    is served), and an order sent during the slowness and retried
#    afterwards with its token gives exactly one order.
#  - Redis full (filler keys, then maxmemory just under use; noeviction): POST /tokens and
#    POST /orders answer 503 unavailable, the log says why, no worker dies,
#    and service resumes when memory frees.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/lib/faults.sh"

ar_require "$CGI_FCGI"
ar_setup
ar_start_redis "enable-debug-command local" "maxmemory-policy noeviction"
TIMEOUT_MS=300
WORKERS=4
# The SCRIPT FLUSH phase checks that NOSCRIPT costs no answer: its workers
# wait for Redis as long as the config allows (60 s), so that a machine
# slow enough for a call to take over 300 ms (seen under a sanitizer build
# sharing a loaded core) does not turn into a timeout's 503. The later
# phases run with redis_timeout_ms = 300.
ar_write_config redis_timeout_ms=60000 token_rate=0 log_level=info
ar_start_app $WORKERS
PIDS0=$AR_APP_PIDS

ORDER='{"items":[{"sku":"A","qty":1}]}'

# ---------------------------------------------------------------------------
# SCRIPT FLUSH under load
FA0=10000
FB0=10000
ar_fault_stock $FA0 $FB0
D=$AR_TMP/flush
mkdir -p "$D"
# Until the clients are done (-r -1: for ever), however long they take.
"$REDIS_CLI" -s "$AR_TMP/redis.sock" -r -1 -i 0.002 SCRIPT FLUSH >"$D/flushes" 2>&1 &
FLUSHER=$!
ar_track $FLUSHER
t0=$(ar_now_ms)
pids=""
for c in 1 2 3 4; do
	ar_order_client "$D" $c 25 &
	pids="$pids $!"
done
wait $pids
dt=$(($(ar_now_ms) - t0))
kill $FLUSHER 2>/dev/null
wait $FLUSHER 2>/dev/null
ar_untrack $FLUSHER
flushes=$(grep -c '^OK' "$D/flushes")
noscript=$(grep -c 'NOSCRIPT for' "$AR_TMP/app.log")
echo "# SCRIPT FLUSH: $flushes flushes during $dt ms of load; $noscript NOSCRIPT reloads logged"
if [ "$flushes" -gt 10 ] && [ "$noscript" -gt 0 ]; then
	ok "SCRIPT FLUSH ran under the load ($flushes times) and the app met NOSCRIPT ($noscript times)"
else
	not_ok "SCRIPT FLUSH did not meet the load ($flushes flushes, $noscript NOSCRIPT)"
fi
ar_fault_account "$D" $FA0 $FB0 "SCRIPT FLUSH"
other=$(awk '$4 != 201 || ($1 == "order" && $5 != "no")' "$D/all.answers")
check "SCRIPT FLUSH: every answer was a 201 at the first try (no 5xx, no replay)" "" "$other"
check_alive "SCRIPT FLUSH: the $WORKERS workers are alive (same PIDs)" $PIDS0
ar_stop_app
ar_write_config redis_timeout_ms=$TIMEOUT_MS token_rate=0 log_level=info
ar_start_app $WORKERS
PIDS0=$AR_APP_PIDS

# ---------------------------------------------------------------------------
# Redis slowed: DEBUG SLEEP, then CLIENT PAUSE
ar_redis SET ar:stock:A 100 >/dev/null

# slow ROUND READY COMMAND...: Redis made unresponsive for SLOW_MS by
# COMMAND (sent in the background); once READY says the slowness is on, one
# request per worker, each timed; an order among them with a fresh token,
# retried after the slowness. SLOW_MS is many times what a request needs on
# a slow machine to reach Redis and time out (redis_timeout_ms), so that
# each one meets the slowness.
SLOW_MS=5000
# A request against an unresponsive Redis must be answered (503) before a
# web server gives up on it and answers 504 itself: the shipped configs
# (conf/nginx, conf/apache, conf/lighttpd) wait 5 s with redis_timeout_ms
# 500, i.e. redis_timeout_ms + 4500 ms.
ANSWER_MS=$((TIMEOUT_MS + 4500))
# shellcheck disable=SC2317 # called through ar_wait_until
redis_asleep() { # DEBUG SLEEP: Redis's main thread sleeps (Linux /proc)
	case $(cat "/proc/$AR_REDIS_PID/wchan" 2>/dev/null) in
	*nanosleep*) return 0 ;;
	esac
	return 1
}
# shellcheck disable=SC2317 # called through ar_wait_until
pause_answered() { # CLIENT PAUSE: on from the moment Redis answered it
	[ "$(cat "$AR_TMP/slow.$_round.out" 2>/dev/null)" = OK ]
}
# shellcheck disable=SC2317 # called through ar_wait_until
redis_answers() {
	ar_redis PING 2>/dev/null | grep -q PONG
}
# shellcheck disable=SC2317 # called through ar_wait_until
served_all() { # every worker has served a GET /stock since line _mark
	_served=$(sed -n "$((_mark + 1)),\$p" "$AR_TMP/app.log" |
		sed -n 's/.*\[\([0-9][0-9]*\)\].*GET stock 200.*/\1/p' | sort -u | tr '\n' ' ')
	_missing=""
	for _p in $PIDS0; do
		case " $_served " in *" $_p "*) ;; *) _missing="$_missing $_p" ;; esac
	done
	[ -z "$_missing" ]
}
# shellcheck disable=SC2317 # called through ar_wait_until
one_more() { # one GET /stock/A; then: has every worker served one?
	ar_fcgi GET /stock/A
	_n=$((_n + 1))
	[ "$AR_STATUS" != 200 ] || _good=$((_good + 1))
	served_all
}
slow() {
	_round=$1 _ready=$2
	shift 2
	ar_token
	_tok=$AR_TOKEN
	_stock0=$(ar_stock A)
	_n0=$(ar_xlen)
	_t0=$(ar_now_ms)
	"$REDIS_CLI" -s "$AR_TMP/redis.sock" "$@" >"$AR_TMP/slow.$_round.out" 2>&1 &
	_slower=$!
	ar_track $_slower
	ar_wait_until 600 "$_ready" || echo "# $_round: Redis not seen slowed ($_ready) in 60 s"
	echo "# $_round: Redis slowed $(($(ar_now_ms) - _t0)) ms after the command was started"
	_pids=""
	for _r in "POST /orders" "POST /tokens" "GET /healthz" "GET /stock/A"; do
		_f=$AR_TMP/slow.$_round.$(echo "$_r" | tr ' /' '__')
		(
			_s=$(ar_now_ms)
			# shellcheck disable=SC2086 # METHOD PATH
			ar_fcgi_to "$_f" $_r "$([ "$_r" = "POST /orders" ] && echo "$ORDER")" \
				"HTTP_IDEMPOTENCY_KEY=$_tok"
			echo $(($(ar_now_ms) - _s)) >"$_f.ms"
		) &
		_pids="$_pids $!"
	done
	wait $_pids
	for _r in "POST /orders" "POST /tokens" "GET /healthz" "GET /stock/A"; do
		_f=$AR_TMP/slow.$_round.$(echo "$_r" | tr ' /' '__')
		ar_parse "$_f"
		_ms=$(cat "$_f.ms")
		echo "# $_round: $_r answered $AR_STATUS in $_ms ms"
		check "$_round: $_r: 503 with Retry-After: 1" "503 1" "$AR_STATUS $(ar_header Retry-After)"
		if [ "$_ms" -lt "$ANSWER_MS" ]; then
			ok "$_round: $_r answered in $_ms ms (< redis_timeout_ms + 4500)"
		else
			not_ok "$_round: $_r took $_ms ms (limit $ANSWER_MS)"
		fi
	done
	# Service resumes by itself: once Redis answers again (this PING waits
	# for the end of the slowness), the very next request is served.
	ar_wait_until 600 redis_answers || echo "# $_round: Redis does not answer PING after 60 s"
	ar_fcgi GET /healthz
	_back=$(($(ar_now_ms) - _t0))
	echo "# $_round: service back ${_back} ms after the slowness began ($SLOW_MS ms)"
	check "$_round: service resumed by itself (the first request once Redis answers)" 200 "$AR_STATUS"
	wait $_slower 2>/dev/null
	ar_untrack $_slower
	check "$_round: the slowing command itself" OK "$(cat "$AR_TMP/slow.$_round.out")"
	check_alive "$_round: the $WORKERS workers are alive (same PIDs)" $PIDS0
	# Every worker answers again: requests until each one of them shows up
	# in the log (at most 100: the kernel hands connections to the waiting
	# workers in turn, so a few rounds do), every one of them a 200.
	_mark=$(wc -l <"$AR_TMP/app.log")
	_n=0 _good=0
	ar_wait_until 100 one_more
	check "$_round: $_n requests afterwards, all 200" "$_n" "$_good"
	check "$_round: every worker served requests afterwards (none stuck)" "" "$_missing"
	# The order sent during the slowness, retried with its token.
	ar_fcgi POST /orders "$ORDER" "HTTP_IDEMPOTENCY_KEY=$_tok"
	check "$_round: the retry of the order sent during the slowness" 201 "$AR_STATUS"
	_oid=$(ar_json_get order_id)
	echo "# $_round: the retry was $([ "$(ar_header Idempotent-Replayed)" = true ] && echo "a replay (the script had run)" || echo "the first run")"
	ar_fcgi POST /orders "$ORDER" "HTTP_IDEMPOTENCY_KEY=$_tok"
	check "$_round: a second retry replays the same order" "201 true $_oid" \
		"$AR_STATUS $(ar_header Idempotent-Replayed) $(ar_json_get order_id)"
	check "$_round: exactly one order in the stream" $((_n0 + 1)) "$(ar_xlen)"
	check "$_round: stock moved once" $((_stock0 - 1)) "$(ar_stock A)"
}
slow "DEBUG SLEEP $((SLOW_MS / 1000))" redis_asleep DEBUG SLEEP $((SLOW_MS / 1000))
slow "CLIENT PAUSE $SLOW_MS" pause_answered CLIENT PAUSE $SLOW_MS

# ---------------------------------------------------------------------------
# Redis full: noeviction, maxmemory just under use (filler keys)
ar_token
T3=$AR_TOKEN
stock0=$(ar_stock A)
n0=$(ar_xlen)
# 16 filler keys of 64 KiB, then maxmemory just under the memory in use:
# deleting the fillers brings Redis back under it.
awk 'BEGIN { while (i++ < 65536) printf "x" }' >"$AR_TMP/filler"
i=0
while [ $i -lt 16 ]; do
	ar_redis -x SET "filler:$i" <"$AR_TMP/filler" >/dev/null
	i=$((i + 1))
done
used=$(ar_redis INFO memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p')
ar_redis CONFIG SET maxmemory $((used - 65536)) >/dev/null
echo "# full: used_memory $used with 16 filler keys of 64 KiB, maxmemory $((used - 65536)), noeviction"
check_match "full: Redis refuses writes (OOM)" OOM "$(ar_redis SET probe 1 2>&1)"
mark=$(wc -l <"$AR_TMP/app.log")
for w in 1 2 3 4 5 6; do
	ar_fcgi POST /tokens
	[ "$AR_STATUS" = 503 ] || break
done
check_error "full: POST /tokens (6 times)" 503 unavailable
check "full: Retry-After" 1 "$(ar_header Retry-After)"
ar_fcgi POST /orders "$ORDER" "HTTP_IDEMPOTENCY_KEY=$T3"
check_error "full: POST /orders" 503 unavailable
check "full: no order stored" "$n0 $stock0" "$(ar_xlen) $(ar_stock A)"
ar_fcgi GET /stock/A
check "full: reads still served (GET /stock/A)" 200 "$AR_STATUS"
ar_fcgi GET /healthz
echo "# full: GET /healthz answers $AR_STATUS"
logline=$(sed -n "$((mark + 1)),\$p" "$AR_TMP/app.log" |
	grep -c 'Redis is out of memory (maxmemory reached, noeviction)')
if [ "$logline" -gt 0 ]; then ok "full: the log says Redis is out of memory ($logline lines)"; else not_ok "full: no out-of-memory line in the log"; fi
check_alive "full: the $WORKERS workers are alive (same PIDs)" $PIDS0
# Memory frees: the filler keys go.
j=0
while [ $j -lt 16 ]; do
	ar_redis DEL "filler:$j" >/dev/null
	j=$((j + 1))
done
ar_token
check "freed: POST /tokens" 201 "$AR_STATUS"
ar_fcgi POST /orders "$ORDER" "HTTP_IDEMPOTENCY_KEY=$T3"
check "freed: the token refused while full now orders (not a replay)" "201 " \
	"$AR_STATUS $(ar_header Idempotent-Replayed)"
check "freed: one order, stock moved once" "$((n0 + 1)) $((stock0 - 1))" "$(ar_xlen) $(ar_stock A)"
ar_redis CONFIG SET maxmemory 0 >/dev/null
check_alive "freed: the $WORKERS workers are alive (same PIDs)" $PIDS0
check "the same worker PIDs throughout" "$PIDS0" "$AR_APP_PIDS"

ar_done
