# tests/e2e/lighttpd.sh: a private lighttpd in front of the app, for the e2e
# tests. Sourced after tests/lib.sh, tests/lib/front.sh and ar_setup. The
# conf/lighttpd snippets are used as shipped: only paths, the prefix and the
# port are substituted.
#
#   (snippets are filled in with ar_snippet; the server is started on a free
#   port with ar_start_front: both in tests/lib/front.sh)
#   ar_start_lighttpd SNIPPET  lighttpd -D on a free 127.0.0.1 port with
#                      SNIPPET (a file) included; sets AR_URL,
#                      AR_LIGHTTPD_PORT, AR_LIGHTTPD_PID, AR_LIGHTTPD_DIR
#                      (document root www/, error.log, uploads/, run/ for
#                      sockets, all inside $AR_TMP)
#   ar_stop_lighttpd
#   ar_lighttpd_dirs   sets AR_LIGHTTPD_DIR and makes its folders (done by
#                      ar_start_lighttpd; call it first to put paths under
#                      it into a snippet)
#   ar_lighttpd_user   the user lighttpd runs as (and spawns apps as)
#   ar_lighttpd_children   PIDs of the processes lighttpd spawned (bin-path)
#   ar_lighttpd_slow_order TOKEN  POST $AR_BASE/orders through ar_http with
#                      a chunked JSON body whose second chunk comes 0.5 s
#                      after the first (customer "slow")
#   ar_lighttpd_curl_cl0   point $CURL at a wrapper that adds
#                      "Content-Length: 0" to a POST without a body, as
#                      browsers and HTTP libraries do (see below)
#
# As root, lighttpd drops to nobody (server.username), like Debian's
# www-data; as any other user it keeps running as that user.

: "${LIGHTTPD:=$(command -v lighttpd || command -v /usr/sbin/lighttpd || true)}"

ar_lighttpd_user() {
	if [ "$(id -u)" -eq 0 ]; then echo nobody; else id -un; fi
}


# ar_lighttpd_write_conf PORT SNIPPET: the main config. The parse options are
# the ones Debian's /etc/lighttpd/lighttpd.conf sets, so the app sees what a
# stock Debian lighttpd sends it.
ar_lighttpd_write_conf() {
	lt_user=""
	if [ "$(id -u)" -eq 0 ]; then
		lt_group=nogroup
		getent group nogroup >/dev/null 2>&1 || lt_group=nobody
		lt_user="server.username = \"nobody\"
server.groupname = \"$lt_group\""
	fi
	cat >"$AR_LIGHTTPD_DIR/lighttpd.conf" <<LTEOF
# written by tests/e2e/lighttpd.sh
server.modules = ( "mod_access", "mod_accesslog", "mod_fastcgi", "mod_staticfile" )
accesslog.filename = "$AR_LIGHTTPD_DIR/access.log"
server.document-root = "$AR_LIGHTTPD_DIR/www"
server.upload-dirs = ( "$AR_LIGHTTPD_DIR/uploads" )
server.errorlog = "$AR_LIGHTTPD_DIR/error.log"
server.pid-file = "$AR_LIGHTTPD_DIR/lighttpd.pid"
server.bind = "127.0.0.1"
server.port = $1
$lt_user
server.http-parseopts = (
  "header-strict" => "enable",
  "host-strict" => "enable",
  "host-normalize" => "enable",
  "url-normalize-unreserved" => "enable",
  "url-normalize-required" => "enable",
  "url-ctrls-reject" => "enable",
  "url-path-2f-decode" => "enable",
  "url-path-dotseg-remove" => "enable",
)
mimetype.assign = ( "" => "text/plain" )
include "$2"
LTEOF
}

ar_lighttpd_dirs() {
	AR_LIGHTTPD_DIR=$AR_TMP/lighttpd
	[ -d "$AR_LIGHTTPD_DIR/run" ] && return 0
	mkdir -p "$AR_LIGHTTPD_DIR/www" "$AR_LIGHTTPD_DIR/uploads" "$AR_LIGHTTPD_DIR/run"
	: >"$AR_LIGHTTPD_DIR/error.log"
	: >"$AR_LIGHTTPD_DIR/access.log"
	# lighttpd opens its error log, writes uploads and creates the sockets
	# of the apps it spawns after dropping privileges, as its own user.
	if [ "$(id -u)" -eq 0 ]; then
		chown "$(ar_lighttpd_user)" "$AR_LIGHTTPD_DIR/error.log" "$AR_LIGHTTPD_DIR/access.log" \
			"$AR_LIGHTTPD_DIR/uploads" "$AR_LIGHTTPD_DIR/run"
	fi
}

