#!/bin/sh
# The browser's plain HTML form (Post/Redirect/Get) and the order form page,
# through the real binary under spawn-fcgi and a private Redis:
#   a) a form post from a browser (its Accept) is answered 303 to
#      form_success_url with the order id; the same form again (a double
#      submit, or Back + submit) lands on the same order page and moves no
#      stock; another payload with the token lands on form_error_url with
#      token_reused;
#   b) every error becomes a 303 to the error page with its code (missing,
#      unknown token, invalid order, unknown SKU, out of stock, too large);
#   c) API clients are unchanged: a form with Accept */* or
#      application/json, and JSON from a browser, get JSON; a body we
#      cannot read from a browser lands on the error page;
#   d) Redis stopped: the browser lands on the error page with unavailable;
#   e) GET /order-form: the template with a fresh token (each view its
#      own), cacheable for Back (private, no-cache), not frameable, the
#      token orders; HEAD measures it without a token; rate limited: the
#      error page (a browser) or 429 (others);
#   f) duplicate_mode = reject: the repeat lands on the same order page
#      (an API client still gets 409 duplicate_request);
#   g) without the flow configured: JSON for browsers too, /order-form 404;
#      a half flow and an off-site URL are refused at --check-config.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/lib.sh"

ar_require "$REDIS_SERVER" "$SPAWN_FCGI" "$CGI_FCGI"
AR_BASE=/api
ar_setup
ar_start_redis
PAGE=$AR_TMP/order-form.html
cat >"$PAGE" <<'HTML'
<!DOCTYPE html>
<style>body { margin: 0 }</style>
<form method="post" action="/api/orders">
<input type="hidden" name="token" value="{token}">
<input name="sku" value="A"><input name="qty" value="1">
</form>
<!-- {token} again, {unknown} kept -->
HTML
FLOW="form_success_url=/order.html?order_id={order_id} form_error_url=/error.html?error={error}&from=form form_page=$PAGE"
# shellcheck disable=SC2086 # FLOW is several key=value words
ar_write_config base_path=/api token_rate=0 $FLOW
ar_start_app 2
ar_redis SET ar:stock:A 100 >/dev/null
ar_redis SET ar:stock:B 1 >/dev/null
# What Chromium sends when it submits a form.
BROWSER='text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7'
FORM=application/x-www-form-urlencoded
UUID_RE='[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'

# post_form BODY [ACCEPT]: a form post to /api/orders, as a browser by default
post_form() {
	ar_fcgi POST /api/orders "$1" CONTENT_TYPE=$FORM HTTP_ACCEPT="${2-$BROWSER}"
}

# check_see_other DESC LOCATION_ERE: the last answer is a 303 to it, with the
# link in a small HTML body, and not cacheable.
check_see_other() {
	_loc=$(ar_header Location)
	if [ "$AR_STATUS" = 303 ] && printf '%s' "$_loc" | grep -Eq -- "^$2\$" &&
		[ "$(ar_header Content-Type)" = "text/html; charset=utf-8" ] &&
		[ "$(ar_header Cache-Control)" = no-store ]; then
		ok "$1: 303 to $_loc"
	else
		not_ok "$1: expected 303 to /$2/, got $AR_STATUS Location '$_loc' (Content-Type $(ar_header Content-Type), Cache-Control $(ar_header Cache-Control)) $AR_BODY"
	fi
}

