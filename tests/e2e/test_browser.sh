#!/bin/sh
# e2e: the storefront (storefront/, client/antireplay.js) in headless
# Chromium, driven by tests/e2e/browser.py (Selenium and chromedriver),
# behind nginx with conf/nginx/antireplay.conf and
# conf/nginx/antireplay-storefront.conf (socket and paths substituted), the
# app under spawn-fcgi, Redis with conf/redis (AOF: a restart keeps the
# data). Each purchase checks what the page shows (one new order id, listed
# once), what Redis holds (the stream one longer, the stock down by the
# quantity, the stream's last order the page's) and counts the POST
# /api/orders that nginx logged:
#   double click, a burst of 10 clicks    one key, every click sent, one order
#   lost answer                           the first answer never reaches the
#                                         browser; the client resends the key
#   Redis stopped for 2 s                 the client retries through the 503s
# Then the plain form (form_page, Post/Redirect/Get) with JavaScript off:
# submitted, Back (the same token), submitted again (the same order page),
# then the used token with another quantity (the error page); and its
# submit button double-clicked (one order, however many posts Chromium sent).
# Ends with a screenshot of the shop into
# $top_builddir/tests/e2e/storefront.png (docs/storefront.png is a copy made
# by hand: copy it over when the page changes on purpose).
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/lib/front.sh"
. "$top_srcdir/tests/e2e/nginx.sh"

: "${CHROMIUM:=$(command -v chromium || true)}"
: "${CHROMEDRIVER:=$(command -v chromedriver || true)}"
# Debian's python3-selenium is installed for /usr/bin/python3.
: "${PYTHON3:=$(command -v /usr/bin/python3 || command -v python3 || true)}"

ar_require "$NGINX" "$CURL" "$CHROMIUM" "$CHROMEDRIVER" "$PYTHON3"
"$PYTHON3" -c 'import selenium' 2>/dev/null ||
	ar_skip "no selenium module for $PYTHON3 (Debian: python3-selenium)"
ar_setup

# The pages as served: a copy in $AR_TMP (nginx's workers, nobody as root,
# may not read the source tree).
mkdir -p "$AR_TMP/www/client"
cp -R "$top_srcdir/storefront" "$AR_TMP/www/storefront" &&
	cp "$top_srcdir/client/antireplay.js" "$AR_TMP/www/client/" &&
	chmod -R a+rX "$AR_TMP/www" || exit 1
ar_start_redis "include $top_srcdir/conf/redis/antireplay-redis.conf"
ar_write_config base_path=/api \
	"form_success_url=/order.html?order_id={order_id}" \
	"form_error_url=/error.html?error={error}" \
	"form_page=$AR_TMP/www/storefront/order-form.html"
ar_start_app 4
# The storefront snippet as shipped, but for the folders it serves.
ar_snippet "$top_srcdir/conf/nginx/antireplay-storefront.conf" \
	/srv/antireplay/ "$AR_TMP/www/" >"$AR_TMP/storefront.conf" || exit 1
AR_NGINX_EXTRA=$AR_TMP/storefront.conf
ar_start_nginx /api
echo "# nginx $AR_URL (pid $AR_NGINX_PID), app pids $AR_APP_PIDS"
for sku in SKU-1 SKU-2 SKU-3; do
	ar_redis SET "ar:stock:$sku" 100 >/dev/null
done

# br_run NAME SCENARIO ARG...: one run of the driver (at most 5 minutes),
# its lines in $AR_TMP/br.NAME.out (br_get reads them); the check that it
# ran to its end. Chromium's profile (localStorage: the orders list) is
# kept from run to run.
BR_PROFILE=$AR_TMP/chromium
mkdir -p "$BR_PROFILE" "$AR_TMP/home"
br_start() {
	br_name=$1
	shift
	br_out=$AR_TMP/br.$br_name.out
	HOME=$AR_TMP/home ${AR_TIMEOUT:+"$AR_TIMEOUT" 300} "$PYTHON3" \
		"$top_srcdir/tests/e2e/browser.py" --url "$AR_URL" \
		--chromium "$CHROMIUM" --chromedriver "$CHROMEDRIVER" \
		--profile "$BR_PROFILE" --logs "$AR_TMP" "$@" \
		>"$br_out" 2>"$AR_TMP/br.$br_name.err" &
	br_pid=$!
	ar_track "$br_pid"
}

br_finish() {
	wait "$br_pid"
	br_rc=$?
	ar_untrack "$br_pid"
	grep '^#' "$br_out"
	if [ $br_rc -eq 0 ]; then
		ok "$br_name: Chromium ran the scenario"
	else
		not_ok "$br_name: the driver failed (exit $br_rc)"
		sed 's/^/#   /' "$AR_TMP/br.$br_name.err" | tail -n 20
	fi
}

br_run() {
	br_start "$@"
	br_finish
}

