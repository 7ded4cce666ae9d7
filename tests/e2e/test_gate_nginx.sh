#!/bin/sh
# e2e, the gate behind nginx: conf/nginx/antireplay-gate.conf and
# antireplay-gate-log.conf as shipped (sockets, document root and log path
# substituted) protect examples/php-checkout's checkout.php under a private
# php-fpm with auth_request to the app (spawn-fcgi -F 4); antireplay's own
# /api/ snippet serves the tokens. The shared gate scenario.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/lib/front.sh"
. "$top_srcdir/tests/lib/php.sh"
. "$top_srcdir/tests/e2e/nginx.sh"
. "$top_srcdir/tests/e2e/http.sh"
. "$top_srcdir/tests/e2e/gate_scenario.sh"

ar_require "$NGINX" "$CURL" "$JQ" "$PHP_FPM" "$PHP_CLI"
ar_setup

gate_setup
AR_NGINX_DIR=$AR_TMP/nginx
mkdir -p "$AR_NGINX_DIR"
ar_snippet "$top_srcdir/conf/nginx/antireplay-gate-log.conf" >"$AR_TMP/gate-log.conf" || exit 1
ar_snippet "$top_srcdir/conf/nginx/antireplay-gate.conf" \
	unix:/run/antireplay/antireplay.sock "unix:$AR_APP_SOCK" \
	unix:/run/php/php8.2-fpm.sock "unix:$AR_PHP_SOCK" \
	/var/www/html "$AR_PHP_WWW" \
	/var/log/nginx/access.log "$AR_NGINX_DIR/access.log" \
	>"$AR_TMP/gate.conf" || exit 1
AR_NGINX_HTTP_EXTRA=$AR_TMP/gate-log.conf
AR_NGINX_EXTRA=$AR_TMP/gate.conf
ar_start_nginx /api
# shellcheck disable=SC2046 # one NAME=VALUE per word
ar_start_php $(gate_php_env)
echo "# nginx $AR_NGINX_PORT (pid $AR_NGINX_PID), php-fpm $AR_PHP_PID, app pids $AR_APP_PIDS"

GATE_LOGS=$AR_NGINX_DIR/access.log
ar_gate_scenario

check "no gate or upstream errors in nginx's error log" "" \
	"$(grep -E '\[(alert|crit|error)\]' "$AR_NGINX_DIR/error.log" | head -n 3)"

ar_done
