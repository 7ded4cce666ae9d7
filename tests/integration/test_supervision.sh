#!/bin/sh
# Process supervision: the app under spawn-fcgi -n + multiwatch (and under
# spawn-fcgi -n alone for one observable worker), driven with cgi-fcgi by
# concurrent loops of token + order requests.
#   a) kill -9 of a busy worker: multiwatch starts a new one that serves
#      within 2 s; the only failed request is the one in flight on the
#      killed worker; every order is recorded exactly once.
#   b) SIGTERM to the supervisor under load: requests in flight complete,
#      every worker exits 0, multiwatch exits, all within 5 s.
#   c) SIGTERM to a worker in a slow request (Redis paused, or a slow
#      request body): the answer is complete, then the worker exits 0.
#   d) a client that hangs up mid-request does not kill the worker.
# Slow requests come from CLIENT PAUSE on the private Redis, with
# redis_timeout_ms well above the pause.

. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"

ar_require "$CGI_FCGI" "$MULTIWATCH"
ar_setup
trap 'ar_kill_workers; ar_cleanup' EXIT
ar_start_redis
ar_write_config token_rate=0 redis_timeout_ms=3000 log_level=info

STOCK=1000000
ORDER='{"items":[{"sku":"SKU-1","qty":1}]}'
ar_redis SET ar:stock:SKU-1 "$STOCK" >/dev/null

now_ms() {
	date +%s%3N
}

