#!/bin/sh
# Security properties at the app's socket (one worker under spawn-fcgi):
#   a) issuance flood from one client: with token_rate=5, 5 tokens then
#      429 rate_limited with Retry-After 1..60, and no key for a refused
#      one; another client has its own budget.
#   b) Redis memory per outstanding token and per recorded outcome
#      (token_rate=0, N=2000 tokens, then N one-line orders): one field
#      per token in its issue window's hash, each with an expiry of
#      token_ttl; the bytes are reported (used_memory before/after), not
#      asserted (bench/run measures them against the target).
#   c) no secret in logs: after a full scenario at log_level=debug (tokens,
#      orders, replays, reuse, malformed and unknown tokens, bad JSON around
#      a token, a Redis stall, admin PUTs with the right and wrong admin
#      tokens) the log holds no whole token and no admin token.
#   d) no client input reflected into response headers (CR LF and odd
#      bytes in the token, the identity, the path, the method).
#   e) every JSON string escaped: a customer with quotes, backslashes,
#      control characters and non-ASCII round-trips through GET /orders as
#      valid JSON (jq); error messages stay valid JSON too.
#   f) the Redis ACL line suggested in docs/security.md (read from it) is
#      enough for every route and the gate, and refuses everything else.

. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"

JQ=$(command -v jq || true)
ar_require "$CGI_FCGI" "$JQ" "$(command -v perl || true)"
ar_setup
ar_start_redis

JSON1='{"items":[{"sku":"SKU-1","qty":1}]}'
ar_redis SET ar:stock:SKU-1 1000000 >/dev/null

# --- a) issuance flood -----------------------------------------------------
ar_write_config token_rate=5 log_level=info
ar_start_app 1
# The rate window is 60 s from the first request (lua/issue_token.lua): the
# 20 requests must fall in it, and take a few seconds even on a slow machine.
codes=""
i=0
while [ $i -lt 20 ]; do
	ar_token REMOTE_ADDR=192.0.2.7
	codes="$codes $AR_STATUS"
	i=$((i + 1))
done
check "20 POST /tokens from one client, token_rate=5" \
	" 201 201 201 201 201 429 429 429 429 429 429 429 429 429 429 429 429 429 429 429" "$codes"
check_error "the 20th" 429 rate_limited
check_match "Retry-After is 1..60 s" '^([1-9]|[1-5][0-9]|60)$' "$(ar_header Retry-After)"
check "a refused issuance stores nothing: 5 unused tokens, 1 rate counter" "5 1" \
	"$(ar_pending_count) $(ar_redis --scan --pattern 'ar:rate:*' | wc -l)"
check_match "the rate counter a:192.0.2.7 expires within 60 s" '^([1-9]|[1-5][0-9]|60)$' \
	"$(ar_redis TTL ar:rate:a:192.0.2.7)"
ar_token REMOTE_ADDR=192.0.2.8
check "another client still gets a token" 201 "$AR_STATUS"
ar_fcgi GET /metrics ""
check "metrics count the 15 refusals" 15 "$(ar_metric antireplay_rate_limited_total)"
ar_stop_app

# --- b) Redis memory per token and per outcome -----------------------------
N=2000
# An hour: the N tokens stay valid through both floods however slow the
# machine, and the issue windows are 450 s (W = token_ttl / 8).
TTL=3600
W=$((TTL / 8))
ar_redis FLUSHALL >/dev/null
ar_redis SET ar:stock:SKU-1 1000000 >/dev/null
ar_write_config token_rate=0 token_ttl=$TTL log_level=info
ar_start_app 1
s0=$(date +%s)
ms0=$(ar_now_ms)
ar_token # scripts loaded, metrics hash made before measuring: N + 1 tokens
used_memory() {
	ar_redis INFO memory | tr -d '\r' | sed -n 's/^used_memory:\([0-9]*\)$/\1/p'
}
raw() {
	perl "$top_srcdir/tests/integration/fcgi_probe.pl" --socket "$AR_APP_SOCK" \
		--param REMOTE_ADDR=127.0.0.1 --param SERVER_PROTOCOL=HTTP/1.1 "$@"
}
m0=$(used_memory)
k0=$(ar_redis DBSIZE)
raw --param REQUEST_METHOD=POST --param REQUEST_URI=/tokens --repeat $N \
	--bodies "$AR_TMP/tokens.json" >"$AR_TMP/flood.out"
