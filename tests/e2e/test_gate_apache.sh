#!/bin/sh
# e2e, the gate behind Apache 2.4: conf/apache/antireplay-gate.conf as
# shipped (the app's port, php-fpm's socket, the document root and the log
# path substituted) protects examples/php-checkout's checkout.php under a
# private php-fpm with mod_authnz_fcgi, whose AUTHORIZER requests reach the
# app on 127.0.0.1 (spawn-fcgi -F 4 -a 127.0.0.1: it takes no unix socket);
# antireplay-proxy-fcgi.conf, pointed at that port, serves the tokens. The
# shared gate scenario.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/lib/front.sh"
. "$top_srcdir/tests/lib/php.sh"
. "$top_srcdir/tests/e2e/apache.sh"
. "$top_srcdir/tests/e2e/http.sh"
. "$top_srcdir/tests/e2e/gate_scenario.sh"

ar_require "$APACHE2" "$CURL" "$JQ" "$PHP_FPM" "$PHP_CLI"
ar_require_apache_modules proxy proxy_fcgi authnz_fcgi authn_core authz_user setenvif alias headers
ar_setup

# The pool on 127.0.0.1, on the same port when started again.
gate_start_app() {
	# shellcheck disable=SC2046 # one key=value per word
	ar_write_config $(gate_config) "$@"
	ar_start_app_tcp 4 ${AR_APP_PORT:+"$AR_APP_PORT"}
}

gate_setup
{
	ar_snippet "$AR_APACHE_PROXY_SRC" \
		'"proxy:unix:/run/antireplay/antireplay.sock|fcgi://localhost"' \
		"\"proxy:fcgi://127.0.0.1:$AR_APP_PORT\"" || exit 1
	ar_snippet "$top_srcdir/conf/apache/antireplay-gate.conf" \
		'"proxy:unix:/run/php/php8.2-fpm.sock|' "\"proxy:unix:$AR_PHP_SOCK|" \
		/var/www/html "$AR_PHP_WWW" \
		/var/log/apache2/access.log "$AR_TMP/apache/gate-access.log" || exit 1
} >"$AR_TMP/antireplay-gate.conf"
ar_snippet "$top_srcdir/conf/apache/antireplay-gate-provider.conf" \
	fcgi://127.0.0.1:9090/ "fcgi://127.0.0.1:$AR_APP_PORT/" \
	>"$AR_TMP/antireplay-gate-provider.conf" || exit 1
AR_APACHE_SERVER_EXTRA=$AR_TMP/antireplay-gate-provider.conf
ar_start_apache "$AR_TMP/antireplay-gate.conf" \
	proxy proxy_fcgi authnz_fcgi authn_core authz_user setenvif alias headers
# shellcheck disable=SC2046 # one NAME=VALUE per word
ar_start_php $(gate_php_env)
echo "# apache2 $AR_APACHE_PORT (pid $AR_APACHE_PID), php-fpm $AR_PHP_PID," \
	"app 127.0.0.1:$AR_APP_PORT pids $AR_APP_PIDS"

GATE_LOGS="$AR_APACHE_DIR/access.log $AR_APACHE_DIR/gate-access.log"
ar_gate_scenario

check "no authnz_fcgi or proxy errors in Apache's error log" "" \
	"$(grep -E '\[(authnz_fcgi|proxy|proxy_fcgi):(error|crit|alert)\]' \
		"$AR_APACHE_DIR/error.log" | head -n 3)"

ar_done