# sv_req FILE METHOD URI [BODY] [VAR=VALUE...]: ar_fcgi_to, then prints
# "STATE STATUS TOKEN ORDER_ID REPLAYED" of the response.
sv_req() {
	ar_fcgi_to "$@"
	_state=$(ar_response_state "$1")
	LC_ALL=C awk -v state="$_state" '
		!body { line = $0; sub(/\r$/, "", line)
			if (line == "") { body = 1; next }
			if (line ~ /^Status: /) status = substr(line, 9, 3)
			if (line ~ /^Idempotent-Replayed: true/) replayed = "replayed"
			next }
		{ if (match($0, /"token":"[^"]*"/)) token = substr($0, RSTART + 9, RLENGTH - 10)
		  if (match($0, /"order_id":"[^"]*"/)) order = substr($0, RSTART + 12, RLENGTH - 13) }
		END { if (status == "") status = (state == "none") ? "000" : "200"
			printf "%s %s %s %s %s\n", state, status, token == "" ? "-" : token,
				order == "" ? "-" : order, replayed == "" ? "fresh" : replayed }' "$1"
}

# sv_loop ID MAX: token + order until $AR_TMP/stop exists or MAX rounds;
# one line per request in $AR_TMP/load.ID:
#   KIND START_MS END_MS STATE STATUS TOKEN ORDER_ID REPLAYED
sv_loop() {
	_id=$1
	_max=$2
	_f=$AR_TMP/req.$_id
	_n=0
	while [ ! -e "$AR_TMP/stop" ] && [ $_n -lt "$_max" ]; do
		_t0=$(now_ms)
		_r=$(sv_req "$_f" POST /tokens "")
		echo "T $_t0 $(now_ms) $_r"
		set -- $_r
		_tok=$3
		if [ "$1" = full ] && [ "$2" = 201 ]; then
			_t0=$(now_ms)
			_r=$(sv_req "$_f" POST /orders "$ORDER" HTTP_IDEMPOTENCY_KEY="$_tok")
			set -- $_r
			# The order's own line carries the token it was sent with.
			echo "O $_t0 $(now_ms) $1 $2 $_tok $4 $5"
		fi
		_n=$((_n + 1))
	done >"$AR_TMP/load.$_id"
}

# sv_start_load N: N loops in the background (at most 400 rounds each).
sv_start_load() {
	rm -f "$AR_TMP/stop" "$AR_TMP"/load.*
	SV_LOOPS=""
	_i=1
	while [ $_i -le "$1" ]; do
		sv_loop $_i 400 &
		SV_LOOPS="$SV_LOOPS $!"
		ar_track $!
		_i=$((_i + 1))
	done
}

sv_stop_load() {
	: >"$AR_TMP/stop"
	for _p in $SV_LOOPS; do
		wait "$_p"
		ar_untrack "$_p"
	done
	cat "$AR_TMP"/load.* >"$AR_TMP/load.all"
}

# sv_wait_gone PID MAX_MS: waits until PID is gone; prints the ms it took.
sv_wait_gone() {
	_t0=$(now_ms)
	_i=0
	while ar_alive "$1" && [ $_i -lt $(($2 / 20)) ]; do
		sleep 0.02
		_i=$((_i + 1))
	done
	echo $(($(now_ms) - _t0))
}

# sv_wait_load MIN SINCE_MS: waits (at most 10 s) until the loops have
# logged MIN requests started after SINCE_MS.
sv_wait_load() {
	_i=0
	while [ "$(cat "$AR_TMP"/load.* | awk -v t="$2" '$2 > t' | wc -l)" -lt "$1" ] &&
		[ $_i -lt 100 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
}

# Pauses every Redis client for MS milliseconds: requests that reach Redis
# meanwhile stay in flight in their worker.
sv_pause_redis() {
	ar_redis CLIENT PAUSE "$1" ALL >/dev/null
}

#### a) kill -9 a busy worker under load ####################################
ar_start_multiwatch 4
check "multiwatch runs 4 workers" 4 "$(ar_workers | wc -w)"
# ss shows a listening socket's backlog in Send-Q.
if command -v ss >/dev/null; then
	check "spawn-fcgi -b 8: listen backlog 8" 8 \
		"$(ss -xlnH 2>/dev/null | awk -v s="$AR_APP_SOCK" '$5 == s { print $4 }')"
fi
OLD=$(ar_workers | tr '\n' ' ')
sv_start_load 6
sv_wait_load 40 0
# With Redis paused every worker is inside a request: the victim has one.
sv_pause_redis 300
sleep 0.1
VICTIM=${OLD%% *}
T_KILL=$(now_ms)
kill -9 "$VICTIM"
NEW=""
T_SERVED=""
i=0
while [ -z "$T_SERVED" ] && [ $i -lt 150 ]; do
	if [ -z "$NEW" ]; then
		for w in $(ar_workers); do
			case " $OLD " in *" $w "*) ;; *) NEW=$w ;; esac
		done
	fi
	if [ -n "$NEW" ] && grep -q "antireplay-fcgi\[$NEW\] info: POST " "$AR_TMP/app.log"; then
		T_SERVED=$(now_ms)
	else
		sleep 0.02
	fi
	i=$((i + 1))
done
if [ -n "$NEW" ] && [ -n "$T_SERVED" ] && [ $((T_SERVED - T_KILL)) -le 2000 ]; then
	ok "a new worker ($NEW) served a request $((T_SERVED - T_KILL)) ms after kill -9 of $VICTIM"
else
	not_ok "no new worker served within 2 s of kill -9 (new worker: '${NEW:-none}')"
fi
sv_wait_load 40 "${T_SERVED:-0}"
sv_stop_load
check "4 workers again after the kill" 4 "$(ar_workers | wc -w)"
TOTAL=$(wc -l <"$AR_TMP/load.all")
FAILED=$(awk '!($4 == "full" && $5 == 201)' "$AR_TMP/load.all" | wc -l)
AFTER=$(awk -v t="$T_SERVED" '$2 > t && $4 == "full" && $5 == 201' "$AR_TMP/load.all" | wc -l)
echo "# a) $TOTAL requests, $FAILED failed, $AFTER succeeded after the new worker served"
if [ "$TOTAL" -ge 80 ] && [ "$AFTER" -ge 30 ]; then
	ok "the load ran: $TOTAL requests, $AFTER after the replacement served"
else
	not_ok "too little load: $TOTAL requests, $AFTER after the replacement"
fi
if [ "$FAILED" -le 1 ]; then
	ok "one worker killed, $FAILED failed request(s) (at most the one in flight)"
else
	not_ok "one worker killed, $FAILED failed requests:"
	awk '!($4 == "full" && $5 == 201) { print "#   " $0 }' "$AR_TMP/load.all"
fi
check "no broken (partial) answer" 0 "$(awk '$4 == "broken"' "$AR_TMP/load.all" | wc -l)"

# Exactly once: an order whose answer was lost is retried with its token,
# and gets its recorded outcome (or is created now if it never ran).
awk '$1 == "O" && $4 != "full" { print $6 }' "$AR_TMP/load.all" >"$AR_TMP/retry"
RETRIED=0
RETRY_BAD=""
for tok in $(cat "$AR_TMP/retry"); do
	r=$(sv_req "$AR_TMP/req.retry" POST /orders "$ORDER" HTTP_IDEMPOTENCY_KEY="$tok")
	echo "R 0 0 $r" >>"$AR_TMP/load.all"
	case $r in "full 201 "*) ;; *) RETRY_BAD="$RETRY_BAD [$r]" ;; esac
	RETRIED=$((RETRIED + 1))
