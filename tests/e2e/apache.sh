# tests/e2e/apache.sh: a private Apache 2.4 in front of the app, for the e2e
# tests. Sourced after tests/lib.sh, tests/lib/front.sh and ar_setup. The
# conf/apache snippets are used as shipped: only the socket path, the URL
# prefix, the program and config paths and the port are substituted.
#
#   (snippets are filled in with ar_snippet; the server is started on a free
#   port with ar_start_front: both in tests/lib/front.sh)
#   ar_require_apache_modules MODULE...  ar_skip when a module is missing
#   ar_apache_proxy_snippet BASE_PATH   conf/apache/antireplay-proxy-fcgi.conf
#                      for $AR_APP_SOCK under BASE_PATH
#   ar_apache_fcgid_snippet BASE_PATH   conf/apache/antireplay-fcgid.conf for
#                      $ANTIREPLAY_BIN -c $AR_TMP/antireplay.conf under BASE_PATH
#   ar_start_apache SNIPPET MODULE...   apache2 -DFOREGROUND on a free
#                      127.0.0.1 port, SNIPPET (a file) included in its
#                      virtual host, only the named modules loaded (besides
#                      mpm_event, authz_core and the built-in ones); sets
#                      AR_URL, AR_APACHE_PORT, AR_APACHE_PID, AR_APACHE_DIR
#                      (ServerRoot: httpd.conf, error.log, access.log,
#                      htdocs/, run/ for the pid, locks and mod_fcgid's
#                      sockets, all inside $AR_TMP)
#   ar_stop_apache     SIGTERM, wait; then any app process mod_fcgid left
#   AR_APACHE_SERVER_EXTRA  optional, set before ar_start_apache: a file
#                      included at server level, before the virtual host
#                      (directives Apache refuses inside one, e.g.
#                      AuthnzFcgiDefineProvider)
#   ar_apache_children PIDs of the app processes mod_fcgid started (those
#                      running with $AR_TMP/antireplay.conf, below Apache)
#
# As root Apache's children run as nobody (User/Group), like Debian's
# www-data; as any other user they keep running as that user.

: "${APACHE2:=$(command -v apache2 || command -v /usr/sbin/apache2 || true)}"
: "${APACHE2_MODULES:=/usr/lib/apache2/modules}"

# ar_require_apache_modules MODULE...: skip (ar_skip) when one of them, or
# mpm_event / authz_core, is not installed.
ar_require_apache_modules() {
	for ap_mod in mpm_event authz_core "$@"; do
		if [ ! -f "$APACHE2_MODULES/mod_$ap_mod.so" ]; then
			ar_skip "missing Apache module: $APACHE2_MODULES/mod_$ap_mod.so"
		fi
	done
}

AR_APACHE_PROXY_SRC=$top_srcdir/conf/apache/antireplay-proxy-fcgi.conf
AR_APACHE_FCGID_SRC=$top_srcdir/conf/apache/antireplay-fcgid.conf


ar_apache_proxy_snippet() {
	ar_snippet "$AR_APACHE_PROXY_SRC" \
		'<Location /api/>' "<Location $1/>" \
		'"proxy:unix:/run/antireplay/antireplay.sock|' "\"proxy:unix:$AR_APP_SOCK|"
}

# mod_fcgid runs the program as Apache's user, which may not reach a build
# tree (under /root, or a 0700 temp folder): it runs a copy in $AR_TMP/bin.
ar_apache_fcgid_bin() {
	mkdir -p "$AR_TMP/bin"
	[ -x "$AR_TMP/bin/antireplay-fcgi" ] || cp "$ANTIREPLAY_BIN" "$AR_TMP/bin/antireplay-fcgi"
	AR_FCGID_BIN=$AR_TMP/bin/antireplay-fcgi
}

ar_apache_fcgid_snippet() {
	ar_apache_fcgid_bin
	ar_snippet "$AR_APACHE_FCGID_SRC" \
		'<Location /api/>' "<Location $1/>" \
		'Alias /api/ /usr/sbin/antireplay-fcgi/' "Alias $1/ $AR_FCGID_BIN/" \
		'FcgidWrapper "/usr/sbin/antireplay-fcgi -c /etc/antireplay/antireplay.conf"' \
		"FcgidWrapper \"$AR_FCGID_BIN -c $AR_TMP/antireplay.conf\""
}

