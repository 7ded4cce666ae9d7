#!/bin/sh
# test_fault_client: web-server connections that misbehave, spoken at the
# app socket by hand (fcgi_raw.pl from tests/lib/faults.sh), with ONE
# worker so that a held worker shows at once:
#  - half a body, then nothing (connection kept open): the stalled request
#    is answered 400 incomplete_body after client_timeout_ms (1000), the
#    worker serves the next request, and the stalled request's token is
#    untouched (a full submission with it later is a 201, not a replay);
#  - a whole request whose answer is never read: the worker serves the
#    next request.
# The raw clients hold their connections 120 s, longer than ar_fcgi waits
# (60 s): an answer to the next request at all shows that the worker, not
# the client, ended the stall. The bound on the time is what the app
# promises: client_timeout_ms for the read plus at most as long again for
# libfcgi's lingering close (the app caps LIBFCGI_OS_CLOSE_POLL_TIMEOUT at
# client_timeout_ms), plus SLACK_MS for a slow machine (sanitizers, one
# shared core); how long the worker was held after its answer is shown.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/lib/faults.sh"

ar_require "$CGI_FCGI" "$(command -v perl || true)"
ar_setup
ar_start_redis
CLIENT_TIMEOUT_MS=1000
# libfcgi's lingering close is bounded by client_timeout_ms too (the app sets
# LIBFCGI_OS_CLOSE_POLL_TIMEOUT), and ends at once after a failed read.
LINGER_MS=$CLIENT_TIMEOUT_MS
SLACK_MS=5000
HOLD=120
ar_write_config redis_timeout_ms=300 token_rate=0 client_timeout_ms=$CLIENT_TIMEOUT_MS log_level=info
ar_start_app 1
PID0=$AR_APP_PIDS
ar_write_fcgi_raw
ar_redis SET ar:stock:A 100 >/dev/null

# stamp T0: prefixes each line read with the milliseconds since T0.
stamp() {
	while IFS= read -r _l; do echo "$(($(ar_now_ms) - $1)) $_l"; done
}
# raw NAME MODE HOLD BODY [NAME=VALUE...]: fcgi_raw.pl in the background,
# its timed events in $AR_TMP/NAME.events (through a FIFO, so that RAW_PID
# is perl itself); RAW_NAME, RAW_PID, RAW_T0.
raw() {
	RAW_NAME=$1
	shift
	rm -f "$AR_TMP/$RAW_NAME.pipe"
	mkfifo "$AR_TMP/$RAW_NAME.pipe"
	: >"$AR_TMP/$RAW_NAME.events"
	RAW_T0=$(ar_now_ms)
	stamp "$RAW_T0" <"$AR_TMP/$RAW_NAME.pipe" >"$AR_TMP/$RAW_NAME.events" &
	RAW_STAMP_PID=$!
	perl "$AR_TMP/fcgi_raw.pl" "$AR_APP_SOCK" "$@" 2>"$AR_TMP/$RAW_NAME.err" \
		>"$AR_TMP/$RAW_NAME.pipe" &
	RAW_PID=$!
	ar_track "$RAW_PID"
}
# raw_event EVENT: the raw client has reported EVENT (sent, status, eof, ...).
raw_event() {
	grep -q "^[0-9]* $1" "$AR_TMP/$RAW_NAME.events"
}
# raw_at EVENT: when (ms after RAW_T0) the raw client reported EVENT (0
# when it did not).
raw_at() {
	_at=$(sed -n "s/^\([0-9]*\) $1.*/\1/p" "$AR_TMP/$RAW_NAME.events" | head -n 1)
	echo "${_at:-0}"
}
# raw_wait EVENT: waits (up to 60 s) until the raw client reports EVENT.
raw_wait() {
	ar_wait_until 600 raw_event "$1" ||
		echo "# $RAW_NAME: no '$1' from the raw client in 60 s"
}
# raw_end [SIGNAL]: ends the raw client (SIGNAL 0: waits for it to end by
# itself, at most 60 s), then its event stamper.
raw_end() {
	ar_stop_pid "$RAW_PID" "${1:-TERM}" 600
	wait "$RAW_STAMP_PID"
}
# next_request DESC: while the raw client holds its connection, a second
# request (GET /healthz) is served, and within the bound the app promises.
# It goes out once the raw request is queued ahead of it (the one worker
# takes connections in order). NEXT_AT: when it was served (ms after RAW_T0).
next_request() {
	raw_wait sent
	ar_fcgi GET /healthz
	NEXT_AT=$(($(ar_now_ms) - RAW_T0))
	_dt=$((NEXT_AT - $(raw_at sent)))
	_limit=$((CLIENT_TIMEOUT_MS + LINGER_MS + SLACK_MS))
	echo "# $1: the next request was served $_dt ms after the stalled one was sent"
	check "$1: the next request is served" 200 "$AR_STATUS"
	if [ "$_dt" -lt "$_limit" ]; then
		ok "$1: the worker was free again after $_dt ms (limit $_limit)"
	else
		not_ok "$1: the worker was held $_dt ms (limit $_limit)"
	fi
}

