#!/bin/sh
# Limits, enforced at the app's own socket (no web server in front to trim
# anything): one worker under spawn-fcgi, driven with cgi-fcgi and with the
# raw FastCGI client tests/integration/fcgi_probe.pl for what cgi-fcgi cannot
# send.
#   a) max_body: a declared CONTENT_LENGTH over max_body is answered 413
#      before the client has sent the rest; without CONTENT_LENGTH (EOF
#      ends the body) the app stops reading one byte past max_body;
#      exactly max_body bytes are accepted.
#   b) order rules at their bounds: 50/51 items (JSON and form), sku 64/65
#      bytes, qty 1000/1001, customer 256/257 bytes; a 400 leaves the token
#      usable, so the corrected order with the same token is 201.
#   c) huge and many params: a 1 MB HTTP_X_PADDING, a 1 MB REQUEST_URI and
#      CONTENT_TYPE, 10,000 small params: a clear JSON answer each.
#   d) Idempotency-Key and identity oversize: malformed_token and
#      invalid_identity (header, repeated header, cookie, REMOTE_USER).
# After every step the same worker PID is alive and serving.

. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/lib/probe.sh"

ar_require "$CGI_FCGI" "$(command -v perl || true)"
ar_setup
ar_start_redis
ar_write_config token_rate=0 max_body=16384 log_level=info
ar_start_app 1
WORKER=$AR_APP_PIDS

JSON1='{"items":[{"sku":"SKU-1","qty":1}]}'
ar_redis SET ar:stock:SKU-1 1000000 >/dev/null

# repeat_str STRING N: STRING N times.
repeat_str() {
	awk -v s="$1" -v n="$2" 'BEGIN { while (n-- > 0) printf "%s", s }'
}

# The params every raw request carries (the caller adds the rest).
raw_base() {
	echo "--param REQUEST_METHOD=$1 --param REQUEST_URI=$2 --param SCRIPT_NAME=$2 \
		--param SERVER_PROTOCOL=HTTP/1.1 --param REMOTE_ADDR=127.0.0.1"
}

# worker_ok WHAT: the one worker is still the same live process and serves.
worker_ok() {
	ar_fcgi GET /healthz ""
	if ar_alive "$WORKER" && [ "$AR_STATUS" = 200 ] &&
		[ "$(cat "$AR_TMP/app.pid" | tr -d ' \n')" = "$WORKER" ] &&
		tail -n 1 "$AR_TMP/app.log" | grep -q "\[$WORKER\] info: GET healthz 200"; then
		ok "after $1: worker $WORKER alive and serving"
	else
		not_ok "after $1: worker $WORKER not serving (healthz $AR_STATUS; $(tail -n 3 "$AR_TMP/app.log"))"
	fi
}

# --- a) max_body ----------------------------------------------------------
# 10 MB declared, 4 KB sent, then the client sends nothing more and waits:
# the answer comes while 10,481,664 bytes are still unsent. (The probe's own
# bound, 30 s, is only for a hung worker: an app that waited for the body
# would answer 400 incomplete_body after client_timeout_ms, 10 s, and fail
# the check on the answer, however fast the machine.)
BIG=10485760
t0=$(ar_now_ms)
ar_probe "$AR_TMP/r" $(raw_base POST /orders) --param CONTENT_TYPE=application/json \
	--param CONTENT_LENGTH=$BIG --stdin-bytes $BIG --send-stdin 4096
t1=$(ar_now_ms)
check_error "CONTENT_LENGTH $BIG > max_body, 4096 bytes sent" 413 body_too_large
check "answered before the client sent the rest (sent/answered)" "4096 response" \
	"$(ar_probe_field stdin_sent) $(ar_probe_field result)"
echo "# 413 for a declared $BIG-byte body came after $((t1 - t0)) ms with 4096 bytes sent"
worker_ok "413 on CONTENT_LENGTH"

# No CONTENT_LENGTH (Apache's chunked bodies, nginx unbuffered): the app
# reads max_body + 1 bytes and answers while the client is still sending.
ar_probe "$AR_TMP/r" $(raw_base POST /orders) --param CONTENT_TYPE=application/json \
	--stdin-bytes $BIG
check_error "no CONTENT_LENGTH, $BIG-byte body" 413 body_too_large
sent=$(ar_probe_field stdin_sent)
if [ "$sent" -lt "$BIG" ]; then
	ok "no CONTENT_LENGTH: answered after $sent of $BIG bytes"
else
	not_ok "no CONTENT_LENGTH: the client had to send all $sent bytes first"
fi
worker_ok "413 on a body without CONTENT_LENGTH"