# br_get KEY: the value the last run printed for KEY ("" when none).
br_get() {
	sed -n "s/^$1 //p" "$br_out" | tail -n 1
}

# br_posts [STATUS]: how many POST /api/orders nginx logged (answered STATUS).
br_posts() {
	grep -c "\"POST /api/orders HTTP/[0-9.]*\" ${1:-}" "$AR_NGINX_DIR/access.log"
}

# The order id of the stream's last entry.
br_last_order() {
	ar_redis XREVRANGE ar:orders + - COUNT 1 | sed -n 3p
}

BR_NOTE=""
# br_mark SKU: the state before a purchase; br_check_order NAME SKU QTY:
# after it, the checks every purchase shares.
br_mark() {
	br_x0=$(ar_xlen)
	br_s0=$(ar_stock "$1")
	br_p0=$(br_posts)
	br_ok0=$(br_posts 201)
}

br_check_order() {
	check "$1: the page shows one new order" 1 "$(br_get new_orders)"
	check "$1: the order succeeded on the page" "done" "$(br_get status)"
	check "$1: the orders list shows its id once" 1 "$(br_get shown)"
	check "$1: localStorage keeps it once" 1 "$(br_get stored)"
	check "$1: one order in Redis (stream one longer)" $((br_x0 + 1)) "$(ar_xlen)"
	check "$1: the stock of $2 went down by $3" $((br_s0 - $3)) "$(ar_stock "$2")"
	check "$1: Redis's new order is the page's" "$(br_get order_id)" "$(br_last_order)"
	br_posts_seen=$(($(br_posts) - br_p0))
	br_posts_201=$(($(br_posts 201) - br_ok0))
	BR_NOTE="$BR_NOTE
# $1: nginx saw $br_posts_seen POST /api/orders ($br_posts_201 answered 201),$(
	) client retries $(br_get retries), $(br_get seconds) s; order $(br_get order_id)"
}

# br_check_posts NAME CLICKS: nginx saw every click (more only if the
# client retried one after its 10 s timeout), each answered 201.
br_check_posts() {
	if [ "$br_posts_seen" -ge "$2" ] && [ "$br_posts_seen" = "$br_posts_201" ]; then
		ok "$1: nginx saw all $2 clicks ($br_posts_seen POSTs), each answered 201"
	else
		not_ok "$1: nginx saw $br_posts_seen POSTs for $2 clicks, $br_posts_201 answered 201"
	fi
}

# a. A double click: two POSTs with one key, one order; the second is a
# replay of the first's 201.
br_mark SKU-1
br_run double-click double-click SKU-1 2
br_check_order double-click SKU-1 2
br_check_posts double-click 2

# a. Ten clicks in a row: ten POSTs, one order.
br_mark SKU-1
br_run burst burst SKU-1 1 10
br_check_order burst SKU-1 1
br_check_posts burst 10

# b. The answer to the first POST is lost on the way back (the driver's
# proxy reads it whole, then closes the browser's connection): the order
# exists, the client sends the key again and gets the same order.
br_mark SKU-2
br_run lost-answer lost-answer SKU-2 3
br_check_order lost-answer SKU-2 3
check "lost-answer: the lost answer was the 201" 201 "$(br_get first_post_status)"
check "lost-answer: the browser sent the order twice, nginx saw both" "2 2" \
	"$(br_get proxy_posts) $br_posts_seen"
check_match "lost-answer: antireplay.js retried (onRetry)" '^[1-9]' "$(br_get retries)"

# c. Redis stopped while the first POST is on its way (the driver's proxy
# holds it until Redis is down); restarted 2 s later with its data (AOF).
# The client retries through the 503s.
mkdir "$AR_TMP/sync"
br_stop_wanted() {
	[ -e "$AR_TMP/sync/stop-redis" ] || ! ar_alive "$br_pid"
}
br_mark SKU-3
br_o503=$(br_posts 503)
br_start outage outage SKU-3 2 "$AR_TMP/sync"
ar_wait_until 3000 br_stop_wanted
if [ -e "$AR_TMP/sync/stop-redis" ]; then
	ar_stop_redis
	: >"$AR_TMP/sync/redis-stopped"
	# How long the outage lasts: not a bound on anything.
	sleep 2
	ar_launch_redis
fi
br_finish
br_check_order outage SKU-3 2
check "outage: the first POST met Redis down: 503" 503 "$(br_get first_post_status)"
br_503=$(($(br_posts 503) - br_o503))
check_match "outage: nginx logged the 503s of the retries" '^[1-9]' "$br_503"
check_match "outage: antireplay.js retried (onRetry)" '^[1-9]' "$(br_get retries)"