# --- a control: the raw client's full request works ---
ar_token
T0=$AR_TOKEN
raw control full $HOLD "{\"items\":[{\"sku\":\"A\",\"qty\":1}],\"token\":\"$T0\"}"
# The client stays connected for the rest of HOLD: ended once it has the
# whole answer.
raw_wait body
raw_end
check "control: a full raw request is answered 201" 1 "$(grep -c ' status 201$' "$AR_TMP/control.events")"
check "control: stock 99" 99 "$(ar_stock A)"

# --- half a body, then nothing ---
ar_token
T1=$AR_TOKEN
BODY1="{\"items\":[{\"sku\":\"A\",\"qty\":2}],\"token\":\"$T1\"}"
raw half half $HOLD "$BODY1"
next_request "half a body"
# The stalled request's answer came before the next one was served; the
# client reports it in full once the worker has closed.
raw_wait body
raw_end
sed 's/^/#   half: /' "$AR_TMP/half.events"
st=$(sed -n 's/^\([0-9]*\) status \([0-9]*\)$/\1 \2/p' "$AR_TMP/half.events")
check "half a body: the stalled request is answered 400" 400 "${st#* }"
check_contains "half a body: incomplete_body" '"error":"incomplete_body"' "$(cat "$AR_TMP/half.events")"
ms=${st% *}
echo "# half a body: the next request was served $((NEXT_AT - ${ms:-0})) ms after the stalled" \
	"one was answered (libfcgi's lingering close would hold the worker up to $LINGER_MS ms)"
# Not before client_timeout_ms (the worker cannot have started waiting
# before RAW_T0), and within the bound the app promises after the request
# was sent.
sent=$(raw_at sent)
if [ -n "$ms" ] && [ "$ms" -ge $((CLIENT_TIMEOUT_MS - 100)) ] &&
	[ "$((ms - sent))" -lt $((CLIENT_TIMEOUT_MS + SLACK_MS)) ]; then
	ok "half a body: answered after $ms ms (client_timeout_ms $CLIENT_TIMEOUT_MS)"
else
	not_ok "half a body: answered after '${ms}' ms (sent after $sent ms)," \
		"not about client_timeout_ms ($CLIENT_TIMEOUT_MS)"
fi
check "half a body: nothing ordered (stock, stream length)" "99 1" "$(ar_stock A) $(ar_xlen)"
ar_fcgi POST /orders "$BODY1"
check "half a body: the token is untouched: a full submission is a 201, not a replay" "201 " \
	"$AR_STATUS $(ar_header Idempotent-Replayed)"
check "half a body: stock moved once, by the full submission" 97 "$(ar_stock A)"

# --- a whole request, the answer never read ---
ar_token
T2=$AR_TOKEN
BODY2="{\"items\":[{\"sku\":\"A\",\"qty\":3}],\"token\":\"$T2\"}"
raw noread noread $HOLD "$BODY2"
next_request "answer never read"
raw_end
check "answer never read: the order was still made" 94 "$(ar_stock A)"
ar_fcgi POST /orders "$BODY2"
check "answer never read: the retry replays it" "201 true" "$AR_STATUS $(ar_header Idempotent-Replayed)"

# --- measured only: half a PARAMS record, then nothing (see the report) ---
raw params params 3 ""
raw_wait sent
ar_fcgi GET /healthz
echo "# half a params record: the next request was served $(($(ar_now_ms) - RAW_T0)) ms" \
	"after the stalled one began (status $AR_STATUS; the raw client held 3000 ms)"
raw_end 0

check "the one worker is still the same process" "$PID0" "$AR_APP_PIDS"
ar_alive "$PID0" && ok "the worker is alive" || not_ok "the worker died"
ar_done