# ar_apache_write_conf PORT NONCE SNIPPET MODULE...: the main config.
ar_apache_write_conf() {
	ap_port=$1 ap_nonce=$2 ap_snippet=$3
	shift 3
	ap_user=""
	if [ "$(id -u)" -eq 0 ]; then
		ap_group=nogroup
		getent group nogroup >/dev/null 2>&1 || ap_group=nobody
		ap_user="User nobody
Group $ap_group"
	fi
	printf '%s' "$ap_nonce" >"$AR_APACHE_DIR/htdocs/ar-ping"
	{
		cat <<APEOF
# written by tests/e2e/apache.sh
ServerRoot $AR_APACHE_DIR
DefaultRuntimeDir $AR_APACHE_DIR/run
PidFile $AR_APACHE_DIR/run/httpd.pid
Mutex file:$AR_APACHE_DIR/run default
ErrorLog $AR_APACHE_DIR/error.log
LogLevel info
LogFormat "%h \"%r\" %>s %B %D" ar
CustomLog $AR_APACHE_DIR/access.log ar
Listen 127.0.0.1:$ap_port
ServerName 127.0.0.1
ServerTokens Prod
DocumentRoot $AR_APACHE_DIR/htdocs
$ap_user
LoadModule mpm_event_module $APACHE2_MODULES/mod_mpm_event.so
LoadModule authz_core_module $APACHE2_MODULES/mod_authz_core.so
APEOF
		for ap_mod in "$@"; do
			echo "LoadModule ${ap_mod}_module $APACHE2_MODULES/mod_$ap_mod.so"
		done
		cat <<APEOF
StartServers 2
ServerLimit 2
ThreadsPerChild 32
MaxRequestWorkers 64
MinSpareThreads 32
MaxSpareThreads 64
<IfModule fcgid_module>
    FcgidIPCDir $AR_APACHE_DIR/run/fcgid
    FcgidProcessTableFile $AR_APACHE_DIR/run/fcgid_shm
</IfModule>
<Directory />
    AllowOverride None
    Require all denied
</Directory>
<Directory $AR_APACHE_DIR/htdocs>
    Require all granted
</Directory>
${AR_APACHE_SERVER_EXTRA:+Include $AR_APACHE_SERVER_EXTRA}
<VirtualHost 127.0.0.1:$ap_port>
    ServerName 127.0.0.1
    Include $ap_snippet
</VirtualHost>
APEOF
	} >"$AR_APACHE_DIR/httpd.conf"
}

# Writes httpd.conf for port $1 and starts apache2 in the background.
ar_apache_launch() {
	ar_apache_write_conf "$1" "$AR_APACHE_NONCE" "$AR_APACHE_SNIPPET" $AR_APACHE_MODULES
	# A restart keeps the last run's log in error.log.old.
	if [ -s "$AR_APACHE_DIR/error.log" ]; then
		cat "$AR_APACHE_DIR/error.log" >>"$AR_APACHE_DIR/error.log.old"
	fi
	: >"$AR_APACHE_DIR/error.log"
	"$APACHE2" -d "$AR_APACHE_DIR" -f "$AR_APACHE_DIR/httpd.conf" -DFOREGROUND \
		2>>"$AR_APACHE_DIR/error.log" &
	AR_FRONT_PID=$!
}

ar_start_apache() {
	ar_require "$APACHE2"
	AR_APACHE_SNIPPET=$1
	shift
	AR_APACHE_MODULES="$*"
	AR_APACHE_DIR=$AR_TMP/apache
	mkdir -p "$AR_APACHE_DIR/htdocs" "$AR_APACHE_DIR/run"
	# mod_fcgid makes its socket folder itself and hands it to User; one
	# left from an earlier start would keep the old owner.
	rm -rf "$AR_APACHE_DIR/run/fcgid"
	AR_APACHE_NONCE="antireplay-apache-$$"
	ar_start_front apache2 /ar-ping "$AR_APACHE_NONCE" ar_apache_launch \
		"$AR_APACHE_DIR/error.log"
	AR_APACHE_PORT=$AR_FRONT_PORT
	AR_APACHE_PID=$AR_FRONT_PID
}

# The app processes mod_fcgid started: they run the app with this test's
# config, and their parent is mod_fcgid's process manager (a child of
# Apache's main process).
ar_apache_children() {
	ps -eo pid=,ppid=,args= 2>/dev/null | awk -v bin="${AR_FCGID_BIN:-$ANTIREPLAY_BIN}" \
		-v conf="$AR_TMP/antireplay.conf" -v ap="${AR_APACHE_PID:-0}" '
		{ ppid[$1] = $2; line[$1] = $0 }
		END {
			for (p in line) {
				if (index(line[p], bin " -c " conf) == 0) continue
				pm = ppid[p]
				if (ppid[pm] == ap) print p
			}
		}' | sort -n | tr '\n' ' '
}

ar_stop_apache() {
	ap_left=$(ar_apache_children)
	ar_stop_pid "$AR_APACHE_PID"
	# mod_fcgid stops its processes on the way out; make sure.
	for pid in $ap_left; do
		ar_alive "$pid" && kill -9 "$pid" 2>/dev/null
	done
	return 0
}
