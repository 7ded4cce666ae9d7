#!/bin/sh
# Process supervision: the app under spawn-fcgi -n + multiwatch (and under
# spawn-fcgi -n alone for one observable worker), driven with cgi-fcgi by
# concurrent loops of token + order requests.
#   a) kill -9 of a busy worker: multiwatch starts a new one that serves;
#      the only failed request is the one in flight on the killed worker;
#      every order is recorded exactly once.
#   b) SIGTERM to the supervisor under load: requests in flight complete,
#      every worker exits 0, multiwatch exits; a connection still queued in
#      the listen backlog is dropped unanswered (docs/operations.md).
#   c) SIGTERM to a worker in a slow request (Redis paused, or a slow
#      request body): the answer is complete, then the worker exits 0.
#   d) a client that hangs up mid-request does not kill the worker.
# Nothing here waits a fixed time for a state: a request is held inside its
# worker by CLIENT PAUSE WRITE on the private Redis (redis-cli still reads
# meanwhile; redis_timeout_ms is far above any pause) or by a request body
# held back in a FIFO, and the test acts only once /proc shows the worker
# inside the request (it blocks SIGTERM from accept to finish) or the
# signal pending in it. Times printed are information, not pass/fail.

. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/lib/supervision.sh"

ar_require "$CGI_FCGI" "$MULTIWATCH"
ar_setup
trap 'ar_kill_workers; ar_cleanup' EXIT
ar_start_redis
ar_write_config token_rate=0 redis_timeout_ms=60000 log_level=info

STOCK=1000000
ORDER='{"items":[{"sku":"SKU-1","qty":1}]}'
LEN=$(printf '%s' "$ORDER" | wc -c)
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

