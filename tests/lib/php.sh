# tests/lib/php.sh: a private php-fpm behind the fronts, for the gate's e2e
# tests (an existing PHP app that antireplay protects). Sourced after
# tests/lib.sh and ar_setup. php-fpm listens on a unix socket inside
# $AR_TMP, runs in the foreground (-F) with its own config (-y) and prefix
# (-p), and is stopped by PID.
#
#   ar_start_php [NAME=VALUE...]  php-fpm with one pool ("app", 4 static
#                      children) on $AR_PHP_SOCK; each NAME=VALUE is put
#                      in the workers' environment (env[NAME]); returns once
#                      the pool answers its ping; sets AR_PHP_PID,
#                      AR_PHP_DIR (php-fpm.conf, error.log, the socket)
#   ar_stop_php
#   ar_php_user        the user the pool runs as (nobody as root)
#   ar_php_www         $AR_TMP/www, a document root the pool's user can
#                      read; ar_php_www copies examples/php-checkout to
#                      $AR_TMP/www/shop and makes $AR_TMP/data, writable by
#                      the pool's user (for the SQLite file)
#   ar_php_ping        the pool answers /.php-ping through cgi-fcgi
#   ar_php_paths       sets AR_PHP_DIR and AR_PHP_SOCK (done by
#                      ar_start_php; call it first to put the socket path
#                      into a front's snippet)
#   $PHP_CLI           the php command (tests read the SQLite file with it)
#
# As root the pool runs as nobody, like Debian's www-data; as any other user
# php-fpm keeps running as that user. The socket is mode 0666 in a 0755
# folder so every front's workers (nobody, or the test user) can connect.

: "${PHP_FPM:=$(command -v php-fpm8.2 || command -v php-fpm ||
	command -v /usr/sbin/php-fpm8.2 || command -v /usr/sbin/php-fpm || true)}"
: "${PHP_CLI:=$(command -v php || true)}"

ar_php_paths() {
	AR_PHP_DIR=$AR_TMP/php
	AR_PHP_SOCK=$AR_PHP_DIR/php.sock
}

ar_php_user() {
	if [ "$(id -u)" -eq 0 ]; then echo nobody; else id -un; fi
}

ar_php_group() {
	if [ "$(id -u)" -eq 0 ]; then
		if getent group nogroup >/dev/null 2>&1; then echo nogroup; else echo nobody; fi
	else
		id -gn
	fi
}

ar_php_www() {
	AR_PHP_WWW=$AR_TMP/www
	mkdir -p "$AR_PHP_WWW/shop" "$AR_TMP/data"
	cp "$top_srcdir"/examples/php-checkout/*.php "$AR_PHP_WWW/shop/"
	chmod -R a+rX "$AR_PHP_WWW"
	[ "$(id -u)" -ne 0 ] || chown "$(ar_php_user)" "$AR_TMP/data"
}

# ar_php_ping: the pool answers its ping path (php-fpm's ping.path, no
# script involved).
ar_php_ping() {
	[ "$(env -i REQUEST_METHOD=GET SCRIPT_NAME=/.php-ping SCRIPT_FILENAME=/.php-ping \
		REQUEST_URI=/.php-ping ${AR_TIMEOUT:+"$AR_TIMEOUT" 10} "$CGI_FCGI" -bind \
		-connect "$AR_PHP_SOCK" 2>/dev/null | tr -d '\r' | sed '1,/^$/d')" = pong ]
}

ar_start_php() {
	ar_require "$PHP_FPM" "$CGI_FCGI"
	ar_php_paths
	mkdir -p "$AR_PHP_DIR"
	chmod 755 "$AR_PHP_DIR"
	ph_owner=""
	if [ "$(id -u)" -eq 0 ]; then
		ph_owner="user = $(ar_php_user)
group = $(ar_php_group)"
	fi
	{
		cat <<PHPEOF
; written by tests/lib/php.sh
[global]
pid = $AR_PHP_DIR/php-fpm.pid
error_log = $AR_PHP_DIR/error.log
daemonize = no
log_level = notice

[app]
$ph_owner
listen = $AR_PHP_SOCK
listen.mode = 0666
listen.backlog = 64
pm = static
pm.max_children = 4
ping.path = /.php-ping
ping.response = pong
request_terminate_timeout = 30s
catch_workers_output = yes
clear_env = yes
php_admin_value[error_log] = $AR_PHP_DIR/error.log
php_admin_flag[log_errors] = on
php_admin_flag[display_errors] = off
PHPEOF
		for ph_kv in "$@"; do
			echo "env[${ph_kv%%=*}] = \"${ph_kv#*=}\""
		done
	} >"$AR_PHP_DIR/php-fpm.conf"
	rm -f "$AR_PHP_SOCK"
	"$PHP_FPM" -F -y "$AR_PHP_DIR/php-fpm.conf" -p "$AR_PHP_DIR" \
		>"$AR_PHP_DIR/stderr.log" 2>&1 &
	AR_PHP_PID=$!
	ar_track "$AR_PHP_PID"
	ar_wait_socket "$AR_PHP_SOCK" && ar_wait_until 300 ar_php_ping || {
		echo "# php-fpm did not start:"
		sed 's/^/#   /' "$AR_PHP_DIR/stderr.log" "$AR_PHP_DIR/error.log" 2>/dev/null
		exit 1
	}
}

# SIGQUIT: php-fpm's graceful stop (the children finish their request).
ar_stop_php() {
	ar_stop_pid "$AR_PHP_PID" QUIT
}
