#!/bin/sh
# test_fault_client: web-server connections that misbehave, spoken at the
# app socket by hand (fcgi_raw.pl from lib.sh), with ONE worker so that a
# held worker shows at once:
#  - half a body, then nothing (connection kept open): the stalled request
#    is answered 400 incomplete_body after client_timeout_ms (1000), the
#    worker serves the next request, and the stalled request's token is
#    untouched (a full submission with it later is a 201, not a replay);
#  - a whole request whose answer is never read: the worker serves the
#    next request.
# Bounds: client_timeout_ms + libfcgi's lingering close (its
# LIBFCGI_OS_CLOSE_POLL_TIMEOUT, 2000 ms: after answering, libfcgi waits
# up to that long for the peer to close) + 1000 ms margin.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/lib.sh"

ar_require "$CGI_FCGI" "$(command -v perl || true)"
ar_setup
ar_start_redis
CLIENT_TIMEOUT_MS=1000
# libfcgi's lingering close is bounded by client_timeout_ms too (the app sets
# LIBFCGI_OS_CLOSE_POLL_TIMEOUT), and ends at once after a failed read: a held
# worker is free within client_timeout_ms plus a margin.
LINGER_MS=0
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
# its timed events in $AR_TMP/NAME.events; RAW_PID, RAW_T0.
raw() {
	_name=$1
	shift
	RAW_T0=$(ar_now_ms)
	perl "$AR_TMP/fcgi_raw.pl" "$AR_APP_SOCK" "$@" 2>"$AR_TMP/$_name.err" |
		stamp "$RAW_T0" >"$AR_TMP/$_name.events" &
	RAW_PID=$!
}
# next_request DESC LIMIT_MS: while the raw client holds its connection, a
# second request (GET /healthz) must be served within LIMIT_MS of the raw
# client's start.
next_request() {
	sleep 0.2
	ar_fcgi GET /healthz
	_dt=$(($(ar_now_ms) - RAW_T0))
	echo "# $1: the next request was served $_dt ms after the stalled one began"
	check "$1: the next request is served" 200 "$AR_STATUS"
	if [ "$_dt" -lt "$2" ]; then
		ok "$1: the worker was free again after $_dt ms (limit $2)"
	else
		not_ok "$1: the worker was held $_dt ms (limit $2)"
	fi
}

# --- a control: the raw client's full request works ---
ar_token
T0=$AR_TOKEN
raw control full 1 "{\"items\":[{\"sku\":\"A\",\"qty\":1}],\"token\":\"$T0\"}"
wait $RAW_PID
check "control: a full raw request is answered 201" 1 "$(grep -c ' status 201$' "$AR_TMP/control.events")"
check "control: stock 99" 99 "$(ar_redis GET ar:stock:A)"

# --- half a body, then nothing ---
ar_token
T1=$AR_TOKEN
BODY1="{\"items\":[{\"sku\":\"A\",\"qty\":2}],\"token\":\"$T1\"}"
raw half half 6 "$BODY1"
next_request "half a body" $((CLIENT_TIMEOUT_MS + LINGER_MS + 1000))
wait $RAW_PID
sed 's/^/#   half: /' "$AR_TMP/half.events"
st=$(sed -n 's/^\([0-9]*\) status \([0-9]*\)$/\1 \2/p' "$AR_TMP/half.events")
check "half a body: the stalled request is answered 400" 400 "${st#* }"
check_contains "half a body: incomplete_body" '"error":"incomplete_body"' "$(cat "$AR_TMP/half.events")"
ms=${st% *}
if [ -n "$ms" ] && [ "$ms" -ge $((CLIENT_TIMEOUT_MS - 100)) ] && [ "$ms" -lt $((CLIENT_TIMEOUT_MS + 1000)) ]; then
	ok "half a body: answered after $ms ms (client_timeout_ms $CLIENT_TIMEOUT_MS)"
else
	not_ok "half a body: answered after '${ms}' ms, not about client_timeout_ms ($CLIENT_TIMEOUT_MS)"
fi
check "half a body: nothing ordered (stock, stream length)" "99 1" "$(ar_redis GET ar:stock:A) $(ar_redis XLEN ar:orders)"
ar_fcgi POST /orders "$BODY1"
check "half a body: the token is untouched: a full submission is a 201, not a replay" "201 " \
	"$AR_STATUS $(ar_header Idempotent-Replayed)"
check "half a body: stock moved once, by the full submission" 97 "$(ar_redis GET ar:stock:A)"

# --- a whole request, the answer never read ---
ar_token
T2=$AR_TOKEN
BODY2="{\"items\":[{\"sku\":\"A\",\"qty\":3}],\"token\":\"$T2\"}"
raw noread noread 6 "$BODY2"
next_request "answer never read" $((CLIENT_TIMEOUT_MS + LINGER_MS + 1000))
wait $RAW_PID
check "answer never read: the order was still made" 94 "$(ar_redis GET ar:stock:A)"
ar_fcgi POST /orders "$BODY2"
check "answer never read: the retry replays it" "201 true" "$AR_STATUS $(ar_header Idempotent-Replayed)"

# --- measured only: half a PARAMS record, then nothing (see the report) ---
raw params params 3 ""
sleep 0.2
ar_fcgi GET /healthz
echo "# half a params record: the next request was served $(($(ar_now_ms) - RAW_T0)) ms" \
	"after the stalled one began (status $AR_STATUS; the raw client held 3000 ms)"
wait $RAW_PID

check "the one worker is still the same process" "$PID0" "$AR_APP_PIDS"
ar_alive "$PID0" && ok "the worker is alive" || not_ok "the worker died"
ar_done