done
check "retries of lost orders with the same token get 201 ($RETRIED retried)" "" "$RETRY_BAD"
awk '($1 == "O" || $1 == "R") && $4 == "full" && $5 == 201 { print $7 }' "$AR_TMP/load.all" |
	sort -u >"$AR_TMP/orders"
CREATED=$(wc -l <"$AR_TMP/orders")
FRESH_DUPS=$(awk '($1 == "O" || $1 == "R") && $5 == 201 && $8 == "fresh" { print $7 }' \
	"$AR_TMP/load.all" | sort | uniq -d | wc -l)
check "no order id answered fresh twice" 0 "$FRESH_DUPS"
check "XLEN of the order stream = orders created ($CREATED)" "$CREATED" "$(ar_redis XLEN ar:orders)"
check "every order created is stored once" "$CREATED" \
	"$(sed 's/^/EXISTS ar:order:/' "$AR_TMP/orders" | ar_redis | grep -c '^1$')"
check "stock moved once per order" $((STOCK - CREATED)) "$(ar_redis GET ar:stock:SKU-1)"
check "metrics: created = $CREATED" "$CREATED" "$(ar_redis HGET ar:metrics created)"

#### b) SIGTERM to the supervisor under load ################################
kill -TERM "$AR_MW_PID"
wait "$AR_MW_PID"
ar_untrack "$AR_MW_PID"
ar_start_multiwatch 4
MW=$AR_MW_PID
sv_start_load 4
sv_wait_load 20 0
# Every loop's request reaches a worker and waits there on Redis.
sv_pause_redis 500
sleep 0.2
T_TERM=$(now_ms)
kill -TERM "$MW"
GONE_MS=$(sv_wait_gone "$MW" 5000)
if ar_alive "$MW"; then
	not_ok "multiwatch still runs 5 s after SIGTERM"
	MW_RC=timeout
else
	wait "$MW"
	MW_RC=$?
	ar_untrack "$MW"
	ok "multiwatch exited $GONE_MS ms after SIGTERM (in-flight requests waited ~300 ms on Redis)"
