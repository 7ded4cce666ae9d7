#!/bin/sh
# keys = client: Idempotency-Keys the client makes (the IETF draft's and
# Stripe's), through the real binary under spawn-fcgi and a private Redis.
#   a) first use creates; a repeat replays byte for byte; another payload
#      is token_reused; the same key of another identity is its own order;
#   b) the forms: 1 and 255 characters; 256, a comma, a space, non-ASCII
#      and control bytes refused; the quoted and bare forms are one key;
#      the body's token field; a UUID never issued is a client key, and
#      issued tokens keep working;
#   c) submit_rate: first uses past it get 429 with Retry-After and leave
#      the key unused; replays and refused attempts are not counted;
#      /metrics counts the refusals; without an identity a made-up key is
#      refused (it would have no scope);
#   d) keys expire: after result_ttl the key is new again (a new order id);
#   e) keys = client with bind = none is refused at config check; keys =
#      issued (the default) refuses a client's key as malformed_token.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/lib.sh"

ar_require "$REDIS_SERVER" "$SPAWN_FCGI" "$CGI_FCGI"
ar_setup
ar_start_redis
ar_write_config keys=client bind=header:X-User token_rate=0
ar_start_app 2
ar_redis SET ar:stock:A 1000 >/dev/null
ar_redis SET ar:stock:B 1000 >/dev/null
ORDER_A='{"items":[{"sku":"A","qty":1}]}'
ORDER_B='{"items":[{"sku":"B","qty":2}]}'