# d. The plain form, JavaScript off. The form page reaches the browser
# with the app's Cache-Control (antireplay.conf makes everything else under
# /api/ no-store; its nested location for /api/order-form lets it through).
br_head=$("$CURL" -s -m 30 -o /dev/null -D - "$AR_URL/api/order-form" | tr -d '\r')
check "the form page through nginx: 200, text/html, private, no-cache" \
	"200|text/html; charset=utf-8|private, no-cache" \
	"$(printf '%s\n' "$br_head" | sed -n 's#^HTTP/[0-9.]* \([0-9]*\).*#\1#p')|$(
		printf '%s\n' "$br_head" | sed -n 's/^[Cc]ontent-[Tt]ype: //p')|$(
		printf '%s\n' "$br_head" | sed -n 's/^[Cc]ache-[Cc]ontrol: //p' | tr '\n' ' ' | sed 's/ $//')"
br_forms() {
	grep -c '"GET /api/order-form HTTP' "$AR_NGINX_DIR/access.log"
}
br_mark SKU-3
br_g0=$(br_forms)
br_r0=$(br_posts 303)
br_run form form SKU-3 2
check "form: the first submit lands on the order page" /order.html "$(br_get first_path)"
check_match "form: ... with an order id" "$AR_UUID5_RE" "$(br_get first_order)"
check "form: the order page without JavaScript shows its <noscript> text" yes \
	"$(br_get noscript_shown)"
check_match "form: the page carried a token" "$AR_UUID4_RE" "$(br_get form_token)"
check "form: after Back, the same token (the page was not fetched again)" \
	"$(br_get form_token)" "$(br_get back_token)"
check "form: submitted again, the same order page" \
	"/order.html $(br_get first_order)" "$(br_get second_path) $(br_get second_order)"
check "form: the used token with another quantity: the error page, token_reused" \
	"/error.html token_reused" "$(br_get third_path) $(br_get third_error)"
check "form: one order in Redis (stream one longer)" $((br_x0 + 1)) "$(ar_xlen)"
check "form: the stock of SKU-3 went down by 2 (once)" $((br_s0 - 2)) "$(ar_stock SKU-3)"
check "form: Redis's new order is the form's" "$(br_get first_order)" "$(br_last_order)"
br_posts_seen=$(($(br_posts) - br_p0))
br_posts_303=$(($(br_posts 303) - br_r0))
br_forms_seen=$(($(br_forms) - br_g0))
check "form: nginx saw 3 form posts, each answered 303" "3 3" \
	"$br_posts_seen $br_posts_303"
check "form: the form page was fetched once (Back reused it)" 1 "$br_forms_seen"
BR_NOTE="$BR_NOTE
# form: nginx saw $br_posts_seen POST /api/orders ($br_posts_303 answered 303),$(
	) $br_forms_seen GET /api/order-form; order $(br_get first_order)"

# d. The plain form's submit button double-clicked (JavaScript off): one
# order, the browser on its page, whatever Chromium sent (counted). The
# second submission cancels the first navigation: a first POST already
# sent may be answered 303 or, if Chromium closed it first, logged 499
# (nginx: the client went away); seen both ways, and one POST only.
br_mark SKU-1
br_r0=$(br_posts 303)
br_c0=$(br_posts 499)
br_run form-double form-double SKU-1 3
check "form-double: the browser lands on the order page" /order.html "$(br_get double_path)"
check "form-double: one order in Redis (stream one longer)" $((br_x0 + 1)) "$(ar_xlen)"
check "form-double: the stock of SKU-1 went down by 3 (once)" $((br_s0 - 3)) "$(ar_stock SKU-1)"
check "form-double: the page's order is Redis's" "$(br_get double_order)" "$(br_last_order)"
br_posts_seen=$(($(br_posts) - br_p0))
br_posts_303=$(($(br_posts 303) - br_r0))
br_posts_499=$(($(br_posts 499) - br_c0))
if [ "$br_posts_303" -ge 1 ] && [ "$br_posts_seen" = $((br_posts_303 + br_posts_499)) ]; then
	ok "form-double: each of Chromium's $br_posts_seen posts answered 303 or dropped by it (499)"
else
	not_ok "form-double: $br_posts_seen posts: $br_posts_303 answered 303, $br_posts_499 dropped (499)"
fi
BR_NOTE="$BR_NOTE
# form-double: nginx saw $br_posts_seen POST /api/orders ($br_posts_303 answered 303, $br_posts_499 closed by Chromium first: 499); order $(br_get double_order)"

# e. One more order, then a screenshot of the shop with its orders list.
br_shot=$top_builddir/tests/e2e/storefront.png
mkdir -p "$top_builddir/tests/e2e"
rm -f "$br_shot"
br_mark SKU-2
br_run shop-shot shop-shot SKU-2 1 "$br_shot"
br_check_order shop-shot SKU-2 1
check "shop-shot: a PNG in $br_shot" "yes PNG" \
	"$(br_get screenshot) $(head -c 4 "$br_shot" 2>/dev/null | tail -c 3)"

# shellcheck disable=SC2086 # a list of PIDs
check_alive "every app process still runs" $AR_APP_PIDS
echo "# what nginx and the pages saw:$BR_NOTE"
ar_done