# sv_order_client TOKEN OUT [< BODY]: a POST /orders straight from cgi-fcgi
# (no subshell), so that $! is the client itself and can be killed.
sv_order_client() {
	env -i REQUEST_METHOD=POST REQUEST_URI=/orders SCRIPT_NAME=/orders \
		CONTENT_TYPE=application/json CONTENT_LENGTH="$LEN" REMOTE_ADDR=127.0.0.1 \
		HTTP_IDEMPOTENCY_KEY="$1" "$AR_TIMEOUT" 60 "$CGI_FCGI" -bind -connect "$AR_APP_SOCK" \
		>"$2" 2>/dev/null
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

# sv_load_since MIN SINCE_MS: the loops have logged MIN requests started
# after SINCE_MS.
sv_load_since() {
	[ "$(cat "$AR_TMP"/load.* | awk -v t="$2" '$2 > t' | wc -l)" -ge "$1" ]
}

# sv_wait_load MIN SINCE_MS: waits (at most 60 s) for sv_load_since.
sv_wait_load() {
	ar_wait_until 600 sv_load_since "$@" ||
		echo "# the load logged fewer than $1 requests after $2 in 60 s"
}

# Holds every Redis command that may write (all of the app's scripts) until
# sv_unpause_redis: requests that reach Redis meanwhile stay in flight in
# their worker. The pause ends by itself after 60 s if a test dies.
sv_pause_redis() {
	ar_redis CLIENT PAUSE 60000 WRITE >/dev/null
}

sv_unpause_redis() {
	ar_redis CLIENT UNPAUSE >/dev/null
}

# sv_redis_holds_one: a worker's script waits in the paused Redis.
sv_redis_holds_one() {
	[ "$(ar_redis_blocked)" -ge 1 ]
}

# sv_stop_pending PID: multiwatch's USR1 or a SIGTERM waits in PID.
sv_stop_pending() {
	ar_signal_pending "$1" 10 || ar_signal_pending "$1" 15
}

# sv_queued: connections waiting in the pool socket's listen backlog (ss
# shows them as a listening socket's Recv-Q).
sv_queued() {
	ss -xlnH 2>/dev/null | awk -v s="$AR_APP_SOCK" '$5 == s { print $3 }'
}

sv_queued_at_least() {
	[ "$(sv_queued)" -ge "$1" ] 2>/dev/null
}

# sv_worker_serves DESC: the worker $W still runs (the same PID) and answers
# the next request, GET /healthz, with 200.
sv_worker_serves() {
	ar_fcgi GET /healthz ""
	if ar_alive "$W" && [ "$AR_STATUS" = 200 ]; then
		ok "$1: same worker ($W) alive, next request 200"
	else
		not_ok "$1: worker alive? $(ar_alive "$W" && echo yes || echo no), next request $AR_STATUS"
	fi
}

#### a) kill -9 a busy worker under load ####################################
ar_start_multiwatch 4
check "multiwatch runs 4 workers" 4 "$(ar_workers | wc -w)"
# ss shows a listening socket's backlog in Send-Q.
check "spawn-fcgi -b 8: listen backlog 8" 8 \
	"$(ss -xlnH 2>/dev/null | awk -v s="$AR_APP_SOCK" '$5 == s { print $4 }')"
OLD=$(ar_workers | tr '\n' ' ')
sv_start_load 6
sv_wait_load 40 0
# With Redis holding every script, the victim is killed inside a request.
VICTIM=${OLD%% *}
sv_pause_redis
ar_wait_until 600 ar_in_request "$VICTIM" ||
	echo "# worker $VICTIM did not take a request in 60 s"
T_KILL=$(now_ms)
kill -9 "$VICTIM"
sv_unpause_redis
NEW=""
T_SERVED=""
# Bounded at 60 s: how fast is information, printed below.
while [ -z "$T_SERVED" ] && [ "$(now_ms)" -lt $((T_KILL + 60000)) ]; do
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
done
if [ -n "$NEW" ] && [ -n "$T_SERVED" ]; then
	ok "a new worker ($NEW) served a request $((T_SERVED - T_KILL)) ms after kill -9 of $VICTIM"
else
	not_ok "no new worker served within 60 s of kill -9 (new worker: '${NEW:-none}')"
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
if [ "$FAILED" -eq 1 ]; then
	ok "one worker killed in a request: exactly that request failed"
else
	not_ok "one worker killed in a request, $FAILED failed requests:"
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
check "XLEN of the order stream = orders created ($CREATED)" "$CREATED" "$(ar_xlen)"
check "every order created is stored once" "$CREATED" \
	"$(sed 's/^/EXISTS ar:order:/' "$AR_TMP/orders" | ar_redis | grep -c '^1$')"
check "stock moved once per order" $((STOCK - CREATED)) "$(ar_stock SKU-1)"
check "metrics: created = $CREATED" "$CREATED" "$(ar_redis HGET ar:metrics created)"

#### b) SIGTERM to the supervisor under load ################################
kill -TERM "$AR_MW_PID"
wait "$AR_MW_PID"
ar_untrack "$AR_MW_PID"
ar_start_multiwatch 4
MW=$AR_MW_PID
WORKERS=$(ar_workers)
sv_start_load 4
sv_wait_load 20 0
# Redis holds every script: each loop's request is then inside a worker
# (4 loops, 4 workers), and one more connection waits in the backlog.
sv_pause_redis
ar_wait_until 600 ar_all ar_in_request $WORKERS ||
	echo "# not every worker took a request in 60 s"
sv_req "$AR_TMP/req.queued" POST /tokens "" >"$AR_TMP/queued" &
QUEUED=$!
ar_track "$QUEUED"
ar_wait_until 600 sv_queued_at_least 1 ||
	echo "# no connection in the listen backlog after 60 s (Recv-Q '$(sv_queued)')"
T_TERM=$(now_ms)
kill -TERM "$MW"
# multiwatch passes the stop on as USR1: let it reach every worker while
# its request is still held, then let Redis answer.
ar_wait_until 600 ar_all sv_stop_pending $WORKERS ||
	echo "# the stop signal did not reach every worker in 60 s"
sv_unpause_redis
GONE_MS=$(sv_wait_gone "$MW" 60000)
if ar_alive "$MW"; then
	not_ok "multiwatch still runs 60 s after SIGTERM"
	MW_RC=timeout
else
	wait "$MW"
	MW_RC=$?
	ar_untrack "$MW"
	ok "multiwatch exited $GONE_MS ms after SIGTERM (in-flight requests were held on Redis until every worker had the signal)"
fi
sv_stop_load
wait "$QUEUED"
ar_untrack "$QUEUED"
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
check "every request inside a worker at SIGTERM got a full 201" "" "$BEFORE_BAD"
check "no broken answer after SIGTERM either" 0 "$(awk '$4 == "broken"' "$AR_TMP/load.all" | wc -l)"
# What multiwatch does with the backlog: no worker accepts again once it
# has the signal, and the queue goes when the socket's last holder exits.
check "a connection queued in the backlog at SIGTERM is dropped unanswered (multiwatch)" none \
	"$(cut -d' ' -f1 "$AR_TMP/queued")"
check "the pool socket refuses connections once the pool is gone" none \
	"$(sv_req "$AR_TMP/req.x" GET /healthz "" | cut -d' ' -f1)"

#### c) SIGTERM to a worker in a slow request ###############################
ar_start_single
W=$AR_SINGLE_PID
ar_token
TOK=$AR_TOKEN
sv_pause_redis
(sv_req "$AR_TMP/req.c1" POST /orders "$ORDER" HTTP_IDEMPOTENCY_KEY="$TOK" >"$AR_TMP/c1") &
C1=$!
ar_wait_until 600 ar_in_request "$W" || echo "# worker $W did not take the request in 60 s"
T_TERM=$(now_ms)
kill -TERM "$W"
sv_unpause_redis
wait "$C1"
T_ANSWER=$(now_ms)
read -r state status tok oid rep <"$AR_TMP/c1"
check "SIGTERM during a request waiting on Redis: full 201 answer" "full 201" "$state $status"
check "that order is stored" 1 "$(ar_redis EXISTS "ar:order:$oid")"
GONE_MS=$(sv_wait_gone "$W" 30000)
wait "$W"
W_RC=$?
ar_untrack "$W"
check "then the worker exits 0" 0 "$W_RC"
echo "# c) answer $((T_ANSWER - T_TERM)) ms after SIGTERM, worker gone $GONE_MS ms after that"

# SIGTERM while the request body is still arriving: libfcgi does not retry
# reads on EINTR, so an app that let the signal in would see half a body.
# The body goes through a FIFO: its second half is written only once the
# worker is inside the request and has the signal.
ar_start_single
W=$AR_SINGLE_PID
ar_token
TOK=$AR_TOKEN
mkfifo "$AR_TMP/body.c2"
sv_order_client "$TOK" "$AR_TMP/req.c2" <"$AR_TMP/body.c2" &
C2=$!
exec 5>"$AR_TMP/body.c2"
printf '%s' "$ORDER" | head -c 10 >&5
ar_wait_until 600 ar_in_request "$W" || echo "# worker $W did not take the request in 60 s"
kill -TERM "$W"
printf '%s' "$ORDER" | tail -c +11 >&5
exec 5>&-
wait "$C2"
ar_parse "$AR_TMP/req.c2"
check "SIGTERM while the body arrives: the whole body is read, 201" \
	"full 201" "$(ar_response_state "$AR_TMP/req.c2") $AR_STATUS"
sv_wait_gone "$W" 30000 >/dev/null
wait "$W"
W_RC=$?
ar_untrack "$W"
check "then the worker exits 0" 0 "$W_RC"

# An idle worker exits at once. It has served one request (its handlers
# are in place) and waits in accept() when the signal comes; 10 s is the
# bound, far above what it takes (printed).
ar_start_single
W=$AR_SINGLE_PID
ar_fcgi GET /healthz ""
ar_wait_until 600 ar_idle_in_accept "$W" || echo "# worker $W not seen idle in accept in 60 s"
kill -TERM "$W"
GONE_MS=$(sv_wait_gone "$W" 10000)
W_ALIVE=$(ar_alive "$W" && echo yes || echo no)
if [ "$W_ALIVE" = no ]; then
	wait "$W"
	W_RC=$?
	ar_untrack "$W"
else
	W_RC="none (still running)"
fi
if [ "$W_RC" = 0 ]; then
	ok "an idle worker exits 0 on SIGTERM ($GONE_MS ms)"
else
	not_ok "idle worker on SIGTERM: exit $W_RC after $GONE_MS ms"
fi

#### d) clients that hang up mid-request ####################################
ar_start_single
W=$AR_SINGLE_PID
# d1: the client is gone before the answer is written (EPIPE / SIGPIPE):
# killed while its request waits on Redis, which then answers.
XLEN0=$(ar_xlen)
ar_token
TOK=$AR_TOKEN
printf '%s' "$ORDER" >"$AR_TMP/order.json"
sv_pause_redis
sv_order_client "$TOK" /dev/null <"$AR_TMP/order.json" &
D1=$!
ar_wait_until 600 sv_redis_holds_one || echo "# the order did not reach Redis in 60 s"
kill -9 "$D1"
wait "$D1" 2>/dev/null
sv_unpause_redis
sv_worker_serves "client killed before the answer"
# The order ran once Redis answered: its retry is a replay, and one order
# exists.
ar_fcgi POST /orders "$ORDER" HTTP_IDEMPOTENCY_KEY="$TOK"
check "its retry gets the recorded 201" "201 true" "$AR_STATUS $(ar_header Idempotent-Replayed)"
check "one order for that token" 1 $(($(ar_xlen) - XLEN0))

# d2: the client dies halfway through the body (held in a FIFO).
ar_token
TOK=$AR_TOKEN
mkfifo "$AR_TMP/body.d2"
sv_order_client "$TOK" /dev/null <"$AR_TMP/body.d2" &
D2=$!
exec 5>"$AR_TMP/body.d2"
printf '%s' "$ORDER" | head -c 10 >&5
ar_wait_until 600 ar_in_request "$W" || echo "# worker $W did not take the request in 60 s"
kill -9 "$D2"
wait "$D2" 2>/dev/null
exec 5>&-
sv_worker_serves "client killed mid-body"
ar_fcgi POST /orders "$ORDER" HTTP_IDEMPOTENCY_KEY="$TOK"
check "the half-sent order left its token unused: 201, not a replay" "201 " \
	"$AR_STATUS $(ar_header Idempotent-Replayed)"
# d3: multiwatch passes USR2 on to its workers; a worker ignores it. A
# default USR2 would end the worker before it accepts the next request.
kill -USR2 "$W"
sv_worker_serves "SIGUSR2 is ignored"
kill -TERM "$W"
sv_wait_gone "$W" 30000 >/dev/null
wait "$W"
W_RC=$?
ar_untrack "$W"
check "that worker still exits 0 on SIGTERM" 0 "$W_RC"

ar_done