m1=$(used_memory)
k1=$(ar_redis DBSIZE)
check "$N POST /tokens with token_rate=0: all 201" "$N" "$(grep -c 'status=201' "$AR_TMP/flood.out")"
check "every outstanding token is one field of a window's hash" $((N + 1)) "$(ar_pending_count)"
# One more hash per issue window the flood reached past the first token's:
# by the clock, not by how long the flood took.
crossed=$(($(date +%s) / W - s0 / W))
if [ $((k1 - k0)) -ge 0 ] && [ $((k1 - k0)) -le "$crossed" ]; then
	ok "no key per token: $((k1 - k0)) more keys for $crossed more issue windows (keys $k0 -> $k1)"
else
	not_ok "no key per token: keys $k0 -> $k1 over $crossed more issue windows of $W s"
fi
now_ms=$(ar_now_ms)
for k in $(ar_redis --scan --pattern 'ar:tw:*'); do ar_redis HVALS "$k"; done >"$AR_TMP/expiries"
# Issued between ms0 and now: each expiry is its issue time + token_ttl.
check "every token expires token_ttl ($TTL s) after its issue" "$((N + 1))" \
	"$(awk -v t0="$ms0" -v now="$now_ms" -v ttl=$((TTL * 1000)) \
		'$1 >= t0 + ttl && $1 <= now + ttl' "$AR_TMP/expiries" | wc -l)"
sed -n 's/.*"token":"\([^"]*\)".*/\1/p' "$AR_TMP/tokens.json" >"$AR_TMP/tokens"
check "the $N tokens are distinct lowercase UUID v4" "$N $N" \
	"$(sort -u "$AR_TMP/tokens" | wc -l) $(grep -Ec "$AR_UUID4_RE" "$AR_TMP/tokens")"