# Writes lighttpd.conf for port $1, checks it and starts lighttpd -D.
ar_lighttpd_launch() {
	ar_lighttpd_write_conf "$1" "$AR_LIGHTTPD_SNIPPET"
	"$LIGHTTPD" -tt -f "$AR_LIGHTTPD_DIR/lighttpd.conf" >"$AR_LIGHTTPD_DIR/check.out" 2>&1 || {
		echo "# lighttpd rejects its config:"
		sed 's/^/#   /' "$AR_LIGHTTPD_DIR/check.out"
		return 1
	}
	"$LIGHTTPD" -D -f "$AR_LIGHTTPD_DIR/lighttpd.conf" >"$AR_LIGHTTPD_DIR/stderr.log" 2>&1 &
	AR_FRONT_PID=$!
}

ar_start_lighttpd() {
	ar_require "$LIGHTTPD"
	ar_lighttpd_dirs
	AR_LIGHTTPD_SNIPPET=$1
	lt_nonce="antireplay-lighttpd-$$"
	printf '%s' "$lt_nonce" >"$AR_LIGHTTPD_DIR/www/.ar-ping"
	ar_start_front lighttpd /.ar-ping "$lt_nonce" ar_lighttpd_launch \
		"$AR_LIGHTTPD_DIR/stderr.log" "$AR_LIGHTTPD_DIR/error.log"
	AR_LIGHTTPD_PORT=$AR_FRONT_PORT
	AR_LIGHTTPD_PID=$AR_FRONT_PID
}

ar_stop_lighttpd() {
	ar_stop_pid "$AR_LIGHTTPD_PID"
}

ar_lighttpd_children() {
	pgrep -P "$AR_LIGHTTPD_PID" | tr '\n' ' '
}

# lighttpd answers 411 Length Required to a POST that has neither
# Content-Length nor Transfer-Encoding (HTTP/1.0 and 1.1 alike; PUT and
# DELETE pass). curl -X POST without data sends neither; browsers, fetch()
# and HTTP libraries send "Content-Length: 0". The wrapper does the same,
# so the shared scenario's bodiless POSTs reach the app.
ar_lighttpd_curl_cl0() {
	cat >"$AR_TMP/curl-cl0" <<CLEOF
#!/bin/sh
lt_post=0 lt_body=0 lt_prev=
for lt_a in "\$@"; do
	case "\$lt_prev \$lt_a" in
	"-X POST" | "--request POST") lt_post=1 ;;
	esac
	case "\$lt_a" in
	-d | --data* | -F | --form* | -T | --upload-file | --json) lt_body=1 ;;
	esac
	lt_prev=\$lt_a
done
if [ \$lt_post = 1 ] && [ \$lt_body = 0 ]; then
	set -- -H 'Content-Length: 0' "\$@"
fi
exec '$CURL' "\$@"
CLEOF
	chmod +x "$AR_TMP/curl-cl0"
	AR_LIGHTTPD_REAL_CURL=$CURL
	CURL=$AR_TMP/curl-cl0
}

ar_lighttpd_slow_order() {
	rm -f "$AR_TMP/slow.fifo"
	mkfifo "$AR_TMP/slow.fifo"
	{
		printf '%s' '{"items":[{"sku":"SKU-5","qty":1}],'
		sleep 0.5
		printf '%s' '"customer":"slow"}'
	} >"$AR_TMP/slow.fifo" &
	lt_writer=$!
	# curl -T - sends stdin with Transfer-Encoding: chunked.
	ar_http POST "$AR_BASE/orders" -T - -H "Idempotency-Key: $1" \
		-H 'Content-Type: application/json' <"$AR_TMP/slow.fifo"
	wait "$lt_writer"
}

# ar_lighttpd_scenario: the shared scenario through lighttpd, with what
# lighttpd does its own way: a POST without Content-Length gets its 411 and
# never reaches the app (curl -X POST without data sends none), so the
# scenario's bodiless POSTs then carry "Content-Length: 0" as browsers do;
# lighttpd caps the whole header block at 8 KiB, so the scenario's 6 KB
# header goes with a 1 KB Cookie; and a chunked body still arriving when the
# request starts (two chunks 0.5 s apart) is buffered and passed with
# CONTENT_LENGTH (server.stream-request-body = 0; streaming would give 411).
ar_lighttpd_scenario() {
	lt_code=$("$CURL" -s -o /dev/null -w '%{http_code}' -X POST "$AR_URL$AR_BASE/tokens")
	check "POST without Content-Length: lighttpd's 411" 411 "$lt_code"
	ar_lighttpd_curl_cl0
	SC_COOKIE_BYTES=1024
	ar_scenario_run
	sc_token
	ar_lighttpd_slow_order "$SC_TOKEN"
	check_status "a chunked body sent slowly" 201
	check "slow chunked body: all of it arrived" slow "$(h_json '.customer')"
}