# Exactly max_body (valid JSON padded with spaces) is read; one more is not.
pad_json() { # pad_json BYTES: JSON1 padded to BYTES bytes
	printf '%s%s' "$JSON1" "$(repeat_str ' ' $(($1 - ${#JSON1})))"
}
pad_json 16384 >"$AR_TMP/b16384"
pad_json 16385 >"$AR_TMP/b16385"
for declared in yes no; do
	cl16384="--param CONTENT_LENGTH=16384" cl16385="--param CONTENT_LENGTH=16385"
	[ $declared = yes ] || cl16384="" cl16385=""
	ar_probe "$AR_TMP/r" $(raw_base POST /orders) --param CONTENT_TYPE=application/json \
		$cl16384 --stdin "$(cat "$AR_TMP/b16384")"
	check_error "16384-byte body (= max_body), CONTENT_LENGTH given: $declared: read, then" \
		400 missing_token
	ar_probe "$AR_TMP/r" $(raw_base POST /orders) --param CONTENT_TYPE=application/json \
		$cl16385 --stdin "$(cat "$AR_TMP/b16385")"
	check_error "16385-byte body, CONTENT_LENGTH given: $declared" 413 body_too_large
done

# A CONTENT_LENGTH too large for a long is still "too large", refused
# unread; one that is not a number is 400 incomplete_body.
for cl in 99999999999 99999999999999999999999999; do
	ar_probe "$AR_TMP/r" $(raw_base POST /orders) --param CONTENT_TYPE=application/json \
		--param CONTENT_LENGTH=$cl --stdin-bytes 65536 --send-stdin 1024
	check_error "CONTENT_LENGTH $cl, 1024 bytes sent" 413 body_too_large
done
ar_probe "$AR_TMP/r" $(raw_base POST /orders) --param CONTENT_TYPE=application/json \
	--param CONTENT_LENGTH=12x --stdin-bytes 12
check_error "CONTENT_LENGTH 12x" 400 incomplete_body

# PUT /stock (admin) has the same bound, after the admin check.
ar_stop_app
ar_write_config token_rate=0 max_body=16384 log_level=info admin_token=limits-admin-token-0123456789
ar_start_app 1
WORKER=$AR_APP_PIDS
ar_probe "$AR_TMP/r" $(raw_base PUT /stock/SKU-1) --param CONTENT_TYPE=application/json \
	--param HTTP_AUTHORIZATION="Bearer limits-admin-token-0123456789" \
	--param CONTENT_LENGTH=$BIG --stdin-bytes $BIG --send-stdin 4096
check_error "PUT /stock with a $BIG-byte body" 413 body_too_large
check "PUT /stock: answered with 4096 bytes sent" "4096" "$(ar_probe_field stdin_sent)"

# --- b) order rules at their bounds ----------------------------------------
# items_json N: N lines SKU-1..SKU-N, qty 1.
items_json() {
	awk -v n="$1" 'BEGIN { printf "{\"items\":["
		for (i = 1; i <= n; i++) printf "%s{\"sku\":\"SKU-%d\",\"qty\":1}", (i > 1 ? "," : ""), i
		printf "]}" }'
}
items_form() {
	awk -v n="$1" 'BEGIN { for (i = 1; i <= n; i++) printf "%ssku=SKU-%d&qty=1", (i > 1 ? "&" : ""), i }'
}
i=1
while [ $i -le 51 ]; do
	echo "SET ar:stock:SKU-$i 1000000"
	i=$((i + 1))
done | ar_redis >/dev/null

# bound NAME BAD_BODY GOOD_BODY [CONTENT_TYPE]: BAD is 400 invalid_order,
# then GOOD with the same token is 201.
bound() {
	_ct=${4:-application/json}
	ar_token
	_tok=$AR_TOKEN
	ar_fcgi POST /orders "$2" HTTP_IDEMPOTENCY_KEY="$_tok" CONTENT_TYPE="$_ct"
	check_error "$1: outside the bound" 400 invalid_order
	ar_fcgi POST /orders "$3" HTTP_IDEMPOTENCY_KEY="$_tok" CONTENT_TYPE="$_ct"
	check "$1: at the bound, same token" 201 "$AR_STATUS"
}

bound "51/50 items (JSON)" "$(items_json 51)" "$(items_json 50)"
check_contains "50 items: all 50 lines in the order" '"sku":"SKU-50","qty":1}]' "$AR_BODY"
bound "51/50 items (form)" "$(items_form 51)" "$(items_form 50)" \
	application/x-www-form-urlencoded

SKU64=$(repeat_str S 64)
ar_redis SET "ar:stock:$SKU64" 1000000 >/dev/null
ar_redis SET "ar:stock:${SKU64}S" 1000000 >/dev/null
bound "sku 65/64 bytes" "{\"items\":[{\"sku\":\"${SKU64}S\",\"qty\":1}]}" \
	"{\"items\":[{\"sku\":\"$SKU64\",\"qty\":1}]}"
