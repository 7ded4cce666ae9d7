#!/bin/sh
# test_submit: every outcome of the atomic step and every error code of the
# contract, with exact statuses and bodies, against a private redis-server
# and the real binary under spawn-fcgi, driven over FastCGI with cgi-fcgi.
# Four app configurations in turn: defaults (+admin token, small max_body),
# short TTLs, bind + rate limit + base_path, duplicate_mode = reject.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/lib.sh"

ar_require "$CGI_FCGI"
ar_setup
ar_start_redis

ADMIN=0123456789abcdef0123456789abcdef
NEVER=9b2f6a1e-3c4d-4e5f-8a9b-0c1d2e3f4a5b # a UUID v4 never issued
FORM=CONTENT_TYPE=application/x-www-form-urlencoded
TS_RE='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$'
AR_AUDIT=1

save_body() { cp "$AR_BODY_FILE" "$AR_TMP/$1"; }

# restart_app KEY=VALUE...: a fresh app with this configuration.
restart_app() {
	ar_stop_app
	cat "$AR_TMP/app.log" >>"$AR_TMP/all.log"
	ar_write_config "$@"
	ar_start_app 2
}

# check_replay DESC STATUS SAVED [LOCATION]: the last response replays the
# saved body byte for byte with the original status.
check_replay() {
	check "$1: status" "$2" "$AR_STATUS"
	if cmp -s "$AR_BODY_FILE" "$AR_TMP/$3"; then
		ok "$1: same body byte for byte"
	else
		not_ok "$1: body differs: '$AR_BODY' vs '$(cat "$AR_TMP/$3")'"
	fi
	check "$1: Idempotent-Replayed" true "$(ar_header Idempotent-Replayed)"
	[ $# -lt 4 ] || check "$1: original Location" "$4" "$(ar_header Location)"
}

check_not_replayed() {
	check "$1: no Idempotent-Replayed header" "" "$(ar_header Idempotent-Replayed)"
}

# metrics_snapshot VAR: the eight counters of /metrics, space separated.
SUBMIT_OUTCOMES="created replayed rejected token_reused invalid_token unknown_sku out_of_stock"
metrics_snapshot() {
	ar_fcgi GET /metrics
	_s="$(ar_metric antireplay_tokens_issued_total) $(ar_metric antireplay_rate_limited_total)"
	for o in $SUBMIT_OUTCOMES; do
		_s="$_s $(ar_metric "antireplay_submissions_total{outcome=\"$o\"}")"
	done
	echo "$_s"
}

# check_metrics_delta DESC BEFORE AFTER EXPECTED: AFTER - BEFORE, counter by
# counter (tokens_issued rate_limited created replayed rejected token_reused
# invalid_token unknown_sku out_of_stock), equals EXPECTED.
check_metrics_delta() {
	_d=$(echo "$2 $3" | awk '{ n = NF / 2; s = ""; for (i = 1; i <= n; i++) s = s (i > 1 ? " " : "") ($(i + n) - $i); print s }')
	check "$1 (tokens rate created replayed rejected reused invalid unknown oos)" "$4" "$_d"
}

###########################################################################
# Phase 1: defaults, with an admin token and max_body = 2048.
ar_write_config "admin_token=$ADMIN" max_body=2048 token_rate=0
ar_start_app 2

ar_fcgi GET /healthz
check "healthz status" 200 "$AR_STATUS"
check "healthz body" '{"status":"ok"}' "$AR_BODY"
check "healthz Content-Type" application/json "$(ar_header Content-Type)"
ar_fcgi HEAD /healthz
check "HEAD healthz status" 200 "$AR_STATUS"
check "HEAD healthz has no body" 0 "$(wc -c <"$AR_BODY_FILE" | tr -d ' ')"
check "HEAD healthz Content-Length of the GET body" 15 "$(ar_header Content-Length)"

# Metrics on a fresh Redis: every line present, at zero.
ar_fcgi GET /metrics
check "metrics status" 200 "$AR_STATUS"
check "metrics Content-Type" "text/plain; version=0.0.4" "$(ar_header Content-Type)"
check "metrics tokens_issued at 0" 0 "$(ar_metric antireplay_tokens_issued_total)"
check "metrics rate_limited at 0" 0 "$(ar_metric antireplay_rate_limited_total)"
for o in $SUBMIT_OUTCOMES; do
	check "metrics outcome $o present at 0" 0 "$(ar_metric "antireplay_submissions_total{outcome=\"$o\"}")"
done
for m in antireplay_tokens_issued_total antireplay_rate_limited_total antireplay_submissions_total; do
	check_contains "metrics # HELP $m" "# HELP $m " "$AR_BODY"
	check_contains "metrics # TYPE $m counter" "# TYPE $m counter" "$AR_BODY"
done

# Tokens. t0 and t1 bracket the request: what Redis stamped lies between.
t0=$(ar_now_ms)
ar_fcgi POST /tokens
t1=$(ar_now_ms)
T=$(ar_json_get token)
check "POST /tokens status" 201 "$AR_STATUS"
check_match "token is a lowercase UUID v4" "$AR_UUID4_RE" "$T"
check "token body" "{\"token\":\"$T\",\"expires_in\":600}" "$AR_BODY"
pending=$(ar_pending "$T")
wkey=${pending%% *} value=${pending#* }
check_match "unused token: a field of its issue window's hash (W = 600 / 8 = 75 s)" \
	'^ar:tw:75:[0-9]+$' "$wkey"
window=${wkey##*:}
check "the window is the issue time / 75 s" 1 \
	"$([ "$window" -ge $((t0 / 75000)) ] && [ "$window" -le $((t1 / 75000)) ] && echo 1)"
check "one window holds it" 1 "$(printf '%s\n' "$pending" | grep -c .)"
check "token field: 22 base64url characters" 22 "$(ar_token_field "$T" | tr -d '\n' | wc -c)"
check_match "unused and unbound: the value is its expiry in ms" '^[0-9]{13}$' "$value"
case $value in '' | *[!0-9]*) value=0 ;; esac
check_match "the expiry is token_ttl (600 s) after the issue ($((value - 600000 - t0)) ms after t0, request took $((t1 - t0)) ms)" '^ok$' \
	"$([ $((value - 600000)) -ge "$t0" ] && [ $((value - 600000)) -le "$t1" ] && echo ok)"
ttl=$(ar_redis TTL "$wkey")
check_match "the window's hash outlives its tokens, <= 10 windows (TTL $ttl)" '^ok$' \
	"$([ "$ttl" -gt 600 ] && [ "$ttl" -le 750 ] && echo ok)"
check "no key of its own until it is used" 0 "$(ar_redis EXISTS "$(ar_token_key "$T")")"
ar_fcgi POST '/tokens?x=1&y=2'
check "POST /tokens with a query string" 201 "$AR_STATUS"
ar_fcgi POST /tokens '' CONTENT_TYPE=
check "POST /tokens without a body or content type" 201 "$AR_STATUS"

ar_redis SET ar:stock:A 10 >/dev/null
ar_redis SET ar:stock:B 5 >/dev/null
ar_redis SET ar:stock:C 3 >/dev/null

# --- created ---
M0=$(metrics_snapshot)
ar_token
T1=$AR_TOKEN
ORDER1='{"items":[{"sku":"A","qty":2},{"sku":"B","qty":1}],"customer":"bob"'
ar_fcgi POST /orders "$ORDER1,\"token\":\"$T1\"}"
OID1=$(ar_json_get order_id)
TS1=$(ar_json_get created_at)
check "created: status" 201 "$AR_STATUS"
check_match "created: order_id is a UUID v5 (derived from the issued token)" "$AR_UUID5_RE" "$OID1"
check_match "created: created_at is RFC 3339 UTC with ms ($TS1)" "$TS_RE" "$TS1"
check "created: body, members in order" \
	"{\"order_id\":\"$OID1\",\"status\":\"created\",\"items\":[{\"sku\":\"A\",\"qty\":2},{\"sku\":\"B\",\"qty\":1}],\"customer\":\"bob\",\"created_at\":\"$TS1\"}" \
	"$AR_BODY"
check "created: Location" "/orders/$OID1" "$(ar_header Location)"
check "created: Content-Type" application/json "$(ar_header Content-Type)"
check_not_replayed "created"
save_body order1
check "created: stock A decremented by 2" 8 "$(ar_stock A)"
check "created: stock B decremented by 1" 4 "$(ar_stock B)"
check "created: stock C untouched" 3 "$(ar_stock C)"
check "created: one stream entry" 1 "$(ar_xlen)"
check "created: order hash holds the order" "$AR_BODY" "$(ar_redis HGET "ar:order:$OID1" order)"
check "created: order hash owner is the empty identity" "" "$(ar_redis HGET "ar:order:$OID1" owner)"
check "created: order hash has two fields" 2 "$(ar_redis HLEN "ar:order:$OID1")"
entry=$(ar_redis XRANGE ar:orders - + | sed -n '2,$p')
check "created: stream entry fields order_id, order" \
	"$(printf 'order_id\n%s\norder\n%s' "$OID1" "$AR_BODY")" "$entry"
check "created: token now holds the outcome" o "$(ar_redis GETRANGE "$(ar_token_key "$T1")" 0 0)"
check "created: the token left its window" "" "$(ar_pending "$T1")"
ttl=$(ar_redis TTL "$(ar_token_key "$T1")")
check_match "created: outcome kept result_ttl (got $ttl)" '^86(3[0-9][0-9]|400)$' "$ttl"

# GET /orders/{id}
ar_fcgi GET "/orders/$OID1"
check "GET order: status" 200 "$AR_STATUS"
if cmp -s "$AR_BODY_FILE" "$AR_TMP/order1"; then ok "GET order: the same JSON as the 201"; else not_ok "GET order: '$AR_BODY'"; fi
ar_fcgi HEAD "/orders/$OID1"
check "HEAD order: status" 200 "$AR_STATUS"
check "HEAD order: no body" 0 "$(wc -c <"$AR_BODY_FILE" | tr -d ' ')"
check "HEAD order: Content-Length" "$(wc -c <"$AR_TMP/order1" | tr -d ' ')" "$(ar_header Content-Length)"
ar_fcgi GET "/orders/$NEVER"
check_error "GET unknown order" 404 not_found
ar_fcgi GET /orders/not-a-uuid
check_error "GET malformed order id" 404 not_found

# --- replays ---
ar_fcgi POST /orders "$ORDER1,\"token\":\"$T1\"}"
check_replay "replay JSON" 201 order1 "/orders/$OID1"
ar_fcgi POST /orders "token=$T1&sku=A&qty=2&sku=B&qty=1&customer=bob" "$FORM"
check_replay "replay as a form" 201 order1 "/orders/$OID1"
ar_fcgi POST /orders "{\"customer\":\"bob\",\"items\":[{\"qty\":1,\"sku\":\"B\"},{\"sku\":\"A\",\"qty\":2}],\"token\":\"$T1\"}"
check_replay "replay with items reordered" 201 order1 "/orders/$OID1"
UPPER=$(printf '%s' "$T1" | tr a-f A-F)
ar_fcgi POST /orders "$ORDER1}" "HTTP_IDEMPOTENCY_KEY=\"$UPPER\""
check_replay "replay, token as a quoted uppercase Idempotency-Key" 201 order1 "/orders/$OID1"
check "replays: stock A unchanged" 8 "$(ar_stock A)"
check "replays: stock B unchanged" 4 "$(ar_stock B)"
check "replays: still one stream entry" 1 "$(ar_xlen)"

# --- token_reused ---
ar_fcgi POST /orders "{\"items\":[{\"sku\":\"A\",\"qty\":3},{\"sku\":\"B\",\"qty\":1}],\"customer\":\"bob\",\"token\":\"$T1\"}"
check_error "other qty, same token" 422 token_reused
ar_fcgi POST /orders "{\"items\":[{\"sku\":\"A\",\"qty\":2},{\"sku\":\"B\",\"qty\":1}],\"customer\":\"eve\",\"token\":\"$T1\"}"
check_error "other customer, same token" 422 token_reused
ar_fcgi POST /orders "{\"items\":[{\"sku\":\"A\",\"qty\":2},{\"sku\":\"B\",\"qty\":1}],\"token\":\"$T1\"}"
check_error "customer dropped, same token" 422 token_reused
ar_fcgi POST /orders "token=$T1&sku=A&qty=2&customer=bob" "$FORM"
check_error "a line dropped (form), same token" 422 token_reused
ar_fcgi POST /orders "$ORDER1,\"token\":\"$T1\"}"
check_replay "the original still replays after token_reused" 201 order1 "/orders/$OID1"
check "token_reused: stock A unchanged" 8 "$(ar_stock A)"

# --- invalid_token ---
ar_fcgi POST /orders "$ORDER1,\"token\":\"$NEVER\"}"
check_error "never issued token" 422 invalid_token

# --- unknown_sku ---
ar_token
T3=$AR_TOKEN
ar_fcgi POST /orders "{\"items\":[{\"sku\":\"A\",\"qty\":1},{\"sku\":\"NOPE\",\"qty\":1}],\"token\":\"$T3\"}"
check_error "unknown SKU" 422 unknown_sku '"sku":"NOPE"'
check_not_replayed "unknown SKU"
save_body unknown3
check "unknown SKU: stock A untouched" 8 "$(ar_stock A)"
check "unknown SKU: no order" 1 "$(ar_xlen)"
ar_fcgi POST /orders "{\"items\":[{\"sku\":\"A\",\"qty\":1},{\"sku\":\"NOPE\",\"qty\":1}],\"token\":\"$T3\"}"
check_replay "unknown SKU replayed" 422 unknown3
check "unknown SKU replay has no Location" "" "$(ar_header Location)"
ar_redis SET ar:stock:NOPE 50 >/dev/null
ar_fcgi POST /orders "{\"items\":[{\"sku\":\"NOPE\",\"qty\":1},{\"sku\":\"A\",\"qty\":1}],\"token\":\"$T3\"}"
check_replay "unknown SKU replayed (recorded) after the SKU got stock" 422 unknown3
check "unknown SKU replay: stock A untouched" 8 "$(ar_stock A)"
ar_redis DEL ar:stock:NOPE >/dev/null
ar_fcgi POST /orders "{\"items\":[{\"sku\":\"A\",\"qty\":2}],\"token\":\"$T3\"}"
check_error "another payload on a recorded unknown_sku" 422 token_reused

ar_token
ar_fcgi POST /orders "{\"items\":[{\"sku\":\"B\",\"qty\":999},{\"sku\":\"ZZZ-1\",\"qty\":1}],\"token\":\"$AR_TOKEN\"}"
check_error "unknown SKU wins over out of stock" 422 unknown_sku '"sku":"ZZZ-1"'
ar_token
ar_fcgi POST /orders "{\"items\":[{\"sku\":\"ZZ-2\",\"qty\":1},{\"sku\":\"AA-2\",\"qty\":1}],\"token\":\"$AR_TOKEN\"}"
check_error "two unknown SKUs: the first in request order is named" 422 unknown_sku '"sku":"ZZ-2"'

# --- out_of_stock ---
ar_token
T6=$AR_TOKEN
ar_fcgi POST /orders "{\"items\":[{\"sku\":\"A\",\"qty\":1},{\"sku\":\"B\",\"qty\":100}],\"token\":\"$T6\"}"
check_error "out of stock" 409 out_of_stock '"sku":"B","available":4'
check_not_replayed "out of stock"
save_body oos6
check "out of stock: nothing decremented (A)" 8 "$(ar_stock A)"
check "out of stock: nothing decremented (B)" 4 "$(ar_stock B)"
check "out of stock: no order" 1 "$(ar_xlen)"
ar_fcgi POST /orders "{\"items\":[{\"sku\":\"A\",\"qty\":1},{\"sku\":\"B\",\"qty\":100}],\"token\":\"$T6\"}"
check_replay "out of stock replayed" 409 oos6
ar_redis SET ar:stock:B 1000 >/dev/null
ar_fcgi POST /orders "token=$T6&sku=B&qty=100&sku=A&qty=1" "$FORM"
check_replay "out of stock replayed (recorded) after a restock, as a form" 409 oos6
check "out of stock replay: B not decremented" 1000 "$(ar_stock B)"
ar_redis SET ar:stock:B 4 >/dev/null
ar_token
ar_fcgi POST /orders "{\"items\":[{\"sku\":\"C\",\"qty\":50},{\"sku\":\"B\",\"qty\":50}],\"token\":\"$AR_TOKEN\"}"
check_error "two lines out of stock: the first in request order is named" 409 out_of_stock '"sku":"C","available":3'
ar_token
ar_fcgi POST /orders "{\"items\":[{\"sku\":\"C\",\"qty\":3}],\"token\":\"$AR_TOKEN\"}"
check "qty equal to the stock is created" 201 "$AR_STATUS"
check "stock C now 0" 0 "$(ar_stock C)"
ar_token
ar_fcgi POST /orders "{\"items\":[{\"sku\":\"C\",\"qty\":1}],\"token\":\"$AR_TOKEN\"}"
check_error "stock 0" 409 out_of_stock '"sku":"C","available":0'
ar_redis SET ar:stock:C 3 >/dev/null

# --- the form encoding creates orders too ---
ar_token
ar_fcgi POST /orders "token=$AR_TOKEN&sku=C&qty=1&sku=A&qty=1&customer=Ann+Lee%21" "$FORM"
OIDF=$(ar_json_get order_id)
TSF=$(ar_json_get created_at)
check "form order: status" 201 "$AR_STATUS"
check "form order: body (items in request order, decoded customer)" \
	"{\"order_id\":\"$OIDF\",\"status\":\"created\",\"items\":[{\"sku\":\"C\",\"qty\":1},{\"sku\":\"A\",\"qty\":1}],\"customer\":\"Ann Lee!\",\"created_at\":\"$TSF\"}" \
	"$AR_BODY"
save_body orderf
TF=$AR_TOKEN
ar_fcgi POST /orders "{\"items\":[{\"sku\":\"A\",\"qty\":1},{\"sku\":\"C\",\"qty\":1}],\"customer\":\"Ann Lee!\",\"token\":\"$TF\"}" \
	"CONTENT_TYPE=application/json; charset=utf-8"
check_replay "form order replayed as JSON (with a charset)" 201 orderf "/orders/$OIDF"
check "form order: stock C" 2 "$(ar_stock C)"
check "form order: stock A" 7 "$(ar_stock A)"

# An order without customer has no customer member.
ar_token
ar_fcgi POST /orders "{\"items\":[{\"sku\":\"A\",\"qty\":1}],\"token\":\"$AR_TOKEN\",\"extra\":{\"ignored\":[1,2]}}"
OIDN=$(ar_json_get order_id)
TSN=$(ar_json_get created_at)
check "order without customer (unknown members ignored)" \
	"{\"order_id\":\"$OIDN\",\"status\":\"created\",\"items\":[{\"sku\":\"A\",\"qty\":1}],\"created_at\":\"$TSN\"}" \
	"$AR_BODY"
check "four orders in the stream" 4 "$(ar_xlen)"

# --- where the token comes from ---
ar_token
TH=$AR_TOKEN
ar_fcgi POST /orders "{\"items\":[{\"sku\":\"A\",\"qty\":1}],\"token\":\"$NEVER\"}" "HTTP_IDEMPOTENCY_KEY=$TH"
check "the header wins over the body token" 201 "$AR_STATUS"
ar_token
TB=$AR_TOKEN
ar_fcgi POST /orders "{\"items\":[{\"sku\":\"A\",\"qty\":1}],\"token\":\"$TB\"}" "HTTP_IDEMPOTENCY_KEY=nope"
check_error "a malformed header wins over a good body token" 400 malformed_token
ar_fcgi POST /orders "{\"items\":[{\"sku\":\"A\",\"qty\":1}],\"token\":\"$TB\"}" "HTTP_IDEMPOTENCY_KEY="
check "an empty header counts as absent" 201 "$AR_STATUS"
ar_token
ar_fcgi POST /orders "{\"items\":[{\"sku\":\"A\",\"qty\":1}],\"token\":null}" "HTTP_IDEMPOTENCY_KEY=$AR_TOKEN"
check "token null in the body + header" 201 "$AR_STATUS"
ar_token
ar_fcgi POST /orders "{\"items\":[{\"sku\":\"A\",\"qty\":1}]}" "HTTP_IDEMPOTENCY_KEY=$AR_TOKEN,$AR_TOKEN"
check_error "a header with a comma" 400 malformed_token
ar_fcgi POST /orders "{\"items\":[{\"sku\":\"A\",\"qty\":1}]}" "HTTP_IDEMPOTENCY_KEY=$AR_TOKEN"
check "that token was untouched" 201 "$AR_STATUS"

# --- body errors, in the contract's check order ---
ar_token
TE=$AR_TOKEN
big=$(printf '%02100d' 0)
ar_fcgi POST /orders "{\"items\":[{\"sku\":\"A\",\"qty\":1}],\"token\":\"$TE\",\"pad\":\"$big\"}"
check_error "body over max_body" 413 body_too_large
ar_fcgi POST /orders "$big" CONTENT_TYPE=text/plain
check_error "body over max_body beats 415" 413 body_too_large
ar_fcgi POST /orders "{\"items\":[{\"sku\":\"A\",\"qty\":1}],\"token\":\"$TE\"}" CONTENT_TYPE=text/plain
check_error "text/plain" 415 unsupported_media_type
ar_fcgi POST /orders "{\"items\":[{\"sku\":\"A\",\"qty\":1}],\"token\":\"$TE\"}" CONTENT_TYPE=
check_error "no content type" 415 unsupported_media_type
ar_fcgi POST /orders "{" CONTENT_TYPE=application/xml
check_error "415 beats invalid_json" 415 unsupported_media_type
ar_fcgi POST /orders "{\"items\":[{\"sku\":\"A\",\"qty\":1}],\"token\":\"$TE\""
check_error "unparseable JSON" 400 invalid_json
ar_fcgi POST /orders "{\"items\":[{\"sku\":\"A\",\"qty\":1}]"
check_error "invalid_json beats missing_token" 400 invalid_json
ar_fcgi POST /orders "$(printf '{"items":[{"sku":"A","qty":1}],"customer":"\377\376","token":"%s"}' "$TE")"
check_error "invalid UTF-8" 400 invalid_json
deep=$(printf '%040d' 0 | sed 's/0/[/g')$(printf '%040d' 0 | sed 's/0/]/g')
ar_fcgi POST /orders "{\"items\":[{\"sku\":\"A\",\"qty\":1}],\"token\":\"$TE\",\"x\":$deep}"
check_error "nesting deeper than 32" 400 invalid_json
ar_fcgi POST /orders '{"items":[{"sku":"A","qty":1}]}'
check_error "no token" 400 missing_token
ar_fcgi POST /orders '{"items":[{"sku":"A","qty":1}],"token":null}'
check_error "token null" 400 missing_token
ar_fcgi POST /orders 'sku=A&qty=1' "$FORM"
check_error "form without token" 400 missing_token
ar_fcgi POST /orders '{"items":[]}'
check_error "missing_token beats invalid_order" 400 missing_token
ar_fcgi POST /orders '{"items":[{"sku":"A","qty":1}],"token":"abc"}'
check_error "token not a UUID" 400 malformed_token
ar_fcgi POST /orders '{"items":[{"sku":"A","qty":1}],"token":123}'
check_error "token not a string" 400 malformed_token
ar_fcgi POST /orders "{\"items\":[{\"sku\":\"A\",\"qty\":1}],\"token\":\"${TE%?}\"}"
check_error "token of 35 characters" 400 malformed_token
ar_fcgi POST /orders "token=xyz&sku=A&qty=1" "$FORM"
check_error "form token not a UUID" 400 malformed_token
ar_fcgi POST /orders "token=$TE&token=$TE&sku=A&qty=1" "$FORM"
check_error "form token repeated" 400 malformed_token
ar_fcgi POST /orders '{"items":[],"token":"abc"}'
check_error "malformed_token beats invalid_order" 400 malformed_token
for bad in \
	'"items":[]' \
	'"items":{}' \
	'"items":"A"' \
	'"other":1' \
	'"items":[{"sku":"A B","qty":1}]' \
	'"items":[{"sku":"","qty":1}]' \
	"\"items\":[{\"sku\":\"$(printf '%065d' 0)\",\"qty\":1}]" \
	'"items":[{"qty":1}]' \
	'"items":[{"sku":"A"}]' \
	'"items":[{"sku":"A","qty":0}]' \
	'"items":[{"sku":"A","qty":-1}]' \
	'"items":[{"sku":"A","qty":1001}]' \
	'"items":[{"sku":"A","qty":1.5}]' \
	'"items":[{"sku":"A","qty":"2"}]' \
	'"items":[{"sku":"A","qty":1},{"sku":"A","qty":1}]' \
	"\"items\":[{\"sku\":\"A\",\"qty\":1}],\"customer\":\"$(printf '%0257d' 0)\"" \
	'"items":[{"sku":"A","qty":1}],"customer":5' \
	"\"items\":[$(i=0; while [ $i -lt 51 ]; do [ $i -eq 0 ] || printf ,; printf '{"sku":"S%d","qty":1}' $i; i=$((i + 1)); done)]"; do
	ar_fcgi POST /orders "{$bad,\"token\":\"$TE\"}"
	check_error "invalid order {$(printf '%.60s' "$bad")...}" 400 invalid_order
done
ar_fcgi POST /orders "[{\"sku\":\"A\",\"qty\":1}]" "HTTP_IDEMPOTENCY_KEY=$TE"
check_error "a JSON array is not an order" 400 invalid_order
ar_fcgi POST /orders '"text"' "HTTP_IDEMPOTENCY_KEY=$TE"
check_error "a JSON string is not an order" 400 invalid_order
ar_fcgi POST /orders "token=$TE&sku=A&qty=abc" "$FORM"
check_error "form qty not digits" 400 invalid_order
ar_fcgi POST /orders "token=$TE&sku=A" "$FORM"
check_error "form sku without qty" 400 invalid_order
ar_fcgi POST /orders "token=$TE&sku=A&qty=1&customer=%zz" "$FORM"
check_error "form with a bad %-escape" 400 invalid_order
# 50 items is fine (as far as validation goes; the SKUs have no stock).
ar_fcgi POST /orders "{\"items\":[$(i=0; while [ $i -lt 50 ]; do [ $i -eq 0 ] || printf ,; printf '{"sku":"S%d","qty":1000}' $i; i=$((i + 1)); done)],\"token\":\"$NEVER\"}"
check_error "50 items with qty 1000 pass validation" 422 invalid_token
ar_fcgi POST /orders "{\"items\":[{\"sku\":\"$(printf '%064d' 0)\",\"qty\":1}],\"customer\":\"$(printf '%0256d' 0)\",\"token\":\"$NEVER\"}"
check_error "a 64-character SKU and a 256-byte customer pass validation" 422 invalid_token
ar_fcgi POST /orders "{\"items\":[{\"sku\":\"A B\",\"qty\":1}],\"token\":\"$NEVER\"}"
check_error "invalid_order comes before the token check" 400 invalid_order
ar_fcgi POST /orders "{\"items\":[{\"sku\":\"A\",\"qty\":1}],\"token\":\"$TE\"}" CONTENT_LENGTH=500
check_error "a body shorter than CONTENT_LENGTH" 400 incomplete_body
check_match "no body error touched the token" '^ar:tw:75:[0-9]+ [0-9]{13}$' "$(ar_pending "$TE")"
ar_fcgi POST /orders "{\"items\":[{\"sku\":\"A\",\"qty\":1}],\"token\":\"$TE\"}"
check "after the body errors the same token creates the order" 201 "$AR_STATUS"

# --- metrics add up ---
M1=$(metrics_snapshot)
# Since M0: 15 tokens issued; created: T1, C=3, form, no-customer, header,
# empty header, null token, comma-then-clean, TE = 9; replayed: 4 + 1 + 2
# (unknown) + 2 (out of stock) + 1 (form as JSON) = 10; token_reused 5;
# invalid_token 3 (NEVER); unknown_sku 3; out_of_stock 3. Body errors count
# nothing.
check_metrics_delta "metrics counted every outcome" "$M0" "$M1" "15 0 9 10 0 5 3 3 3"

# Windows: a token issued by a host whose clock is a window ahead, or the
# oldest window a live token can be in (token_ttl + one window back), is
# found; two windows ahead or eleven back is not. Written by hand as
# issue_token.lua would, with a valid expiry.
stock_c=$(ar_stock C)
ar_redis SET ar:stock:C 10 >/dev/null
# A case whose request straddles a window boundary says nothing (its
# offset changed underway): it is tried again, at most 3 times.
for case in "1 201" "-9 201" "2 422" "-11 422"; do
	off=${case% *} want=${case#* }
	tries=0 got=straddled
	while [ "$got" = straddled ] && [ $tries -lt 3 ]; do
		tries=$((tries + 1))
		tok=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n' |
			sed 's/^\(.\{8\}\)\(.\{4\}\).\(.\{3\}\).\(.\{3\}\)\(.*\)$/\1-\2-4\3-8\4-\5/')
		cur=$(($(ar_now_ms) / 75000))
		ar_redis HSET "ar:tw:75:$((cur + off))" "$(ar_token_field "$tok")" "$(($(ar_now_ms) + 300000))" >/dev/null
		ar_fcgi POST /orders '{"items":[{"sku":"C","qty":1}]}' HTTP_IDEMPOTENCY_KEY="$tok"
		ar_redis DEL "ar:tw:75:$((cur + off))" >/dev/null
		[ $(($(ar_now_ms) / 75000)) -ne "$cur" ] || got=$AR_STATUS
	done
	check "a token in window now$( [ "$off" -gt 0 ] && echo +)$off: $want" "$want" "$got"
done
ar_redis SET ar:stock:C "$stock_c" >/dev/null


# --- routing ---
for path in /nope / /tokens/ /healthz/ /orders/ /order /Orders //healthz /./healthz \
	/x/../healthz /%68ealthz "/orders/$OID1/x" /stock/ "/stock/a%20b" '/stock/a!b' \
	"/stock/$(printf '%065d' 0)" /orders/1234; do
	ar_fcgi GET "$path"
	check_error "GET $path" 404 not_found
done
ar_fcgi GET '/healthz?x=1'
check "a query string is ignored" 200 "$AR_STATUS"
check_405() {
	ar_fcgi "$1" "$2" "${4-}"
	check_error "$1 $2" 405 method_not_allowed
	check "$1 $2: Allow" "$3" "$(ar_header Allow)"
}
check_405 GET /tokens POST
check_405 PUT /tokens POST '{}'
check_405 GET /orders POST
check_405 DELETE /orders POST
check_405 POST "/orders/$OID1" "GET, HEAD" '{}'
check_405 DELETE /stock/A "GET, HEAD, PUT"
check_405 POST /stock/A "GET, HEAD, PUT" '{}'
check_405 POST /healthz "GET, HEAD"
check_405 PUT /metrics "GET, HEAD" '{}'

# --- stock ---
ar_fcgi GET /stock/A
check "GET stock" '{"sku":"A","available":'"$(ar_stock A)"'}' "$AR_BODY"
check "GET stock status" 200 "$AR_STATUS"
ar_fcgi HEAD /stock/A
check "HEAD stock status" 200 "$AR_STATUS"
check "HEAD stock no body" 0 "$(wc -c <"$AR_BODY_FILE" | tr -d ' ')"
ar_fcgi GET /stock/NO-SUCH.SKU
check_error "GET stock of an unknown SKU" 404 not_found
ar_fcgi PUT /stock/D '{"available":5}'
check_error "PUT stock without Authorization" 401 unauthorized
check_match "401 WWW-Authenticate: Bearer" '^Bearer' "$(ar_header WWW-Authenticate)"
ar_fcgi PUT /stock/D '{"available":5}' "HTTP_AUTHORIZATION=Bearer ${ADMIN}x"
check_error "PUT stock with a wrong token" 401 unauthorized
check_match "401 WWW-Authenticate: Bearer (wrong token)" '^Bearer' "$(ar_header WWW-Authenticate)"
ar_fcgi PUT /stock/D '{"available":5}' "HTTP_AUTHORIZATION=Bearer ${ADMIN%?}"
check_error "PUT stock with a token prefix" 401 unauthorized
ar_fcgi PUT /stock/D '{"available":5}' "HTTP_AUTHORIZATION=Basic $ADMIN"
check_error "PUT stock with another scheme" 401 unauthorized
for v in -1 2147483648 '"abc"' '"5"' 1.5 null 99999999999999999999; do
	ar_fcgi PUT /stock/D "{\"available\":$v}" "HTTP_AUTHORIZATION=Bearer $ADMIN"
	check_error "PUT stock available=$v" 400 invalid_stock
done
ar_fcgi PUT /stock/D '{}' "HTTP_AUTHORIZATION=Bearer $ADMIN"
check_error "PUT stock without available" 400 invalid_stock
ar_fcgi GET /stock/D
check_error "rejected PUTs stored nothing" 404 not_found
ar_fcgi PUT /stock/D '{"available":2147483647}' "HTTP_AUTHORIZATION=Bearer $ADMIN"
check "PUT stock max: status" 200 "$AR_STATUS"
check "PUT stock max: body" '{"sku":"D","available":2147483647}' "$AR_BODY"
check "PUT stock max: in Redis" 2147483647 "$(ar_stock D)"
ar_fcgi PUT /stock/D '{"available":0}' "HTTP_AUTHORIZATION=Bearer $ADMIN"
check "PUT stock 0" '{"sku":"D","available":0}' "$AR_BODY"
ar_fcgi GET /stock/D
check "GET stock after PUT" '{"sku":"D","available":0}' "$AR_BODY"
ar_fcgi PUT /stock/E.f_g-1 '{"available":7}' "HTTP_AUTHORIZATION=Bearer $ADMIN"
check "PUT stock of a new SKU" 200 "$AR_STATUS"
ar_token
ar_fcgi POST /orders "{\"items\":[{\"sku\":\"E.f_g-1\",\"qty\":7}],\"token\":\"$AR_TOKEN\"}"
check "an order against PUT stock" 201 "$AR_STATUS"
check "that stock is now 0" 0 "$(ar_stock E.f_g-1)"

###########################################################################
# Phase 2: short TTLs (token_ttl = result_ttl = SHORT s). Redis decides both
# expiries from its own clock, so the test measures its own elapsed time:
# "created" is asserted only for a submission that began less than SHORT s
# after its token was asked for (a slower machine is told so, not passed),
# and "expired" only after SHORT s and a margin have surely gone by.
SHORT=10
restart_app token_ttl=$SHORT result_ttl=$SHORT token_rate=0
ar_token
check "short TTL: expires_in" "{\"token\":\"$AR_TOKEN\",\"expires_in\":$SHORT}" "$AR_BODY"
TX=$AR_TOKEN
stockA=$(ar_stock A)
n=$(ar_xlen)
t_ty=$(ar_now_ms)
ar_token
TY=$AR_TOKEN
ar_fcgi POST /orders "{\"items\":[{\"sku\":\"A\",\"qty\":1}],\"token\":\"$TY\"}"
took=$(($(ar_now_ms) - t_ty))
if [ "$took" -lt $((SHORT * 1000)) ]; then
	check "short TTL: created ($took ms after asking for the token)" 201 "$AR_STATUS"
else
	not_ok "short TTL: token and order took $took ms, not under token_ttl = $SHORT s: this machine is too slow for the check"
fi
# Past both expiries: SHORT s after the last of them began, plus 1 s for
# the clocks' rounding.
rest=$((t_ty + took + SHORT * 1000 + 1000 - $(ar_now_ms)))
[ "$rest" -le 0 ] || sleep "$((rest / 1000)).$(printf '%03d' $((rest % 1000)))"
check "the used token's outcome expired with result_ttl" 0 \
	"$(ar_redis EXISTS "$(ar_token_key "$TY")")"
check_match "an expired token is still in its window's hash (W = 10 s, the least; kept 100 s)" \
	'^ar:tw:10:[0-9]+ [0-9]{13}$' "$(ar_pending "$TX")"
ar_fcgi POST /orders "{\"items\":[{\"sku\":\"A\",\"qty\":1}],\"token\":\"$TX\"}"
check_error "an expired token" 422 invalid_token
ar_fcgi POST /orders "{\"items\":[{\"sku\":\"A\",\"qty\":1}],\"token\":\"$TY\"}"
check_error "after result_ttl the same order" 422 invalid_token
check "after result_ttl: no second order" $((n + 1)) "$(ar_xlen)"
check "after result_ttl: stock moved once" $((stockA - 1)) "$(ar_stock A)"

###########################################################################
# Phase 3: bind = header:X-User, token_rate = 3, base_path = /shop/api.
restart_app bind=header:X-User token_rate=3 base_path=/shop/api
AR_BASE=/shop/api
ar_redis SET ar:stock:A 100 >/dev/null
ar_fcgi POST /tokens '' HTTP_X_USER=alice
check "base_path: /tokens outside it" 404 "$AR_STATUS"
ar_token HTTP_X_USER=alice
TA=$AR_TOKEN
check "bind: POST /tokens under base_path" 201 "$AR_STATUS"
check_match "bind: token bound to alice" '^[0-9]{13}:alice$' "$(ar_pending "$TA" | cut -d' ' -f2-)"
ar_fcgi POST /shop/api/orders "{\"items\":[{\"sku\":\"A\",\"qty\":1}],\"token\":\"$TA\"}" HTTP_X_USER=bob
check_error "bind: bob submits alice's token" 422 invalid_token
ar_fcgi POST /shop/api/orders "{\"items\":[{\"sku\":\"A\",\"qty\":1}],\"token\":\"$TA\"}"
check_error "bind: no identity submits alice's token" 422 invalid_token
ar_fcgi POST /shop/api/orders "{\"items\":[{\"sku\":\"A\",\"qty\":1}],\"token\":\"$TA\"}" HTTP_X_USER=alice
OIDA=$(ar_json_get order_id)
check "bind: alice submits her token (untouched by bob)" 201 "$AR_STATUS"
check "bind: Location under base_path" "/shop/api/orders/$OIDA" "$(ar_header Location)"
check "bind: order owner" alice "$(ar_redis HGET "ar:order:$OIDA" owner)"
save_body orderA
ar_fcgi POST /shop/api/orders "{\"items\":[{\"sku\":\"A\",\"qty\":1}],\"token\":\"$TA\"}" HTTP_X_USER=alice
check_replay "bind: alice replays" 201 orderA "/shop/api/orders/$OIDA"
ar_fcgi POST /shop/api/orders "{\"items\":[{\"sku\":\"A\",\"qty\":1}],\"token\":\"$TA\"}" HTTP_X_USER=bob
check_error "bind: bob replays alice's used token" 422 invalid_token
ar_fcgi GET "/shop/api/orders/$OIDA" '' HTTP_X_USER=alice
check "bind: alice GETs her order" 200 "$AR_STATUS"
ar_fcgi GET "/shop/api/orders/$OIDA" '' HTTP_X_USER=bob
check_error "bind: bob GETs alice's order" 404 not_found
ar_fcgi GET "/shop/api/orders/$OIDA"
check_error "bind: no identity GETs alice's order" 404 not_found
ar_fcgi GET "/orders/$OIDA" '' HTTP_X_USER=alice
check_error "base_path: order route outside it" 404 not_found
ar_token
TN=$AR_TOKEN
ar_fcgi POST /shop/api/orders "{\"items\":[{\"sku\":\"A\",\"qty\":1}],\"token\":\"$TN\"}" HTTP_X_USER=alice
check_error "bind: a token issued without identity, submitted by alice" 422 invalid_token
long=$(printf '%0300d' 0)
ar_fcgi POST /shop/api/tokens '' "HTTP_X_USER=$long"
check_error "identity over 256 bytes (tokens)" 400 invalid_identity
ar_fcgi POST /shop/api/tokens '' "HTTP_X_USER=$(printf 'a\001b')"
check_error "identity with a control byte (tokens)" 400 invalid_identity
ar_fcgi POST /shop/api/orders "{\"items\":[{\"sku\":\"A\",\"qty\":1}],\"token\":\"$TN\"}" "HTTP_X_USER=$long"
check_error "identity over 256 bytes (orders)" 400 invalid_identity

# Rate limit: 3 per 60 s per client (identity, else REMOTE_ADDR). A fresh
# identity, dave, and a fresh address ask 4 times each in a row; the window
# opens at the first, so the test measures that the 4th came within 60 s.
ar_fcgi GET /shop/api/metrics
R0="$(ar_metric antireplay_tokens_issued_total) $(ar_metric antireplay_rate_limited_total)"
t_rate=$(ar_now_ms)
for i in 1 2 3; do ar_token HTTP_X_USER=dave; done
check "rate: dave 3rd" 201 "$AR_STATUS"
ar_token HTTP_X_USER=dave
took=$(($(ar_now_ms) - t_rate))
if [ "$took" -lt 60000 ]; then
	check_error "rate: dave 4th, $took ms after his 1st" 429 rate_limited
else
	not_ok "rate: dave's 4 tokens took $took ms, not under the 60 s window: this machine is too slow for the check"
fi
ra=$(ar_header Retry-After)
check_match "rate: Retry-After 1..60 (got '$ra')" '^([1-9]|[1-5][0-9]|60)$' "$ra"
ar_token HTTP_X_USER=carol
check "rate: carol, same address, has her own window" 201 "$AR_STATUS"
t_rate=$(ar_now_ms)
for i in 1 2 3; do ar_token REMOTE_ADDR=127.0.0.2; done
check "rate: 127.0.0.2 3rd" 201 "$AR_STATUS"
ar_token REMOTE_ADDR=127.0.0.2
took=$(($(ar_now_ms) - t_rate))
if [ "$took" -lt 60000 ]; then
	check_error "rate: 127.0.0.2 4th, $took ms after its 1st" 429 rate_limited
else
	not_ok "rate: 127.0.0.2's 4 tokens took $took ms, not under the 60 s window: this machine is too slow for the check"
fi
check "rate: the counter key of an address" 4 "$(ar_redis GET ar:rate:a:127.0.0.2)"
check "rate: the counter key of an identity" 4 "$(ar_redis GET ar:rate:i:dave)"
ttl=$(ar_redis TTL ar:rate:i:dave)
check_match "rate: the window is 60 s (TTL $ttl)" '^([1-9]|[1-5][0-9]|60)$' "$ttl"
check_match "rate: Retry-After (address)" '^([1-9]|[1-5][0-9]|60)$' "$(ar_header Retry-After)"
ar_token REMOTE_ADDR=127.0.0.3
check "rate: 127.0.0.3 has its own window" 201 "$AR_STATUS"
ar_fcgi GET /shop/api/metrics
R1="$(ar_metric antireplay_tokens_issued_total) $(ar_metric antireplay_rate_limited_total)"
check_metrics_delta "rate: metrics" "$R0" "$R1" "8 2"
AR_BASE=

###########################################################################
# Phase 4: duplicate_mode = reject, no admin token, key_prefix = rj:.
ar_redis --scan --pattern 'ar:*' | sort >"$AR_TMP/keys.ar.before"
restart_app duplicate_mode=reject token_rate=0 key_prefix=rj:
ar_redis SET rj:stock:A 100 >/dev/null
D0=$(metrics_snapshot)
ar_token
TR=$AR_TOKEN
ar_fcgi POST /orders "{\"items\":[{\"sku\":\"A\",\"qty\":1}],\"token\":\"$TR\"}"
OIDR=$(ar_json_get order_id)
check "reject mode: first submission created" 201 "$AR_STATUS"
n=$(ar_xlen rj:)
ar_fcgi POST /orders "{\"items\":[{\"sku\":\"A\",\"qty\":1}],\"token\":\"$TR\"}"
check_error "reject mode: same payload" 409 duplicate_request "\"order_id\":\"$OIDR\""
ar_fcgi POST /orders "{\"items\":[{\"sku\":\"A\",\"qty\":2}],\"token\":\"$TR\"}"
check_error "reject mode: other payload" 409 duplicate_request "\"order_id\":\"$OIDR\""
check "reject mode: no second order" "$n" "$(ar_xlen rj:)"
check "reject mode: stock moved once" 99 "$(ar_stock A rj:)"
ar_token
ar_fcgi POST /orders "{\"items\":[{\"sku\":\"A\",\"qty\":1000}],\"token\":\"$AR_TOKEN\"}"
check_error "reject mode: first outcome out of stock" 409 out_of_stock '"sku":"A","available":99'
ar_fcgi POST /orders "{\"items\":[{\"sku\":\"A\",\"qty\":1000}],\"token\":\"$AR_TOKEN\"}"
check_error "reject mode: duplicate of an outcome without order" 409 duplicate_request
D1=$(metrics_snapshot)
check_metrics_delta "reject mode: metrics" "$D0" "$D1" "2 0 1 0 3 0 0 0 1"
ar_fcgi PUT /stock/A '{"available":5}' "HTTP_AUTHORIZATION=Bearer $ADMIN"
check_error "PUT stock without admin_token configured" 403 admin_disabled
ar_fcgi PUT /stock/A '{"available":5}'
check_error "PUT stock without admin_token, no Authorization" 403 admin_disabled
check "admin_disabled changed nothing" 99 "$(ar_stock A rj:)"
ar_fcgi GET /stock/A
check "GET stock needs no admin token" '{"sku":"A","available":99}' "$AR_BODY"
check "key_prefix: token, order, stream, stock, metrics under rj:" 5 \
	"$(ar_redis EXISTS "$(ar_token_key "$TR" rj:)" "rj:order:$OIDR" rj:orders rj:stock:A rj:metrics)"
# (Keys of earlier phases may expire meanwhile: only additions count.)
ar_redis --scan --pattern 'ar:*' | sort >"$AR_TMP/keys.ar.after"
check "key_prefix: no key added under ar:" "" \
	"$(comm -13 "$AR_TMP/keys.ar.before" "$AR_TMP/keys.ar.after" | tr '\n' ' ')"
ar_fcgi HEAD /metrics
check "HEAD metrics" 200 "$AR_STATUS"

# The log (stderr, debug level) never holds a whole token or the admin token.
ar_stop_app
cat "$AR_TMP/app.log" >>"$AR_TMP/all.log"
check "the app logged something" 1 "$([ -s "$AR_TMP/all.log" ] && echo 1 || echo 0)"
leaked=""
for t in "$T" "$T1" "$T3" "$T6" "$TF" "$TH" "$TB" "$TE" "$TX" "$TY" "$TA" "$TN" "$TR" "$ADMIN"; do
	[ -z "$t" ] || ! grep -qiF -- "$t" "$AR_TMP/all.log" || leaked="$leaked $t"
done
check "no whole token or admin token in the log" "" "$leaked"

ar_audit_report
ar_done
