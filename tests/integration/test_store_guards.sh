#!/bin/sh
# Guards found by review, each a defect once: nothing here may write half an
# order or mix two clients up.
#   - a stock value DECRBY refuses ("2.5", " 5", "1e3") is caught before any
#     line is decremented: 500, every stock as it was, the token unused;
#   - a foreign key where the order stream belongs: 500 before any write;
#   - two long identities that share their first 200 bytes keep separate
#     rate-limit counters (keys were once cut at 159 bytes);
#   - PUT /stock with a body shorter than its Content-Length: incomplete_body;
#   - base_path longer than a Location header can carry: a config error;
#   - a host whose clock is more than W / 2 from Redis's is refused by both
#     scripts (an error reply, nothing written, no rate budget spent), not
#     left to file tokens where no submission looks.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/lib.sh"

ar_setup
ar_start_redis
ADMIN=guards-admin-token-0123456789
ar_write_config "admin_token=$ADMIN" token_rate=0
ar_start_app 2
ORDER2='{"items":[{"sku":"A","qty":1},{"sku":"B","qty":1}]}'

#### stock values DECRBY would refuse, on the second line ##################
for bad in 2.5 " 5" 1e3 0x10 99999999999999999999; do
	ar_redis SET ar:stock:A 5 >/dev/null
	ar_redis SET ar:stock:B "$bad" >/dev/null
	ar_token
	T=$AR_TOKEN
	ar_fcgi POST /orders "$ORDER2" HTTP_IDEMPOTENCY_KEY="$T"
	check_error "stock B = '$bad'" 500 internal_error
	check "stock B = '$bad': line A not decremented" 5 "$(ar_stock A)"
	check "stock B = '$bad': no order in the stream" 0 "$(ar_xlen)"
	ar_redis SET ar:stock:B 5 >/dev/null
	ar_fcgi POST /orders "$ORDER2" HTTP_IDEMPOTENCY_KEY="$T"
	check "stock B = '$bad', then fixed: the same token orders (201, not a replay)" "201 " \
		"$AR_STATUS $(ar_header Idempotent-Replayed)"
	ar_redis DEL ar:orders >/dev/null
done

#### a foreign key where the stream belongs ################################
ar_redis SET ar:stock:A 5 >/dev/null
ar_redis SET ar:stock:B 5 >/dev/null
ar_redis SET ar:orders "not a stream" >/dev/null
ORDERS0=$(ar_redis --scan --pattern 'ar:order:*' | wc -l)
ar_token
T=$AR_TOKEN
ar_fcgi POST /orders "$ORDER2" HTTP_IDEMPOTENCY_KEY="$T"
check_error "ar:orders is a string" 500 internal_error
check "ar:orders is a string: stock A untouched" 5 "$(ar_stock A)"
check "ar:orders is a string: no order stored" "$ORDERS0" \
	"$(ar_redis --scan --pattern 'ar:order:*' | wc -l)"
ar_redis DEL ar:orders >/dev/null
ar_fcgi POST /orders "$ORDER2" HTTP_IDEMPOTENCY_KEY="$T"
check "then the same token orders" 201 "$AR_STATUS"

#### clock skew: the scripts, called as src/store.c calls them ############
# The window is named once (NOW); the clock each call passes is read at the
# call (OFFSET seconds off), so that however long the calls take, "60 s
# ahead" stays more than the 37 s allowed ahead of Redis's clock.
NOW=$(date +%s)
issue() { # OFFSET: issue_token.lua, W = 75 s, skew allowed 37 s
	ar_redis --eval "$(ar_lua issue_token)" ar:rate:x ar:tw:75:$((NOW / 75)) ar:metrics , \
		"${LIMIT:-0}" 600 '' skewtokenfield000000000 $(((NOW / 75 + 10) * 75)) $(($(date +%s) + $1)) 37 2>&1
}
check "issue_token with this host's clock" "$(printf '1\n0')" "$(issue 0)"
check_contains "issue_token from a host 60 s behind: refused" "ERR clock skew" "$(issue -60)"
check_contains "issue_token from a host 60 s ahead: refused" "ERR clock skew" "$(issue 60)"
check "the refused ones wrote nothing: one token in the window" 1 "$(ar_redis HLEN ar:tw:75:$((NOW / 75)))"
check_contains "issue_token rate-limited, from a host 60 s ahead: refused" "ERR clock skew" \
	"$(LIMIT=5 issue 60)"