tok1=$(head -n 1 "$AR_TMP/tokens")
window_key=$(ar_pending "$tok1" | cut -d' ' -f1)
key_window=$(ar_redis MEMORY USAGE "$window_key" SAMPLES 0)
window_len=$(ar_redis HLEN "$window_key")
raw --param REQUEST_METHOD=POST --param REQUEST_URI=/orders \
	--param CONTENT_TYPE=application/json --param CONTENT_LENGTH=${#JSON1} --stdin "$JSON1" \
	--repeat $N --vary HTTP_IDEMPOTENCY_KEY="$AR_TMP/tokens" --bodies "$AR_TMP/orders.json" \
	>"$AR_TMP/orders.out"
m2=$(used_memory)
check "$N one-line orders: all 201" "$N" "$(grep -c 'status=201' "$AR_TMP/orders.out")"
oid1=$(head -n 1 "$AR_TMP/orders.json" | sed -n 's/.*"order_id":"\([^"]*\)".*/\1/p')
key_outcome=$(ar_redis MEMORY USAGE "$(ar_token_key "$tok1")")
key_order=$(ar_redis MEMORY USAGE "ar:order:$oid1")
key_stream=$(ar_redis MEMORY USAGE ar:orders)
ttl_outcome=$(ar_redis TTL "$(ar_token_key "$tok1")")
check_match "a recorded outcome expires within result_ttl (86400 s)" '^[1-9][0-9]*$' \
	"$([ "$ttl_outcome" -le 86400 ] && echo "$ttl_outcome")"
echo "# Redis 'used_memory' per outstanding token: $(((m1 - m0) / N)) bytes ($N tokens: $m0 -> $m1)"
echo "# MEMORY USAGE of the window hash of the first: $key_window bytes for $window_len tokens"
echo "# used_memory per one-line order on top of its token: $(((m2 - m1) / N)) bytes ($m1 -> $m2)"
echo "#   of which: outcome record under the token $key_outcome bytes, order hash $key_order bytes, stream entry ~$((key_stream / (N + 1))) bytes (stream $key_stream bytes for $((N + 1)) entries)"
ar_stop_app

# --- c) no secret in logs --------------------------------------------------
ar_redis FLUSHALL >/dev/null
ar_redis SET ar:stock:SKU-1 1000000 >/dev/null
ar_redis SET ar:stock:SKU-2 1 >/dev/null
ADMIN=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
WRONG=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
# redis_timeout_ms: the stall below lasts until the 503 came, so this only
# sets how long that takes; it must not be short enough for a slow machine's
# plain requests to time out.
ar_write_config token_rate=0 log_level=debug admin_token="$ADMIN" redis_timeout_ms=2000
ar_start_app 1
: >"$AR_TMP/secrets"
tok() {
	ar_token
	echo "$AR_TOKEN" >>"$AR_TMP/secrets"
}
order() { # order TOKEN-HEADER BODY [VAR=VALUE...]
	_h=$1 _b=$2
	shift 2
	ar_fcgi POST /orders "$_b" HTTP_IDEMPOTENCY_KEY="$_h" "$@"
	echo "$AR_STATUS" >>"$AR_TMP/scenario"
}
tok
T1=$AR_TOKEN
tok
T2=$AR_TOKEN
tok
T3=$AR_TOKEN
tok
T4=$AR_TOKEN
tok
T5=$AR_TOKEN
UPPER=$(printf '%s' "$T1" | tr a-f A-F)
NEVER=$(cat /proc/sys/kernel/random/uuid)
echo "$NEVER" >>"$AR_TMP/secrets"
order "$T1" "$JSON1"
O1=$(ar_json_get order_id)
order "$T1" "$JSON1"
order "$UPPER" "$JSON1"
order "\"$T1\"" "$JSON1"
order "$T1" '{"items":[{"sku":"SKU-1","qty":2}]}'
order "$T3" '{"items":[{"sku":"SKU-2","qty":5}]}'
order "$T3" '{"items":[{"sku":"SKU-2","qty":5}]}'
order "$NEVER" "$JSON1"
order "${T4}x" "$JSON1"
order "$T4$T4" "$JSON1"
ar_fcgi POST /orders "token=$T2&sku=SKU-1&qty=1" CONTENT_TYPE=application/x-www-form-urlencoded
echo "$AR_STATUS" >>"$AR_TMP/scenario"
# Bodies that jansson cannot parse, with the token where its error text
# ("... near '<text>'") would quote it.
ar_fcgi POST /orders "{\"items\":[] \"$T4\"}"
echo "$AR_STATUS" >>"$AR_TMP/scenario"
ar_fcgi POST /orders "{\"token\": $T4}"
echo "$AR_STATUS" >>"$AR_TMP/scenario"
ar_fcgi POST /orders "{\"token\": x$T4}"
echo "$AR_STATUS" >>"$AR_TMP/scenario"
ar_fcgi POST /orders "[\"$T4\"" CONTENT_TYPE=application/json
echo "$AR_STATUS" >>"$AR_TMP/scenario"
# A Redis stall: the submission's outcome is unknown (503, logged with the
# token's prefix); the retry with the same token gets the recorded outcome.
# The pause is long and lifted once the 503 came: a short one could end
# before a slow machine's request reaches Redis (and the order be 201).
if ar_redis CLIENT PAUSE 60000 WRITE 2>/dev/null | grep -qx OK; then
	order "$T5" "$JSON1"
	ar_redis CLIENT UNPAUSE >/dev/null
else
	# Redis < 6.2: no WRITE mode, no UNPAUSE; every client waits out the
	# pause, this PING too.
	ar_redis CLIENT PAUSE 10000 >/dev/null
	order "$T5" "$JSON1"
	ar_redis PING >/dev/null
fi
order "$T5" "$JSON1"
ar_fcgi GET "/orders/$O1" ""
echo "$AR_STATUS" >>"$AR_TMP/scenario"
ar_fcgi PUT /stock/SKU-1 '{"available":500}' HTTP_AUTHORIZATION="Bearer $ADMIN"
echo "$AR_STATUS" >>"$AR_TMP/scenario"
ar_fcgi PUT /stock/SKU-1 '{"available":7}' HTTP_AUTHORIZATION="Bearer $WRONG"
echo "$AR_STATUS" >>"$AR_TMP/scenario"
ar_fcgi PUT /stock/SKU-1 '{"available":7}' HTTP_AUTHORIZATION="Bearer ${ADMIN}0"
echo "$AR_STATUS" >>"$AR_TMP/scenario"
ar_fcgi PUT /stock/SKU-1 '{"available":7}' HTTP_AUTHORIZATION="Basic $ADMIN"
echo "$AR_STATUS" >>"$AR_TMP/scenario"
check "the scenario's answers" \
	"201 201 201 201 422 409 409 422 400 400 201 400 400 400 400 503 201 200 200 401 401 401" \
	"$(tr '\n' ' ' <"$AR_TMP/scenario" | sed 's/ $//')"
check "stock after the admin PUTs (the wrong tokens changed nothing)" 500 \
	"$(ar_stock SKU-1)"

LOG=$AR_TMP/app.log
check_contains "the log is at debug level and shows token prefixes" \
	"issued token $(printf '%s' "$T1" | cut -c1-8)..." "$(cat "$LOG")"
check_contains "the 503 was logged with the token prefix only" \
	"order with key $(printf '%s' "$T5" | cut -c1-8)...: store unavailable" "$(cat "$LOG")"
leaks=$(grep -ciF -f "$AR_TMP/secrets" "$LOG")
check "no whole token ($(wc -l <"$AR_TMP/secrets") issued or sent) in the log" 0 "$leaks"
[ "$leaks" = 0 ] || grep -iF -f "$AR_TMP/secrets" "$LOG" | head -5 | sed 's/^/# /'
check "the admin token is not in the log" 0 "$(grep -c "$ADMIN" "$LOG")"
check "the wrong admin token is not in the log" 0 "$(grep -c "$WRONG" "$LOG")"
# Nor any 16+ character piece of them, nor the Authorization header.
check "no 16-character piece of the admin tokens in the log" 0 \
	"$(grep -c -e "$(printf '%s' "$ADMIN" | cut -c1-16)" -e "$(printf '%s' "$ADMIN" | cut -c17-32)" \
		-e "$(printf '%s' "$WRONG" | cut -c1-16)" "$LOG")"
check "no Authorization/Bearer text in the log" 0 "$(grep -ci 'bearer\|authorization' "$LOG")"

# --- d) nothing from the client in response headers ------------------------
CRLF=$(printf '\r\nX-Injected: 1')
ODD=$(printf '\001\177\377')
# head_names: the header names of the last response, one line.
head_ok() { # head_ok DESCRIPTION STATUS
	_names=$(printf '%s\n' "$AR_HEADERS" | sed -n 's/^\([^:]*\):.*/\1/p' | tr '\n' ' ')
	_bad=$(printf '%s\n' "$AR_HEADERS" | grep -v -E '^(Status|Content-Type|Cache-Control|Content-Length|Location|Allow|Retry-After|WWW-Authenticate|Idempotent-Replayed): [ -~]*$' | grep -v '^$')
	if [ "$AR_STATUS" = "$2" ] && [ -z "$_bad" ] &&
		! grep -q 'Injected' "$AR_TMP/fcgi.out" && ! LC_ALL=C grep -q "$(printf '[\001\177\377]')" "$AR_TMP/fcgi.out"; then
		ok "$1: $2, headers only $_names"
	else
		not_ok "$1: expected $2 with clean headers; got $AR_STATUS, headers: $(printf '%s' "$AR_HEADERS" | od -c | head -5)"
	fi
}
ar_stop_app
ar_write_config token_rate=0 log_level=debug bind=header:X-User admin_token="$ADMIN"
ar_start_app 1
ar_token HTTP_X_USER=alice
TA=$AR_TOKEN
ar_fcgi POST /orders "$JSON1" HTTP_IDEMPOTENCY_KEY="$TA$CRLF" HTTP_X_USER=alice
head_ok "Idempotency-Key with CR LF" 400
ar_fcgi POST /orders "$JSON1" HTTP_IDEMPOTENCY_KEY="$ODD$TA" HTTP_X_USER=alice
head_ok "Idempotency-Key with control and 0xff bytes" 400
ar_fcgi POST /orders "{\"items\":[{\"sku\":\"SKU-1\",\"qty\":1}],\"token\":\"$TA\\r\\nX-Injected: 1\"}" HTTP_X_USER=alice
head_ok "body token with an escaped CR LF" 400
ar_fcgi POST /tokens "" HTTP_X_USER="alice$CRLF"
head_ok "X-User identity with CR LF" 400
ar_fcgi POST /tokens "" HTTP_X_USER="alice$ODD"
head_ok "X-User identity with odd bytes" 400
ar_fcgi POST /orders "$JSON1" HTTP_IDEMPOTENCY_KEY="$TA" HTTP_X_USER=alice
head_ok "a good order (Location is ours)" 201
ar_fcgi POST /orders "$JSON1" HTTP_IDEMPOTENCY_KEY="$TA" HTTP_X_USER=alice
head_ok "its replay" 201
ar_fcgi GET "/orders/$TA$CRLF" ""
head_ok "path with CR LF" 404
ar_fcgi GET "/orders/$TA%0d%0aX-Injected:%201" ""
head_ok "path with an encoded CR LF" 404
ar_fcgi GET "/stock/SKU-1$ODD" ""
head_ok "path with odd bytes" 404
ar_fcgi "GET$CRLF" /tokens ""
head_ok "method with CR LF (Allow is ours)" 405
ar_fcgi PUT /stock/SKU-1 '{"available":1}' HTTP_AUTHORIZATION="Bearer x$CRLF"
head_ok "Authorization with CR LF (WWW-Authenticate is ours)" 401
check "no injected line in the log" 0 "$(grep -c '^X-Injected' "$AR_TMP/app.log")"
check "control bytes in the log are escaped" 0 \
	"$(LC_ALL=C grep -c "$(printf '[\001\177\r]')" "$AR_TMP/app.log")"

# --- e) JSON escaping --------------------------------------------------------
# A customer with quotes, backslashes, control characters (as JSON escapes
# and, for DEL, raw), and non-ASCII (raw UTF-8 and \u escapes, a surrogate
# pair, U+2028).
printf '%s' '{"items":[{"sku":"SKU-1","qty":1}],"customer":"q\"uo\"te \\back\\slash \u0001\u0008\u001f\n\t\r'"$(printf '\177')"' é€😀 \u00e9\ud83d\ude00\u2028 </script>"}' \
	>"$AR_TMP/order.json"
check "the order with odd characters is valid JSON itself" 0 \
	"$("$JQ" -e . "$AR_TMP/order.json" >/dev/null 2>&1; echo $?)"
ar_token HTTP_X_USER=bob
TB=$AR_TOKEN
ar_fcgi POST /orders "$(cat "$AR_TMP/order.json")" HTTP_IDEMPOTENCY_KEY="$TB" HTTP_X_USER=bob
check "the order with odd characters: 201" 201 "$AR_STATUS"
cp "$AR_BODY_FILE" "$AR_TMP/created.json"
OID=$(ar_json_get order_id)
ar_fcgi GET "/orders/$OID" "" HTTP_X_USER=bob
check "GET /orders/{id}: 200" 200 "$AR_STATUS"
cp "$AR_BODY_FILE" "$AR_TMP/got.json"
check "GET /orders/{id} is valid JSON (jq)" 0 "$("$JQ" -e . "$AR_TMP/got.json" >/dev/null 2>&1; echo $?)"
check "the customer round-trips exactly" true \
	"$("$JQ" --slurpfile req "$AR_TMP/order.json" '.customer == $req[0].customer' "$AR_TMP/got.json")"
check "the 201 body and the stored order are the same bytes" "" \
	"$(cmp "$AR_TMP/created.json" "$AR_TMP/got.json" 2>&1)"
check "no raw control byte in the JSON (all escaped)" 0 \
	"$(LC_ALL=C tr -d '\n' <"$AR_TMP/got.json" | LC_ALL=C grep -c "$(printf '[\001-\037]')")"
# Error messages carry client text in a few places (the form field name of
# a bad %-escape): still valid JSON with a message, whatever the bytes.
ar_fcgi POST /orders 'na%22me%5C=%zz' CONTENT_TYPE=application/x-www-form-urlencoded
check_error "form field name with a quote and a backslash, bad escape" 400 invalid_order
check "... its body is valid JSON" 0 "$("$JQ" -e . "$AR_BODY_FILE" >/dev/null 2>&1; echo $?)"
ar_fcgi POST /orders '%ff%fe=%zz' CONTENT_TYPE=application/x-www-form-urlencoded
check_error "form field name of bytes 0xff 0xfe (not UTF-8), bad escape" 400 invalid_order
ar_fcgi POST /orders "a$(awk 'BEGIN { for (i = 0; i < 16; i++) printf "%%C3%%A9" }')=%zz" \
	CONTENT_TYPE=application/x-www-form-urlencoded
check_error "form field name of 33 bytes ending in a 2-byte character, bad escape" 400 invalid_order
check "no whole token in the log of parts d and e either" 0 \
	"$(grep -ciF -e "$TA" -e "$TB" "$AR_TMP/app.log")"

# --- f) the ACL line of docs/security.md is enough, and no more ------------
ACL=$(grep -m 1 '^user antireplay on >' "$top_srcdir/docs/security.md")
PW=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
ACL=$(printf '%s\n' "$ACL" | sed "s/ >[^ ]*/ >$PW/")
check_match "docs/security.md has the suggested ACL line" '^user antireplay on >[0-9a-f]{32} ' "$ACL"
ar_stop_app
ar_stop_redis
ar_start_redis "$ACL"
ar_redis SET ar:stock:SKU-1 10 >/dev/null
# submit_rate too: with it, the submit script checks the stream's TYPE.
ar_write_config token_rate=2 submit_rate=100 log_level=info redis_user=antireplay \
	redis_password="$PW" admin_token="$ADMIN"
ar_start_app 1
acl_codes=""
acl() { # acl METHOD URI [BODY] [VAR=VALUE...]
	ar_fcgi "$@"
	acl_codes="$acl_codes $AR_STATUS"
}
acl GET /healthz ""
ar_token
acl_codes="$acl_codes $AR_STATUS"
acl POST /orders "$JSON1" HTTP_IDEMPOTENCY_KEY="$AR_TOKEN"
O2=$(ar_json_get order_id)
acl POST /orders "$JSON1" HTTP_IDEMPOTENCY_KEY="$AR_TOKEN"
acl GET "/orders/$O2" ""
acl GET /stock/SKU-1 ""
acl PUT /stock/SKU-1 '{"available":8}' HTTP_AUTHORIZATION="Bearer $ADMIN"
acl GET /metrics ""
ar_redis SCRIPT FLUSH >/dev/null
ar_token
acl_codes="$acl_codes $AR_STATUS"
acl POST /orders "$JSON1" HTTP_IDEMPOTENCY_KEY="$AR_TOKEN"
ar_token
acl_codes="$acl_codes $AR_STATUS"
check "as the ACL user: healthz, token, order, replay, GET order, GET/PUT stock, metrics, after SCRIPT FLUSH token + order, then 429" \
	" 200 201 201 201 200 200 200 200 201 201 429" "$acl_codes"
as_app() {
	"$REDIS_CLI" -s "$AR_TMP/redis.sock" --user antireplay --pass "$PW" --no-auth-warning "$@" 2>&1
}
# The gate, as this user: a request allowed, then refused (both steps of
# lua/gate.lua); a confirm asked again after a lost reply.
# Tokens from other addresses: 127.0.0.1 has used its token_rate.
ar_token REMOTE_ADDR=127.0.0.2
acl_codes=""
ar_fcgi POST /shop/checkout.php "" ANTIREPLAY_GATE=1 HTTP_IDEMPOTENCY_KEY="$AR_TOKEN"
acl_codes="$acl_codes $AR_STATUS"
ar_fcgi POST /shop/checkout.php "" ANTIREPLAY_GATE=1 HTTP_IDEMPOTENCY_KEY="$AR_TOKEN"
acl_codes="$acl_codes $AR_STATUS $(ar_header X-Antireplay-Status)"
ar_token REMOTE_ADDR=127.0.0.3
G=11111111-2222-4333-8444-555555555555
set -- $(ar_pending "$AR_TOKEN")
for step in reserve confirm confirm; do
	acl_codes="$acl_codes $(as_app EVAL "$(cat "$(ar_lua gate)")" 5 \
		"$(ar_token_key "$AR_TOKEN")" "$(ar_token_key "$AR_TOKEN")" ar:metrics ar:srate:x "$1" \
		$step '' "POST /p" 60 "$G" 5000 1 "$(ar_token_field "$AR_TOKEN")" "$(date +%s)" 30 \
		0 0 | head -n 1)"
done
check "as the ACL user: the gate allows, refuses; reserve, confirm, confirm again" \
	" 200 403 409 reserved allowed allowed" "$acl_codes"
check "Redis denied the app nothing (ACL LOG empty)" "" "$(ar_redis ACL LOG)"
denied=""
set -f
for cmd in "EVAL|return redis.call('FLUSHALL')|0" FLUSHALL 'KEYS|*' 'CONFIG|GET|dir' 'GET|other' 'SET|other|1' \
	'DEL|ar:stock:SKU-1' 'RENAME|ar:stock:SKU-1|ar:x'; do
	_ifs=$IFS
	IFS='|'
	set -- $cmd
	IFS=$_ifs
	case $(as_app "$@") in
	NOPERM* | *"no permissions"* | *"can't run"*) ;;
	*) denied="$denied [$* allowed: $(as_app "$@")]" ;;
	esac
done
set +f
sha=$(as_app SCRIPT LOAD "return redis.call('GET', 'other')")
case $(as_app EVALSHA "$sha" 0) in
*"can't access"* | *NOPERM*) ;;
*) denied="$denied [a loaded script read a key outside ar:]" ;;
esac
check "the ACL user is refused other commands and keys" "" "$denied"

ar_done
