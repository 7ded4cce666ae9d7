#!/bin/sh
# The Lua scripts name their keys and arguments once and refuse a call
# that does not match, loudly (an error reply that says what each expects
# and what came) and before anything is read or written: a caller out of
# step with a script must fail the request, not shift every argument by
# one. Each script runs from lua/ by EVAL on a private redis-server; a
# call with the right counts is run too, so the guard refuses no good one.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/lib.sh"

ar_require "$REDIS_SERVER" "$REDIS_CLI"
ar_setup
ar_start_redis

# eval SCRIPT NUMKEYS KEYS... ARGS...: the reply, errors included
eval_script() {
	_src=$(cat "$(ar_lua "$1")")
	shift
	ar_redis EVAL "$_src" "$@" 2>&1
}

# refused DESCRIPTION PATTERN SCRIPT NUMKEYS ARGS...: an error reply that
# matches PATTERN, and Redis still empty
refused() {
	_desc=$1 _pat=$2
	shift 2
	check_match "$_desc: refused" "^ERR $1: expected .*; got $_pat" "$(eval_script "$@")"
	check "$_desc: nothing written" 0 "$(ar_redis DBSIZE)"
}

NOW=$(date +%s)
#### issue_token: 3 keys, 7 arguments #####################################
refused "issue_token, 2 keys" "2 keys and 8 arguments" \
	issue_token 2 ar:rate:x ar:tw:75:1 ar:metrics 0 600 '' f "$NOW" "$NOW" 37
refused "issue_token, 6 arguments" "3 keys and 6 arguments" \
	issue_token 3 ar:rate:x ar:tw:75:1 ar:metrics 0 600 '' f "$NOW" "$NOW"
refused "issue_token, 8 arguments" "3 keys and 8 arguments" \
	issue_token 3 ar:rate:x ar:tw:75:1 ar:metrics 0 600 '' f "$NOW" "$NOW" 37 extra
check "issue_token, the right counts: issued" "1
0" "$(eval_script issue_token 3 ar:rate:x ar:tw:75:1 ar:metrics 0 600 '' f \
	$((NOW + 3600)) "$(date +%s)" 37)"
ar_redis FLUSHDB >/dev/null

#### submit_order: 7 + w + n keys, 13 + 2n arguments ######################
# ARGS13 W: the 13 fixed arguments with w = W (keys = issued, no submit_rate)
args13() {
	printf '%s\n' id canon 60 replay 0d7f1a3e-0000-4000-8000-000000000001 '{}' "$1" f "$NOW" 37 \
		0 0 0d7f1a3e-0000-5000-8000-000000000002
}
S_KEYS="ar:t:f ar:t:f ar:order:x ar:orders ar:metrics ar:srate:a:x ar:order:y ar:tw:75:1"
# shellcheck disable=SC2046,SC2086
refused "submit_order, a stock key missing" "8 keys and 15 arguments" \
	submit_order 8 $S_KEYS $(args13 1) 1 A
# shellcheck disable=SC2046,SC2086
refused "submit_order, a quantity without its SKU" "9 keys and 14 arguments" \
	submit_order 9 $S_KEYS ar:stock:A $(args13 1) 1
# shellcheck disable=SC2046,SC2086
refused "submit_order, no line" "8 keys and 13 arguments" \
	submit_order 8 $S_KEYS $(args13 1)
# shellcheck disable=SC2046,SC2086
refused "submit_order, w = -1" "9 keys and 15 arguments" \
	submit_order 9 $S_KEYS ar:stock:A $(args13 -1) 1 A
# shellcheck disable=SC2046,SC2086
refused "submit_order, w not a number" "9 keys and 15 arguments" \
	submit_order 9 $S_KEYS ar:stock:A $(args13 w) 1 A
# shellcheck disable=SC2046,SC2086
check "submit_order, the right counts: runs (no such token)" "invalid_token" \
	"$(eval_script submit_order 9 $S_KEYS ar:stock:A $(args13 1) 1 A | head -n 1)"
ar_redis FLUSHDB >/dev/null

#### gate: 4 + w keys, 12 arguments ######################################
G_KEYS="ar:t:x ar:t:x ar:metrics ar:srate:x"
# args12 W: the 12 arguments of a reserve with w = W
args12g() {
	echo reserve alice /p 60 g 300 "$1" f "$(date +%s)" 37 0 0
}
refused "gate, a window key missing" "4 keys and 12 arguments" gate 4 $G_KEYS $(args12g 1)
refused "gate, 11 arguments" "5 keys and 11 arguments" \
	gate 5 $G_KEYS ar:tw:75:1 reserve alice /p 60 g 300 1 f "$NOW" 37 0
refused "gate, w not a number" "5 keys and 12 arguments" gate 5 $G_KEYS ar:tw:75:1 $(args12g w)
check "gate, the right counts: runs (no such token)" "invalid_token" \
	"$(eval_script gate 5 $G_KEYS ar:tw:75:1 $(args12g 1) | head -n 1)"
ar_redis FLUSHDB >/dev/null

#### drain_ack: 1 + n keys, 2 + m arguments ###############################
refused "drain_ack, no key" "0 keys and 2 arguments" drain_ack 0 antireplay-drain 60
refused "drain_ack, no TTL" "1 keys and 1 arguments" drain_ack 1 ar:orders antireplay-drain
check "drain_ack, the right counts: runs (no stream)" "0
0" "$(eval_script drain_ack 1 ar:orders antireplay-drain 60)"

#### drain_dead: 2 keys, 3 + 2n arguments #################################
refused "drain_dead, 1 key" "1 keys and 3 arguments" \
	drain_dead 1 ar:orders antireplay-drain 1-0 why
refused "drain_dead, a field without its value" "2 keys and 4 arguments" \
	drain_dead 2 ar:orders ar:orders:dead antireplay-drain 1-0 why order_id
refused "drain_dead, no reason" "2 keys and 2 arguments" \
	drain_dead 2 ar:orders ar:orders:dead antireplay-drain 1-0
ar_redis XGROUP CREATE ar:orders antireplay-drain '$' MKSTREAM >/dev/null
check "drain_dead, the right counts: runs (not pending: nothing sent)" "" \
	"$(eval_script drain_dead 2 ar:orders ar:orders:dead antireplay-drain 1-0 why k v)"

ar_done