fi
sv_stop_load
check "multiwatch exit status" 0 "$MW_RC"
check "4 workers recorded an exit status" 4 "$(wc -l <"$AR_TMP/exits" 2>/dev/null || echo 0)"
check "every worker exited 0" "" "$(awk '$2 != 0 { printf "[%s exit %s]", $1, $2 }' "$AR_TMP/exits")"
INFLIGHT=$(awk -v t="$T_TERM" '$2 < t && $3 > t' "$AR_TMP/load.all" | wc -l)
BEFORE_BAD=$(awk -v t="$T_TERM" '$2 < t && !($4 == "full" && $5 == 201)' "$AR_TMP/load.all")
LATE_FULL=$(awk -v t="$T_TERM" '$2 >= t && $4 == "full"' "$AR_TMP/load.all" | wc -l)
LATE_NONE=$(awk -v t="$T_TERM" '$2 >= t && $4 == "none"' "$AR_TMP/load.all" | wc -l)
echo "# b) $INFLIGHT requests in flight at SIGTERM; after it: $LATE_FULL answered, $LATE_NONE refused or dropped unanswered"
check "4 requests were in flight at SIGTERM" 4 "$INFLIGHT"
[ "$INFLIGHT" = 4 ] ||
	awk -v t="$T_TERM" '$3 > t - 1000 { print "#   " $1, $2 - t, $3 - t, $4, $5 }' "$AR_TMP/load.all"
check "every request started before SIGTERM got a full 201" "" "$BEFORE_BAD"
check "no broken answer after SIGTERM either" 0 "$(awk '$4 == "broken"' "$AR_TMP/load.all" | wc -l)"
check "the pool socket refuses connections once the pool is gone" none \
	"$(sv_req "$AR_TMP/req.x" GET /healthz "" | cut -d' ' -f1)"

#### c) SIGTERM to a worker in a slow request ###############################
ar_start_single
W=$AR_SINGLE_PID
ar_token
TOK=$AR_TOKEN
sv_pause_redis 600
(sv_req "$AR_TMP/req.c1" POST /orders "$ORDER" HTTP_IDEMPOTENCY_KEY="$TOK" >"$AR_TMP/c1") &
C1=$!
sleep 0.2
T_TERM=$(now_ms)
kill -TERM "$W"
wait "$C1"
T_ANSWER=$(now_ms)
read -r state status tok oid rep <"$AR_TMP/c1"
check "SIGTERM during a request waiting on Redis: full 201 answer" "full 201" "$state $status"
check "that order is stored" 1 "$(ar_redis EXISTS "ar:order:$oid")"
GONE_MS=$(sv_wait_gone "$W" 3000)
wait "$W"
W_RC=$?
ar_untrack "$W"
check "then the worker exits 0" 0 "$W_RC"
echo "# c) answer $((T_ANSWER - T_TERM)) ms after SIGTERM, worker gone $GONE_MS ms after that"

# SIGTERM while the request body is still arriving: libfcgi does not retry
# reads on EINTR, so an app that let the signal in would see half a body.
ar_start_single
W=$AR_SINGLE_PID
ar_token
TOK=$AR_TOKEN
LEN=$(printf '%s' "$ORDER" | wc -c)
{
	printf '%s' "$ORDER" | head -c 10
	sleep 0.6
	printf '%s' "$ORDER" | tail -c +11
} | env -i REQUEST_METHOD=POST REQUEST_URI=/orders SCRIPT_NAME=/orders \
	CONTENT_TYPE=application/json CONTENT_LENGTH="$LEN" REMOTE_ADDR=127.0.0.1 \
	HTTP_IDEMPOTENCY_KEY="$TOK" "$AR_TIMEOUT" 20 "$CGI_FCGI" -bind -connect "$AR_APP_SOCK" \
	>"$AR_TMP/req.c2" 2>/dev/null &
C2=$!
sleep 0.3
kill -TERM "$W"
wait "$C2"
ar_parse "$AR_TMP/req.c2"
check "SIGTERM while the body arrives: the whole body is read, 201" \
	"full 201" "$(ar_response_state "$AR_TMP/req.c2") $AR_STATUS"
sv_wait_gone "$W" 3000 >/dev/null
wait "$W"
W_RC=$?
ar_untrack "$W"
check "then the worker exits 0" 0 "$W_RC"

# An idle worker exits at once.
ar_start_single
W=$AR_SINGLE_PID
sleep 0.2
kill -TERM "$W"
GONE_MS=$(sv_wait_gone "$W" 3000)
wait "$W"
W_RC=$?
ar_untrack "$W"
if [ "$W_RC" = 0 ] && [ "$GONE_MS" -lt 1000 ]; then
	ok "an idle worker exits 0 on SIGTERM ($GONE_MS ms)"