# order KEY [BODY] [VAR=VALUE...]: POST /orders as alice with that key
order() {
	_key=$1
	shift
	_body=${1:-$ORDER_A}
	[ $# -gt 0 ] && shift
	ar_fcgi POST /orders "$_body" HTTP_X_USER=alice HTTP_IDEMPOTENCY_KEY="$_key" "$@"
}

#### a) first use, replay, another payload, another identity ###############
order "msg-0001"
check "a fresh client key creates" 201 "$AR_STATUS"
FIRST=$AR_BODY
ID1=$(ar_json_get order_id)
check "stock A moved once" 999 "$(ar_stock A)"
order "msg-0001"
check "the same key again: replayed (the first status, Idempotent-Replayed)" "201 true" \
	"$AR_STATUS $(ar_header Idempotent-Replayed)"
check "the replay is the first answer byte for byte" "$FIRST" "$AR_BODY"
check "a replay moves no stock" 999 "$(ar_stock A)"
order "msg-0001" "$ORDER_B"
check_error "the same key, another payload" 422 token_reused
ar_fcgi POST /orders "$ORDER_A" HTTP_X_USER=bob HTTP_IDEMPOTENCY_KEY=msg-0001
check "bob's msg-0001 is his own order" 201 "$AR_STATUS"
check "bob's order is not alice's" 1 "$([ "$(ar_json_get order_id)" != "$ID1" ] && echo 1)"
check "one outcome key per identity, fixed length" 2 \
	"$(ar_redis --scan --pattern 'ar:k:*' | grep -cE '^ar:k:[A-Za-z0-9_-]{43}$')"
check "the stream holds the 2 orders" 2 "$(ar_xlen)"

#### b) the forms ###########################################################
K255=$(printf '%0255d' 7)
order "x" "$ORDER_A"
check "a 1-character key" 201 "$AR_STATUS"
order "$K255"
check "a 255-character key" 201 "$AR_STATUS"
order "${K255}8"
check_error "a 256-character key" 400 malformed_token
order "a,b"
check_error "a key with a comma" 400 malformed_token
order "a b"
check_error "a bare key with a space" 400 malformed_token
order "$(printf 'caf\303\251')"
check_error "a non-ASCII key" 400 malformed_token
order "$(printf 'a\001b')"
check_error "a key with a control byte" 400 malformed_token
order '"a\b"'
check_error "a quoted key with an unknown escape" 400 malformed_token
order '"quoted key, 1"'
check "a quoted key with a space and a comma" 201 "$AR_STATUS"
order '"quoted key, 1"'
check "the quoted key again: replayed" true "$(ar_header Idempotent-Replayed)"
order 'bare-and-quoted'
check "a bare key" 201 "$AR_STATUS"
BARE_ID=$(ar_json_get order_id)
order '"bare-and-quoted"'
check "its quoted form is the same key: replayed" "true $BARE_ID" \
	"$(ar_header Idempotent-Replayed) $(ar_json_get order_id)"
ar_fcgi POST /orders '{"items":[{"sku":"A","qty":1}],"token":"body-key-1"}' HTTP_X_USER=alice
check "the body's token field" 201 "$AR_STATUS"
ar_fcgi POST /orders '{"items":[{"sku":"A","qty":1}],"token":"body-key-1"}' HTTP_X_USER=alice
check "the body's key again: replayed" true "$(ar_header Idempotent-Replayed)"
NEVER=0d7f1a3e-0000-4000-8000-00000000abcd
order "$NEVER"
check "a UUID never issued is a client key" 201 "$AR_STATUS"
order "$(printf '%s' "$NEVER" | tr a-f A-F)"
check "its upper-case form: replayed" true "$(ar_header Idempotent-Replayed)"
NEVER2=0d7f1a3e-0000-4000-8000-00000000abce
order "\"$NEVER2\""
check "a quoted UUID never issued" 201 "$AR_STATUS"
order "$NEVER2"
check "its bare form: replayed" true "$(ar_header Idempotent-Replayed)"
ar_token HTTP_X_USER=alice
order "$AR_TOKEN"
check "an issued token still works" 201 "$AR_STATUS"
check "it left its window" "" "$(ar_pending "$AR_TOKEN")"
ar_token HTTP_X_USER=alice
ar_fcgi POST /orders "$ORDER_A" HTTP_X_USER=bob HTTP_IDEMPOTENCY_KEY="$AR_TOKEN"
check_error "alice's issued token sent by bob" 422 invalid_token

# Without an identity (no X-User) a made-up key has no scope: refused. A
# UUID never issued is then no client key either; an issued token is.
ar_fcgi POST /orders "$ORDER_A" HTTP_IDEMPOTENCY_KEY=msg-0001
check_error "a client key without an identity" 400 invalid_identity
ar_fcgi POST /orders "$ORDER_A" HTTP_IDEMPOTENCY_KEY=0d7f1a3e-0000-4000-8000-00000000abcf
check_error "a UUID never issued, without an identity" 422 invalid_token
ar_token
ar_fcgi POST /orders "$ORDER_A" HTTP_IDEMPOTENCY_KEY="$AR_TOKEN"
check "a token issued without an identity, used without one" 201 "$AR_STATUS"

#### c) submit_rate #########################################################
# submit_rate = 5. A fresh client, carol. Her counter's window is made an
# hour long after her first use, so no check depends on how fast the
# requests go. Replays of carol-1 in between cost nothing: carol-2..5 pass,
# carol-6 is refused, and refused attempts do not count either.
ar_stop_app
ar_write_config keys=client bind=header:X-User token_rate=0 submit_rate=5
ar_start_app 2
carol() { ar_fcgi POST /orders "$ORDER_A" HTTP_X_USER=carol HTTP_IDEMPOTENCY_KEY="$1"; }
carol carol-1
check "carol's first use" 201 "$AR_STATUS"
ar_redis EXPIRE ar:srate:i:carol 3600 >/dev/null
i=0
while [ $i -lt 6 ]; do
	carol carol-1
	[ "$(ar_header Idempotent-Replayed)" = true ] || break
	i=$((i + 1))
done
check "carol-1 replayed 6 times" 6 "$i"
i=2
while [ $i -le 5 ]; do
	carol "carol-$i"
	[ "$AR_STATUS" = 201 ] || break
	i=$((i + 1))
done
check "replays were not counted: carol-2..5 pass" 6 "$i"
KEYS5=$(ar_redis --scan --pattern 'ar:k:*' | wc -l)
STOCK5=$(ar_stock A)
carol carol-6
check_error "carol's 6th first use" 429 rate_limited
check_match "with Retry-After (the hour the window was given)" '^3[0-9]{3}$' \
	"$(ar_header Retry-After)"
carol carol-7
check_error "carol's 7th" 429 rate_limited
check "refused attempts are not counted" 5 "$(ar_redis GET ar:srate:i:carol)"
check "the refused keys stay unused, no stock moved" "$KEYS5 $STOCK5" \
	"$(ar_redis --scan --pattern 'ar:k:*' | wc -l) $(ar_stock A)"
ar_redis DEL ar:srate:i:carol >/dev/null
carol carol-6
check "carol-6 once her window is over: a new order, not a replay" "201 " \
	"$AR_STATUS $(ar_header Idempotent-Replayed)"
carol carol-3
check "a replay still answers" "201 true" "$AR_STATUS $(ar_header Idempotent-Replayed)"
ar_fcgi POST /orders "$ORDER_A" HTTP_X_USER=dave HTTP_IDEMPOTENCY_KEY=carol-6
check "another client has its own budget" 201 "$AR_STATUS"
# A submission that fails (a foreign key where the stream belongs) spends
# no budget: the counter is written after everything that can fail.
KB=$(ar_redis --scan --pattern 'ar:k:*' | wc -l)
ar_redis RENAME ar:orders ar:orders.saved >/dev/null
ar_redis SET ar:orders "not a stream" >/dev/null
ar_fcgi POST /orders "$ORDER_A" HTTP_X_USER=erin HTTP_IDEMPOTENCY_KEY=erin-1
check_error "ar:orders is a string" 500 internal_error
check "the failed submission spent no budget, left the key unused" "0 $KB" \
	"$(ar_redis EXISTS ar:srate:i:erin) $(ar_redis --scan --pattern 'ar:k:*' | wc -l)"
ar_redis RENAME ar:orders.saved ar:orders >/dev/null
ar_fcgi POST /orders "$ORDER_A" HTTP_X_USER=erin HTTP_IDEMPOTENCY_KEY=erin-1
check "then erin-1 orders" "201 1" "$AR_STATUS $(ar_redis GET ar:srate:i:erin)"
ar_fcgi GET /metrics ''
check "/metrics counts the refused submissions" 2 \
	"$(ar_metric 'antireplay_submissions_total{outcome="rate_limited"}')"
check "token_rate's counter is apart" 0 "$(ar_metric antireplay_rate_limited_total)"

#### d) keys expire #########################################################
ar_stop_app
ar_write_config keys=client bind=header:X-User token_rate=0 result_ttl=1
ar_start_app 1
order "expiring-key"
check "a key with result_ttl 1: created" 201 "$AR_STATUS"
OLD_ID=$(ar_json_get order_id)
UUID_KEY=6f1d2c3b-4a59-4e8f-9d7c-0b1a2c3d4e5f
order "$UUID_KEY"
check "a UUID the client made (never issued), result_ttl 1: created" 201 "$AR_STATUS"
OLD_UUID_ID=$(ar_json_get order_id)
ttl_gone() { # the key's outcome is gone: no ar:k: key with a TTL of 1 s or less
	for k in $(ar_redis --scan --pattern 'ar:k:*'); do
		t=$(ar_redis TTL "$k")
		[ "$t" -gt 1 ] 2>/dev/null || [ "$t" = -2 ] || return 1
	done
}
ar_wait_until 300 ttl_gone
order "expiring-key"
check "after result_ttl the key is new again: a new order" "201 1" \
	"$AR_STATUS $([ "$(ar_json_get order_id)" != "$OLD_ID" ] && echo 1)"
order "$UUID_KEY"
check "... a UUID the client made too: a new order id (random, never derived)" "201 1" \
	"$AR_STATUS $([ "$(ar_json_get order_id)" != "$OLD_UUID_ID" ] && echo 1)"

# An issued token's order id is derived from the identity and the token:
# when a failover loses the order (its writes roll back: the token unused
# again, no record, no order) the client's retry makes it again under the
# same id, so a drain that had stored it adds nothing.
ar_token HTTP_X_USER=alice
T=$AR_TOKEN
set -- $(ar_pending "$T")
WINDOW=$1 UNUSED=$2
order "$T"
check "an issued token: created" 201 "$AR_STATUS"
ISSUED_ID=$(ar_json_get order_id)
check "its id is not a random (version 4) UUID: version 5, name-based" 5 \
	"$(printf '%s' "$ISSUED_ID" | cut -c15)"
ar_redis DEL "$(ar_token_key "$T")" "ar:order:$ISSUED_ID" >/dev/null
ar_redis HSET "$WINDOW" "$(ar_token_field "$T")" "$UNUSED" >/dev/null
order "$T"
check "the same token after the writes were lost: made again, the same id" \
	"201 $ISSUED_ID" "$AR_STATUS $(ar_json_get order_id)"
check "... the body says that id too" 1 "$(grep -c "\"order_id\":\"$ISSUED_ID\"" "$AR_BODY_FILE")"
ar_token HTTP_X_USER=bob
ar_fcgi POST /orders "$ORDER_A" HTTP_X_USER=bob HTTP_IDEMPOTENCY_KEY="$AR_TOKEN"
check "another token: another id" 1 "$([ "$(ar_json_get order_id)" != "$ISSUED_ID" ] && echo 1)"
# An order hash already under that id (what the scripts never write with
# an unused token) is never overwritten: 500, nothing moves.
ar_redis DEL "$(ar_token_key "$T")" >/dev/null
ar_redis HSET "$WINDOW" "$(ar_token_field "$T")" "$UNUSED" >/dev/null
stock_before=$(ar_stock A)
order "$T"
check_error "an order already under the token's id" 500 internal_error
check "... the hash and the stock are untouched" "1 $stock_before" \
	"$(ar_redis EXISTS "ar:order:$ISSUED_ID") $(ar_stock A)"

#### e) config ##############################################################
ar_write_config keys=client
"$ANTIREPLAY_BIN" -t -c "$AR_TMP/antireplay.conf" >"$AR_TMP/t.out" 2>&1
check "keys = client with bind = none: refused at config check" 1 $?
check_contains "the error names the key and why" "key 'keys': client needs bind" \
	"$(cat "$AR_TMP/t.out")"
ar_stop_app
ar_write_config token_rate=0
ar_start_app 1
ar_fcgi POST /orders "$ORDER_A" HTTP_IDEMPOTENCY_KEY=msg-0001
check_error "keys = issued: a client's key is malformed" 400 malformed_token
ar_fcgi POST /orders '{"items":[{"sku":"A","qty":1}],"token":"body-key-1"}'
check_error "keys = issued: a client's key in the body is malformed" 400 malformed_token
ar_fcgi POST /orders "$ORDER_A" HTTP_IDEMPOTENCY_KEY="$NEVER"
check_error "keys = issued: a UUID never issued is invalid" 422 invalid_token

ar_done