check "the refused one spent no rate budget" 0 "$(ar_redis EXISTS ar:rate:x)"
submit() { # OFFSET: submit_order.lua for that token, one line of A
	ar_redis --eval "$(ar_lua submit_order)" ar:t:skewtokenfield000000000 \
		ar:t:skewtokenfield000000000 ar:order:skew ar:orders ar:metrics ar:srate:a:x \
		ar:order:skew ar:tw:75:$((NOW / 75)) ar:stock:A , '' "v1
A 1
c-" 86400 replay skew '{"order_id":"skew"}' 1 skewtokenfield000000000 \
		$(($(date +%s) + $1)) 37 0 0 '' 1 A 2>&1
}
ar_redis SET ar:stock:A 5 >/dev/null
check_contains "submit_order from a host 60 s ahead: refused" "ERR clock skew" "$(submit 60)"
check "refused: the token still unused, stock as it was" "1 5" \
	"$(ar_redis HLEN ar:tw:75:$((NOW / 75))) $(ar_stock A)"
check_contains "submit_order with this host's clock: created" created "$(submit 0)"
check "created: the token moved to its own key" "0 1" \
	"$(ar_redis HLEN ar:tw:75:$((NOW / 75))) $(ar_redis EXISTS ar:t:skewtokenfield000000000)"

#### PUT /stock with a short body ##########################################
printf '{"available": 7}' | env -i REQUEST_METHOD=PUT REQUEST_URI=/stock/C SCRIPT_NAME=/stock/C \
	CONTENT_TYPE=application/json CONTENT_LENGTH=40 HTTP_AUTHORIZATION="Bearer $ADMIN" \
	"$CGI_FCGI" -bind -connect "$AR_APP_SOCK" >"$AR_TMP/put.out" 2>/dev/null
ar_parse "$AR_TMP/put.out"
check_error "PUT /stock with 16 of 40 bytes" 400 incomplete_body
check "no stock record written" "" "$(ar_stock C)"

#### long identities keep their own rate-limit counters ####################
ar_stop_app
ar_write_config "admin_token=$ADMIN" token_rate=1 bind=header:X-User
ar_start_app 1
LONG=$(printf '%0200d' 0 | tr 0 u)
ar_token HTTP_X_USER="${LONG}alice"
check "a 205-byte identity gets its token" 201 "$AR_STATUS"
ar_token HTTP_X_USER="${LONG}bob"
check "another identity with the same first 200 bytes is not limited" 201 "$AR_STATUS"
ar_token HTTP_X_USER="${LONG}alice"
check "the first identity's second token is limited" 429 "$AR_STATUS"

#### base_path bounded by what a Location header carries ###################
P129=/$(printf '%0128d' 0 | tr 0 p)
printf 'base_path = %s\n' "$P129" >"$AR_TMP/long.conf"
if "$ANTIREPLAY_BIN" --check-config -c "$AR_TMP/long.conf" >"$AR_TMP/long.out" 2>&1; then
	not_ok "a 129-character base_path is refused"
else
	check_contains "a 129-character base_path is refused" "long.conf:1: key 'base_path'" \
		"$(cat "$AR_TMP/long.out")"
fi
printf 'base_path = %s\n' "${P129%p}" >"$AR_TMP/ok.conf"
"$ANTIREPLAY_BIN" --check-config -c "$AR_TMP/ok.conf" >/dev/null 2>&1
check "a 128-character base_path is fine" 0 "$?"

ar_done
