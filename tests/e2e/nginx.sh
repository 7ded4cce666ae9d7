# tests/e2e/nginx.sh: a private nginx in front of the app, for the e2e tests.
# Sourced after tests/lib.sh, tests/lib/front.sh (ar_start_front) and
# ar_setup. It uses conf/nginx/antireplay.conf as shipped; only the socket
# path and the location prefix are substituted.
#
#   ar_nginx_snippet BASE_PATH  the snippet for $AR_APP_SOCK (or $AR_NGINX_PASS)
#                               under BASE_PATH (on stdout)
#   ar_start_nginx BASE_PATH    nginx on a free 127.0.0.1 port in front of
#                               $AR_APP_SOCK; sets AR_URL, AR_NGINX_PORT,
#                               AR_NGINX_PID, AR_NGINX_DIR
#   ar_stop_nginx
# Optional, set before ar_start_nginx:
#   AR_NGINX_HTTP_EXTRA   a file included in the http { } block (e.g. a
#                         log_format the snippets use)
#   AR_NGINX_EXTRA        a file included in the server { } block after the
#                         antireplay snippet (e.g. conf/nginx/antireplay-gate.conf
#                         filled in by ar_snippet)
#   AR_NGINX_PASS         what the snippet's fastcgi_pass names instead of
#                         unix:$AR_APP_SOCK (an upstream's name, the upstream
#                         in AR_NGINX_HTTP_EXTRA: conf/nginx/antireplay-upstream.conf)

: "${NGINX:=$(command -v nginx || command -v /usr/sbin/nginx || true)}"

AR_NGINX_SNIPPET_SRC=$top_srcdir/conf/nginx/antireplay.conf
AR_NGINX_SNIPPET_SOCK=unix:/run/antireplay/antireplay.sock
AR_NGINX_SNIPPET_LOC='location /api/ {'

# The folder of the stock fastcgi_params (Debian: /etc/nginx), from nginx -V.
ar_nginx_conf_dir() {
	ngx_conf=$("$NGINX" -V 2>&1 | tr ' ' '\n' | sed -n 's/^--conf-path=//p')
	dirname "${ngx_conf:-/etc/nginx/nginx.conf}"
}

ar_nginx_snippet() {
	if ! grep -q "^$AR_NGINX_SNIPPET_LOC\$" "$AR_NGINX_SNIPPET_SRC" ||
		! grep -q "fastcgi_pass $AR_NGINX_SNIPPET_SOCK;" "$AR_NGINX_SNIPPET_SRC"; then
		echo "# $AR_NGINX_SNIPPET_SRC: no '$AR_NGINX_SNIPPET_LOC' line or no" \
			"'fastcgi_pass $AR_NGINX_SNIPPET_SOCK;' to substitute" >&2
		return 1
	fi
	sed -e "s#^$AR_NGINX_SNIPPET_LOC\$#location $1/ {#" \
		-e "s#location = /api/order-form {#location = $1/order-form {#" \
		-e "s#fastcgi_pass $AR_NGINX_SNIPPET_SOCK;#fastcgi_pass ${AR_NGINX_PASS:-unix:$AR_APP_SOCK};#" \
		"$AR_NGINX_SNIPPET_SRC"
}

# ar_nginx_write_conf PORT NONCE: the main config, one server on PORT.
ar_nginx_write_conf() {
	# As root the master must hand the workers to an unprivileged user (nginx
	# falls back to nobody anyway). They can still reach everything: the app
	# socket is mode 0666 in a 0755 folder, the master opens the logs, and it
	# creates the temp folders and chowns them to the worker user.
	ngx_user=""
	if [ "$(id -u)" -eq 0 ]; then
		ngx_group=nogroup
		getent group nogroup >/dev/null 2>&1 || ngx_group=nobody
		ngx_user="user nobody $ngx_group;"
	fi
	cat >"$AR_NGINX_DIR/nginx.conf" <<NGXEOF
# written by tests/e2e/nginx.sh
$ngx_user
daemon off;
worker_processes 2;
pid $AR_NGINX_DIR/nginx.pid;
error_log $AR_NGINX_DIR/error.log info;
events {
    worker_connections 256;
}
http {
    access_log $AR_NGINX_DIR/access.log;
${AR_NGINX_HTTP_EXTRA:+    include $AR_NGINX_HTTP_EXTRA;}
    client_body_temp_path $AR_NGINX_DIR/tmp/body;
    fastcgi_temp_path $AR_NGINX_DIR/tmp/fastcgi;
    proxy_temp_path $AR_NGINX_DIR/tmp/proxy;
    scgi_temp_path $AR_NGINX_DIR/tmp/scgi;
    uwsgi_temp_path $AR_NGINX_DIR/tmp/uwsgi;
    default_type text/plain;
    server {
        listen 127.0.0.1:$1;
        server_name localhost;
        location = /.ar-ping {
            return 200 "$2";
        }
        include $AR_NGINX_DIR/antireplay.conf;
${AR_NGINX_EXTRA:+        include $AR_NGINX_EXTRA;}
    }
}
NGXEOF
}

# Writes nginx.conf for port $1 and starts nginx in the background.
ar_nginx_launch() {
	ar_nginx_write_conf "$1" "$AR_NGINX_NONCE"
	: >"$AR_NGINX_DIR/error.log"
	# nginx reads $NGINX as a list of inherited listening sockets (binary
	# upgrade); make check exports NGINX as nginx's path.
	env -u NGINX "$NGINX" -p "$AR_NGINX_DIR/" -c "$AR_NGINX_DIR/nginx.conf" \
		-e "$AR_NGINX_DIR/error.log" &
	AR_FRONT_PID=$!
}

ar_start_nginx() {
	ar_require "$NGINX"
	AR_NGINX_DIR=$AR_TMP/nginx
	mkdir -p "$AR_NGINX_DIR/tmp"
	# The snippet says "include fastcgi_params": nginx resolves it next to
	# nginx.conf, so the stock file is copied there unchanged.
	cp "$(ar_nginx_conf_dir)/fastcgi_params" "$AR_NGINX_DIR/fastcgi_params" || {
		echo "# no stock fastcgi_params next to nginx's config"
		exit 1
	}
	ar_nginx_snippet "$1" >"$AR_NGINX_DIR/antireplay.conf" || exit 1
	AR_NGINX_NONCE="antireplay-nginx-$$"
	ar_start_front nginx /.ar-ping "$AR_NGINX_NONCE" ar_nginx_launch "$AR_NGINX_DIR/error.log"
	AR_NGINX_PORT=$AR_FRONT_PORT
	AR_NGINX_PID=$AR_FRONT_PID
}

ar_stop_nginx() {
	ar_stop_pid "$AR_NGINX_PID"
}