bound "qty 1001/1000" '{"items":[{"sku":"SKU-1","qty":1001}]}' \
	'{"items":[{"sku":"SKU-1","qty":1000}]}'
bound "qty 0/1" '{"items":[{"sku":"SKU-1","qty":0}]}' '{"items":[{"sku":"SKU-1","qty":1}]}'
bound "qty 1001/1000 (form)" 'sku=SKU-1&qty=1001' 'sku=SKU-1&qty=1000' \
	application/x-www-form-urlencoded
C256=$(repeat_str c 256)
bound "customer 257/256 bytes" \
	"{\"items\":[{\"sku\":\"SKU-1\",\"qty\":1}],\"customer\":\"${C256}c\"}" \
	"{\"items\":[{\"sku\":\"SKU-1\",\"qty\":1}],\"customer\":\"$C256\"}"
# 2-byte characters: 129 x U+00E9 is 258 bytes, 128 is 256.
E128=$(repeat_str 'é' 128)
bound "customer 258/256 bytes of UTF-8" \
	"{\"items\":[{\"sku\":\"SKU-1\",\"qty\":1}],\"customer\":\"${E128}é\"}" \
	"{\"items\":[{\"sku\":\"SKU-1\",\"qty\":1}],\"customer\":\"$E128\"}"
bound "customer 257/256 bytes (form)" "sku=SKU-1&qty=1&customer=${C256}c" \
	"sku=SKU-1&qty=1&customer=$C256" application/x-www-form-urlencoded

# Shapes that cost the parser: too deep, too many form fields.
ar_fcgi POST /orders "$(repeat_str '[' 33)$(repeat_str ']' 33)"
check_error "JSON nested 33 deep" 400 invalid_json
ar_fcgi POST /orders "$(repeat_str '[' 16000)"
check_error "16,000 open brackets" 400 invalid_json
ar_fcgi POST /orders "$(repeat_str 'a=1&' 513)sku=SKU-1&qty=1" \
	CONTENT_TYPE=application/x-www-form-urlencoded
check_error "515 form fields (the parser stops at 512)" 400 invalid_order
worker_ok "the order bounds"

