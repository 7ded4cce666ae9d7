#!/bin/sh
# e2e, the gate behind lighttpd: conf/lighttpd/antireplay-gate.conf as
# shipped (sockets and document root substituted) protects
# examples/php-checkout's checkout.php under a private php-fpm with an
# AUTHORIZER request to the app (spawn-fcgi -F 4); antireplay-socket.conf
# serves the tokens under /api/. The shared gate scenario.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/lib/front.sh"
. "$top_srcdir/tests/lib/php.sh"
. "$top_srcdir/tests/e2e/lighttpd.sh"
. "$top_srcdir/tests/e2e/http.sh"
. "$top_srcdir/tests/e2e/gate_scenario.sh"

ar_require "$LIGHTTPD" "$CURL" "$JQ" "$PHP_FPM" "$PHP_CLI"
ar_setup

gate_setup
{
	ar_snippet "$top_srcdir/conf/lighttpd/antireplay-socket.conf" \
		/run/antireplay/antireplay.sock "$AR_APP_SOCK" || exit 1
	ar_snippet "$top_srcdir/conf/lighttpd/antireplay-gate.conf" \
		/run/antireplay/antireplay.sock "$AR_APP_SOCK" \
		/run/php/php8.2-fpm.sock "$AR_PHP_SOCK" \
		/var/www/html "$AR_PHP_WWW" || exit 1
} >"$AR_TMP/antireplay-lighttpd.conf"
ar_start_lighttpd "$AR_TMP/antireplay-lighttpd.conf"
# shellcheck disable=SC2046 # one NAME=VALUE per word
ar_start_php $(gate_php_env)
echo "# lighttpd $AR_LIGHTTPD_PORT (pid $AR_LIGHTTPD_PID), php-fpm $AR_PHP_PID, app pids $AR_APP_PIDS"

GATE_LOGS=$AR_LIGHTTPD_DIR/access.log
ar_gate_scenario

check "no backend errors in lighttpd's error log" "" \
	"$(grep -E 'gw_backend|mod_fastcgi' "$AR_LIGHTTPD_DIR/error.log" | head -n 3)"

ar_done