#### a) the order page, a double submit, another payload ##################
ar_token
T1=$AR_TOKEN
post_form "token=$T1&sku=A&qty=2&customer=Ada"
check_see_other "a browser's form post" "/order\\.html\\?order_id=$UUID_RE"
LOC1=$(ar_header Location)
ID1=${LOC1#*=}
check_contains "the 303's body links to the page" "<a href=\"$LOC1\">" "$AR_BODY"
check "the order is made: stock A" 98 "$(ar_stock A)"
check "one entry in the stream" 1 "$(ar_xlen)"
ar_fcgi GET "/api/orders/$ID1" ""
check "the order page's id is the order" "200 $ID1 Ada" \
	"$AR_STATUS $(ar_json_get order_id) $(ar_json_get customer)"
post_form "token=$T1&sku=A&qty=2&customer=Ada"
check_see_other "the same form again (double submit)" "/order\\.html\\?order_id=$ID1"
check "the double submit moves no stock" 98 "$(ar_stock A)"
check "and makes no second order" 1 "$(ar_xlen)"
post_form "token=$T1&sku=A&qty=3&customer=Ada"
check_see_other "the token with another payload" "/error\\.html\\?error=token_reused&from=form"
check "token_reused moves no stock" 98 "$(ar_stock A)"

#### b) every error lands on the error page with its code #################
post_form "sku=A&qty=1"
check_see_other "no token" "/error\\.html\\?error=missing_token&from=form"
post_form "token=0b7e4c1e-3a70-4bd5-9f0e-6f1c0a2b3c4d&sku=A&qty=1"
check_see_other "a token never issued" "/error\\.html\\?error=invalid_token&from=form"
ar_token
post_form "token=$AR_TOKEN&sku=A&qty=0"
check_see_other "qty 0" "/error\\.html\\?error=invalid_order&from=form"
post_form "token=$AR_TOKEN&sku=NOPE&qty=1"
check_see_other "an unknown SKU" "/error\\.html\\?error=unknown_sku&from=form"
ar_token
post_form "token=$AR_TOKEN&sku=B&qty=2"
check_see_other "more than the stock" "/error\\.html\\?error=out_of_stock&from=form"
check "out of stock moves nothing" "1 98" "$(ar_stock B) $(ar_stock A)"
post_form "token=$AR_TOKEN&sku=A&qty=1&customer=$(head -c 20000 /dev/zero | tr '\0' x)"
check_see_other "a body over max_body" "/error\\.html\\?error=body_too_large&from=form"

#### c) API clients are unchanged ##########################################
ar_token
T2=$AR_TOKEN
post_form "token=$T2&sku=A&qty=1" '*/*'
check "a form with Accept */* (curl) gets JSON" "201 application/json" \
	"$AR_STATUS $(ar_header Content-Type)"
check "with its Location" "/api/orders/$(ar_json_get order_id)" "$(ar_header Location)"
post_form "token=$T2&sku=A&qty=1" 'application/json'
check "a form with Accept application/json: the JSON replay" "201 true" \
	"$AR_STATUS $(ar_header Idempotent-Replayed)"
post_form "token=$T2&sku=A&qty=1" ''
check "a form without Accept: JSON" "201 application/json" \
	"$AR_STATUS $(ar_header Content-Type)"
ar_token
ar_fcgi POST /api/orders "{\"token\":\"$AR_TOKEN\",\"items\":[{\"sku\":\"A\",\"qty\":1}]}" \
	HTTP_ACCEPT="$BROWSER"
check "JSON from a browser (fetch with its Accept) gets JSON" "201 application/json" \
	"$AR_STATUS $(ar_header Content-Type)"
ar_fcgi POST /api/orders "token=$T2&sku=A&qty=1" CONTENT_TYPE=text/plain HTTP_ACCEPT="$BROWSER"
check_see_other "a form we cannot read (text/plain) from a browser" \
	"/error\\.html\\?error=unsupported_media_type&from=form"
ar_fcgi POST /api/orders "token=$T2&sku=A&qty=1" CONTENT_TYPE=text/plain
check_error "the same from an API client: JSON" 415 unsupported_media_type

#### d) Redis stopped ######################################################
ar_token
T3=$AR_TOKEN
ar_stop_redis
post_form "token=$T3&sku=A&qty=1"
check_see_other "Redis stopped: the error page" "/error\\.html\\?error=unavailable&from=form"
ar_launch_redis
# A private Redis without persistence: the token and the stock are set again.
ar_redis SET ar:stock:A 100 >/dev/null
ar_token
T3=$AR_TOKEN
post_form "token=$T3&sku=A&qty=1"
check_see_other "Redis back: the form makes the order" "/order\\.html\\?order_id=$UUID_RE"

#### e) GET /order-form ####################################################
ar_fcgi GET /api/order-form "" HTTP_ACCEPT="$BROWSER"
check "the form page: 200 HTML" "200 text/html; charset=utf-8" \
	"$AR_STATUS $(ar_header Content-Type)"
check "Back may show it again (no no-store), a new visit asks again" "private, no-cache" \
	"$(ar_header Cache-Control)"
check "kept out of other sites' frames" SAMEORIGIN "$(ar_header X-Frame-Options)"
P1=$(grep -Eo "name=\"token\" value=\"$UUID_RE\"" "$AR_BODY_FILE" | grep -Eo "$UUID_RE")
check_match "the page holds a token" "^$UUID_RE\$" "$P1"
check "every {token} is filled, the rest is the template byte for byte" \
	"$(sed "s/{token}/$P1/g" "$PAGE")" "$AR_BODY"
check "the page is the template's length plus the tokens'" \
	$(($(wc -c <"$PAGE") + 2 * (36 - 7))) "$(wc -c <"$AR_BODY_FILE")"
ar_fcgi GET /api/order-form "" HTTP_ACCEPT="$BROWSER"
P2=$(grep -Eo "name=\"token\" value=\"$UUID_RE\"" "$AR_BODY_FILE" | grep -Eo "$UUID_RE")
GET_LENGTH=$(ar_header Content-Length)
check "each view its own token" 1 "$([ -n "$P2" ] && [ "$P2" != "$P1" ] && echo 1)"
post_form "token=$P1&sku=A&qty=1"
check_see_other "the page's token orders" "/order\\.html\\?order_id=$UUID_RE"
ar_fcgi GET /api/metrics ""
ISSUED=$(ar_metric antireplay_tokens_issued_total)
ar_fcgi HEAD /api/order-form ""
check "HEAD /order-form: 200, the GET's length, no body" "200 $GET_LENGTH 0" \
	"$AR_STATUS $(ar_header Content-Length) $(wc -c <"$AR_BODY_FILE")"
ar_fcgi GET /api/metrics ""
check "HEAD issues no token" "$ISSUED" "$(ar_metric antireplay_tokens_issued_total)"

ar_stop_app
# shellcheck disable=SC2086
ar_write_config base_path=/api token_rate=1 $FLOW
ar_start_app 1
ar_fcgi GET /api/order-form "" HTTP_ACCEPT="$BROWSER"
check "token_rate 1: the first view" 200 "$AR_STATUS"
ar_fcgi GET /api/order-form "" HTTP_ACCEPT="$BROWSER"
check_see_other "the second view, rate limited, from a browser" \
	"/error\\.html\\?error=rate_limited&from=form"
ar_fcgi GET /api/order-form ""
check_error "the same from another client" 429 rate_limited

#### f) duplicate_mode = reject ############################################
ar_stop_app
# shellcheck disable=SC2086
ar_write_config base_path=/api token_rate=0 duplicate_mode=reject $FLOW
ar_start_app 1
ar_token
post_form "token=$AR_TOKEN&sku=A&qty=1"
check_see_other "reject mode: the first submit" "/order\\.html\\?order_id=$UUID_RE"
LOC4=$(ar_header Location)
post_form "token=$AR_TOKEN&sku=A&qty=1"
check_see_other "reject mode: the repeat (duplicate_request) lands on the same order page" \
	"/order\\.html\\?order_id=${LOC4#*=}"
post_form "token=$AR_TOKEN&sku=A&qty=1" '*/*'
check_error "... while an API client gets the 409" 409 duplicate_request "\"order_id\":\"${LOC4#*=}\""

#### g) not configured, and refused configs ################################
ar_stop_app
ar_write_config base_path=/api token_rate=0
ar_start_app 1
ar_token
post_form "token=$AR_TOKEN&sku=A&qty=1"
check "no flow: a browser's form gets JSON" "201 application/json" \
	"$AR_STATUS $(ar_header Content-Type)"
ar_fcgi GET /api/order-form "" HTTP_ACCEPT="$BROWSER"
check_error "no form_page: /order-form" 404 not_found

# check_refused DESC EXPECTED_TEXT KEY=VALUE...: --check-config fails, saying it
check_refused() {
	_desc=$1 _want=$2
	shift 2
	ar_write_config "$@"
	_out=$("$ANTIREPLAY_BIN" -c "$AR_TMP/antireplay.conf" --check-config 2>&1)
	_cr_rc=$?
	if [ "$_cr_rc" = 1 ]; then
		check_contains "$_desc: refused" "$_want" "$_out"
	else
		not_ok "$_desc: --check-config exit $_cr_rc: $_out"
	fi
}
check_refused "an off-site success URL" "key 'form_success_url'" \
	"form_success_url=//evil.example/" "form_error_url=/e"
check_refused "an off-site error URL" "key 'form_error_url'" \
	"form_success_url=/o" "form_error_url=https://evil.example/"
check_refused "half a flow" "set both or neither" "form_success_url=/o"
check_refused "a form_page that is not there" "cannot open" "form_page=$AR_TMP/none.html"
check_refused "a form_page without {token}" "no {token}" "form_page=$AR_TMP/antireplay.conf"
ar_done