# --- c) huge and many params -----------------------------------------------
MB=1048576
ar_probe "$AR_TMP/r" $(raw_base POST /orders) --param CONTENT_TYPE=application/json \
	--pad HTTP_X_PADDING=$MB --param CONTENT_LENGTH=${#JSON1} --stdin "$JSON1"
check_error "1 MB HTTP_X_PADDING param, order without token" 400 missing_token
ar_probe "$AR_TMP/r" $(raw_base POST /tokens) --pad HTTP_X_PADDING=$MB
check "1 MB HTTP_X_PADDING param, POST /tokens" 201 "$AR_STATUS"
ar_probe "$AR_TMP/r" --param REQUEST_METHOD=GET --pad REQUEST_URI=$MB --param REMOTE_ADDR=127.0.0.1
check_error "1 MB REQUEST_URI" 404 not_found
ar_probe "$AR_TMP/r" $(raw_base POST /orders) --pad CONTENT_TYPE=$MB \
	--param CONTENT_LENGTH=${#JSON1} --stdin "$JSON1"
check_error "1 MB CONTENT_TYPE" 415 unsupported_media_type
worker_ok "1 MB params"

t0=$(ar_now_ms)
ar_probe "$AR_TMP/r" $(raw_base GET /healthz) --many 10000
t1=$(ar_now_ms)
check "10,000 small params, GET /healthz" "200 {\"status\":\"ok\"}" "$AR_STATUS $AR_BODY"
echo "# 10,000 params answered in $((t1 - t0)) ms (client included)"
ar_probe "$AR_TMP/r" $(raw_base POST /tokens) --many 10000
check "10,000 small params, POST /tokens" 201 "$AR_STATUS"
# 1 MB in 10,000 params of 100 bytes each.
ar_probe "$AR_TMP/r" $(raw_base POST /tokens) --many 10000 --many-size 100 --many-name HTTP_X_SAME
check "10,000 repeats of one 100-byte param (1 MB), POST /tokens" 201 "$AR_STATUS"
worker_ok "10,000 params"

# --- d) Idempotency-Key and identity oversize ------------------------------
UUID=0b8e1c2a-3f4d-4e5f-8a6b-7c8d9e0f1a2b
ar_fcgi POST /orders "$JSON1" HTTP_IDEMPOTENCY_KEY="${UUID}0"
check_error "Idempotency-Key of 37 characters" 400 malformed_token
ar_probe "$AR_TMP/r" $(raw_base POST /orders) --param CONTENT_TYPE=application/json \
	--pad HTTP_IDEMPOTENCY_KEY=65536 --param CONTENT_LENGTH=${#JSON1} --stdin "$JSON1"
check_error "64 KB Idempotency-Key" 400 malformed_token
ar_probe "$AR_TMP/r" $(raw_base POST /orders) --param CONTENT_TYPE=application/json \
	--pad HTTP_IDEMPOTENCY_KEY=$MB --param CONTENT_LENGTH=${#JSON1} --stdin "$JSON1"
check_error "1 MB Idempotency-Key" 400 malformed_token
ar_probe "$AR_TMP/r" $(raw_base POST /orders) --param CONTENT_TYPE=application/json \
	--many 10000 --many-name HTTP_IDEMPOTENCY_KEY --param CONTENT_LENGTH=${#JSON1} --stdin "$JSON1"
check_error "Idempotency-Key repeated 10,000 times" 400 malformed_token
# The body's token is bounded the same way.
ar_fcgi POST /orders "{\"items\":[{\"sku\":\"SKU-1\",\"qty\":1}],\"token\":\"$(repeat_str a 8000)\"}"
check_error "8000-byte token in the body" 400 malformed_token
worker_ok "oversize tokens"

# identity_case NAME STATUS [raw options...]: POST /tokens answers STATUS
# (201, or 400 invalid_identity).
identity_case() {
	_name=$1 _want=$2
	shift 2
	ar_probe "$AR_TMP/r" $(raw_base POST /tokens) "$@"
	if [ "$_want" = 201 ]; then
		check "$_name" 201 "$AR_STATUS"
	else
		check_error "$_name" 400 invalid_identity
	fi
}

ar_stop_app
ar_write_config token_rate=0 log_level=info bind=header:X-User
ar_start_app 1
WORKER=$AR_APP_PIDS
identity_case "X-User of 256 bytes" 201 --pad HTTP_X_USER=256
identity_case "X-User of 257 bytes" 400 --pad HTTP_X_USER=257
identity_case "X-User of 64 KB" 400 --pad HTTP_X_USER=65536
identity_case "X-User of 1 MB" 400 --pad HTTP_X_USER=$MB
identity_case "X-User twice, 127 bytes each (joined: 256)" 201 \
	--param HTTP_X_USER="$(repeat_str u 127)" --param HTTP_X_USER="$(repeat_str u 127)"
identity_case "X-User twice, 128 bytes each (joined: 258)" 400 \
	--param HTTP_X_USER="$(repeat_str u 128)" --param HTTP_X_USER="$(repeat_str u 128)"
identity_case "X-User repeated 10,000 times" 400 --many 10000 --many-name HTTP_X_USER
identity_case "X-User with a control byte" 400 --param HTTP_X_USER="$(printf 'a\tb')"
ar_probe "$AR_TMP/r" $(raw_base GET "/orders/$UUID") --pad HTTP_X_USER=65536
check_error "GET /orders/{id} with a 64 KB X-User" 400 invalid_identity
ar_probe "$AR_TMP/r" $(raw_base POST /orders) --param CONTENT_TYPE=application/json \
	--param HTTP_IDEMPOTENCY_KEY=$UUID --pad HTTP_X_USER=65536 \
	--param CONTENT_LENGTH=${#JSON1} --stdin "$JSON1"
check_error "POST /orders with a 64 KB X-User" 400 invalid_identity
worker_ok "oversize identity headers"

ar_stop_app
ar_write_config token_rate=0 log_level=info bind=cookie:sid
ar_start_app 1
WORKER=$AR_APP_PIDS
identity_case "cookie sid of 256 bytes" 201 --param HTTP_COOKIE="a=b; sid=$(repeat_str s 256); c=d"
identity_case "cookie sid of 257 bytes" 400 --param HTTP_COOKIE="a=b; sid=$(repeat_str s 257); c=d"
identity_case "64 KB Cookie header holding sid" 400 \
	--param HTTP_COOKIE="sid=$(repeat_str s 65536)"
identity_case "1 MB Cookie header without sid" 201 --pad HTTP_COOKIE=$MB
worker_ok "oversize cookies"

ar_stop_app
ar_write_config token_rate=0 log_level=info bind=remote_user
ar_start_app 1
WORKER=$AR_APP_PIDS
identity_case "REMOTE_USER of 256 bytes" 201 --pad REMOTE_USER=256
identity_case "REMOTE_USER of 257 bytes" 400 --pad REMOTE_USER=257
identity_case "REMOTE_USER of 1 MB" 400 --pad REMOTE_USER=$MB
worker_ok "oversize REMOTE_USER"

ar_done