else
	not_ok "idle worker on SIGTERM: exit $W_RC after $GONE_MS ms"
fi

#### d) clients that hang up mid-request ####################################
ar_start_single
W=$AR_SINGLE_PID
# d1: the client is gone before the answer is written (EPIPE / SIGPIPE).
XLEN0=$(ar_redis XLEN ar:orders)
ar_token
TOK=$AR_TOKEN
sv_pause_redis 500
# (In a subshell whose stderr is /dev/null: the shell reports the kill.)
(printf '%s' "$ORDER" | env -i REQUEST_METHOD=POST REQUEST_URI=/orders SCRIPT_NAME=/orders \
	CONTENT_TYPE=application/json CONTENT_LENGTH="$LEN" REMOTE_ADDR=127.0.0.1 \
	HTTP_IDEMPOTENCY_KEY="$TOK" "$AR_TIMEOUT" -s KILL 0.2 "$CGI_FCGI" -bind -connect "$AR_APP_SOCK" \
	>/dev/null) 2>/dev/null
sleep 0.5
ar_fcgi GET /healthz ""
if ar_alive "$W" && [ "$AR_STATUS" = 200 ]; then
	ok "client killed before the answer: same worker ($W) alive, next request 200"
else
	not_ok "client killed before the answer: worker alive? $(ar_alive "$W" && echo yes || echo no), next request $AR_STATUS"
fi
# Whether the order ran or not, its retry gets a 201 and one order exists.
ar_fcgi POST /orders "$ORDER" HTTP_IDEMPOTENCY_KEY="$TOK"
check "its retry gets 201 (replayed: '$(ar_header Idempotent-Replayed)')" 201 "$AR_STATUS"
check "one order for that token" 1 $(($(ar_redis XLEN ar:orders) - XLEN0))

# d2: the client dies halfway through the body.
ar_token
TOK=$AR_TOKEN
({
	printf '%s' "$ORDER" | head -c 10
	sleep 1
} | env -i REQUEST_METHOD=POST REQUEST_URI=/orders SCRIPT_NAME=/orders \
	CONTENT_TYPE=application/json CONTENT_LENGTH="$LEN" REMOTE_ADDR=127.0.0.1 \
	HTTP_IDEMPOTENCY_KEY="$TOK" "$AR_TIMEOUT" -s KILL 0.3 "$CGI_FCGI" -bind -connect "$AR_APP_SOCK" \
	>/dev/null) 2>/dev/null
ar_fcgi GET /healthz ""
if ar_alive "$W" && [ "$AR_STATUS" = 200 ]; then
	ok "client killed mid-body: same worker ($W) alive, next request 200"
else
	not_ok "client killed mid-body: worker alive? $(ar_alive "$W" && echo yes || echo no), next request $AR_STATUS"
fi
ar_fcgi POST /orders "$ORDER" HTTP_IDEMPOTENCY_KEY="$TOK"
check "the half-sent order left its token unused: 201, not a replay" "201 " \
	"$AR_STATUS $(ar_header Idempotent-Replayed)"
# d3: multiwatch passes USR2 on to its workers; a worker ignores it.
kill -USR2 "$W"
sleep 0.2
ar_fcgi GET /healthz ""
if ar_alive "$W" && [ "$AR_STATUS" = 200 ]; then
	ok "SIGUSR2 is ignored: same worker ($W) alive, next request 200"
else
	not_ok "SIGUSR2: worker alive? $(ar_alive "$W" && echo yes || echo no), next request $AR_STATUS"
fi
kill -TERM "$W"
sv_wait_gone "$W" 3000 >/dev/null
wait "$W"
W_RC=$?
ar_untrack "$W"
check "that worker still exits 0 on SIGTERM" 0 "$W_RC"

ar_done
