# tests/lib.sh: fixtures shared by the integration and end-to-end tests.
# Sourced by a test script. Everything started here runs on loopback or a
# unix socket inside a private temp folder, and is stopped by PID on exit.
#
#   ar_setup                    make $AR_TMP, install the exit trap
#   ar_start_redis [conf...]    private redis-server on $AR_TMP/redis.sock
#   ar_stop_redis / ar_restart_redis
#   ar_write_config [key=value...]  $AR_TMP/antireplay.conf (redis at the socket)
#   ar_start_app [N]            spawn-fcgi -F N (default 4) on $AR_TMP/app.sock;
#                               each worker runs under $AR_APP_WRAPPER if set
#                               (e.g. "valgrind --error-exitcode=99 ...")
#   ar_stop_app
#   ar_redis CMD...             redis-cli on the private socket
#   ar_fcgi METHOD URI [BODY] [VAR=VALUE...]  one request through cgi-fcgi;
#                               sets AR_STATUS, AR_HEADERS, AR_BODY
#   ar_fcgi_to FILE METHOD URI [BODY] [VAR=VALUE...]  the same, raw into FILE
#                               (safe to run in the background); ar_parse FILE
#   ar_token [VAR=VALUE...]     POST /tokens; sets AR_TOKEN
#   ar_metric NAME              a sample of the last /metrics body
#   ok / not_ok / ar_done       TAP output; ar_done exits 1 if anything failed
#   check / check_contains / check_match / check_error   assertions
#
# Exit 77 (skip) only when a server binary is truly missing; CI installs all.

set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${ANTIREPLAY_BIN:=$top_builddir/src/antireplay-fcgi}"
: "${REDIS_SERVER:=$(command -v redis-server || true)}"
: "${SPAWN_FCGI:=$(command -v spawn-fcgi || true)}"
: "${CGI_FCGI:=$(command -v cgi-fcgi || true)}"
: "${CURL:=$(command -v curl || true)}"
REDIS_CLI=${REDIS_CLI:-$(command -v redis-cli || true)}
# Bounds every cgi-fcgi call, so a hung worker fails a test, not the suite.
AR_TIMEOUT=${AR_TIMEOUT:-$(command -v timeout || true)}
AR_UUID4_RE='^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'

AR_TESTS=0
AR_FAILED=0
AR_PIDS=""

ar_require() {
	for bin in "$@"; do
		if [ -z "$bin" ] || [ ! -x "$bin" ]; then
			echo "1..0 # SKIP missing program: ${bin:-(not found by configure)}"
			exit 77
		fi
	done
}

ok() {
	AR_TESTS=$((AR_TESTS + 1))
	echo "ok $AR_TESTS - $*"
}

not_ok() {
	AR_TESTS=$((AR_TESTS + 1))
	AR_FAILED=$((AR_FAILED + 1))
	echo "not ok $AR_TESTS - $*"
}

# check DESCRIPTION EXPECTED ACTUAL
check() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1 (expected '$2', got '$3')"
	fi
}

# check_match DESCRIPTION ERE VALUE
check_match() {
	if printf '%s' "$3" | grep -Eq -- "$2"; then
		ok "$1"
	else
		not_ok "$1 ('$3' does not match /$2/)"
	fi
}

# check_error DESCRIPTION STATUS CODE [EXTRA]: the last ar_fcgi answered
# STATUS, Content-Type application/json, and exactly the compact body
# {"error":"CODE","message":"<non-empty>"[,EXTRA]} (EXTRA is an ERE piece,
# e.g. '"sku":"B","available":4').
check_error() {
	_pat="^[{]\"error\":\"$3\",\"message\":\"([^\"\\]|\\\\.)+\"${4:+,$4}[}]\$"
	if [ "$AR_STATUS" = "$2" ] && printf '%s' "$AR_BODY" | grep -Eq -- "$_pat" &&
		[ "$(ar_header Content-Type)" = application/json ]; then
		ok "$1: $2 $3"
	else
		not_ok "$1: expected $2 $3${4:+ with $4}, got $AR_STATUS $AR_BODY (Content-Type: $(ar_header Content-Type))"
	fi
}

# check_contains DESCRIPTION NEEDLE HAYSTACK
check_contains() {
	case "$3" in
	*"$2"*) ok "$1" ;;
	*) not_ok "$1 (no '$2' in '$3')" ;;
	esac
}

ar_done() {
	echo "1..$AR_TESTS"
	[ "$AR_FAILED" -eq 0 ] || { echo "# $AR_FAILED of $AR_TESTS failed"; exit 1; }
	[ "$AR_TESTS" -gt 0 ] || { echo "# no test ran"; exit 1; }
	exit 0
}

# ar_alive PID: the process exists and is not a zombie. spawn-fcgi's workers
# belong to init, which may take seconds to reap them, so kill -0 is not
# enough to tell a dead worker from a live one.
ar_alive() {
	case $(ps -o stat= -p "$1" 2>/dev/null) in
	'' | Z*) return 1 ;;
	esac
	return 0
}

ar_cleanup() {
	for pid in $AR_PIDS; do
		kill "$pid" 2>/dev/null
		kill -CONT "$pid" 2>/dev/null # a test may have stopped it
	done
	for pid in $AR_PIDS; do
		i=0
		while ar_alive "$pid" && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -9 "$pid" 2>/dev/null
	done
	ar_sanitizer_reports || _rc=1
	if [ -n "${AR_TMP:-}" ] && [ -z "${AR_KEEP_TMP:-}" ]; then
		rm -rf "$AR_TMP"
	fi
	[ -z "${_rc:-}" ] || exit 1
}

# ar_sanitizer_reports: fails (and prints them) when a worker wrote an
# AddressSanitizer, LeakSanitizer or UBSan report into any log of $AR_TMP
# (workers log to stderr, which the fixtures send to files there). A
# sanitizer build (configure --enable-sanitizers) thus fails on any report,
# leaks at a worker's exit included, not only on a crash.
ar_sanitizer_reports() {
	[ -n "${AR_TMP:-}" ] && [ -d "$AR_TMP" ] || return 0
	_reports=$(grep -rlE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error: ' \
		"$AR_TMP" --include='*.log' --include='*log' 2>/dev/null)
	[ -z "$_reports" ] && return 0
	echo "not ok - sanitizer reports in: $_reports"
	for _f in $_reports; do
		grep -E -A25 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error: ' "$_f" | head -60
	done
	return 1
}

ar_setup() {
	ar_require "$ANTIREPLAY_BIN" "$REDIS_SERVER" "$REDIS_CLI" "$SPAWN_FCGI"
	ar_setup_tmp
}

# ar_setup_tmp: only the temp folder and the exit trap (tests that start
# no server).
ar_setup_tmp() {
	AR_TMP=$(mktemp -d "${TMPDIR:-/tmp}/antireplay-test.XXXXXX")
	chmod 755 "$AR_TMP"
	trap ar_cleanup EXIT
	trap 'exit 1' INT TERM
}

# Remember a PID to stop at exit.
ar_track() {
	AR_PIDS="$AR_PIDS $1"
}

ar_untrack() {
	AR_PIDS=$(echo "$AR_PIDS" | tr ' ' '\n' | grep -vx "$1" | tr '\n' ' ')
}

# Wait (up to 10 s) for a unix socket to appear.
ar_wait_socket() {
	i=0
	while [ ! -S "$1" ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ -S "$1" ]
}

ar_redis() {
	"$REDIS_CLI" -s "$AR_TMP/redis.sock" "$@"
}

# ar_start_redis [extra redis.conf lines...]
ar_start_redis() {
	AR_REDIS_SOCK=$AR_TMP/redis.sock
	{
		echo "port 0"
		echo "unixsocket $AR_REDIS_SOCK"
		echo "unixsocketperm 777"
		echo "dir $AR_TMP"
		echo "save \"\""
		echo "appendonly no"
		echo "pidfile $AR_TMP/redis.pid"
		echo "logfile $AR_TMP/redis.log"
		echo "daemonize no"
		for line in "$@"; do echo "$line"; done
	} >"$AR_TMP/redis.conf"
	ar_launch_redis
}

# Starts redis-server on $AR_TMP/redis.conf and waits until it answers PING.
ar_launch_redis() {
	rm -f "$AR_REDIS_SOCK"
	"$REDIS_SERVER" "$AR_TMP/redis.conf" &
	AR_REDIS_PID=$!
	ar_track "$AR_REDIS_PID"
	ar_wait_socket "$AR_REDIS_SOCK" || { echo "# redis did not start"; cat "$AR_TMP/redis.log"; exit 1; }
	i=0
	until ar_redis PING 2>/dev/null | grep -q PONG || [ $i -ge 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}

ar_stop_redis() {
	kill "$AR_REDIS_PID" 2>/dev/null
	i=0
	while ar_alive "$AR_REDIS_PID" && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	ar_untrack "$AR_REDIS_PID"
}

ar_restart_redis() {
	ar_stop_redis
	ar_launch_redis
}

# ar_write_config [key=value...]: the app config, Redis on the private socket,
# logging to stderr (into $AR_TMP/app.log via ar_start_app).
ar_write_config() {
	{
		echo "# written by tests/lib.sh"
		# A key may appear only once: the defaults yield to the arguments.
		case " $* " in *" redis="*) ;; *) echo "redis = unix:$AR_TMP/redis.sock" ;; esac
		case " $* " in *" log="*) ;; *) echo "log = stderr" ;; esac
		case " $* " in *" log_level="*) ;; *) echo "log_level = debug" ;; esac
		for kv in "$@"; do
			echo "${kv%%=*} = ${kv#*=}"
		done
	} >"$AR_TMP/antireplay.conf"
}

# ar_start_app [N]: N workers (default 4) under spawn-fcgi -F on app.sock.
ar_start_app() {
	n=${1:-4}
	AR_APP_SOCK=$AR_TMP/app.sock
	rm -f "$AR_APP_SOCK"
	: >"$AR_TMP/app.log"
	"$SPAWN_FCGI" -s "$AR_APP_SOCK" -M 0666 -F "$n" -P "$AR_TMP/app.pid" \
		-- /bin/sh -c "exec ${AR_APP_WRAPPER:-} '$ANTIREPLAY_BIN' -c '$AR_TMP/antireplay.conf' 2>>'$AR_TMP/app.log'" \
		>/dev/null || { echo "# spawn-fcgi failed"; cat "$AR_TMP/app.log"; exit 1; }
	ar_wait_socket "$AR_APP_SOCK" || { echo "# app socket missing"; exit 1; }
	# spawn-fcgi -P writes one child PID a line; the shell execs the app,
	# so these are the workers' PIDs.
	AR_APP_PIDS=$(tr '\n' ' ' <"$AR_TMP/app.pid")
	[ -n "$AR_APP_PIDS" ] ||
		AR_APP_PIDS=$(pgrep -f -- "$ANTIREPLAY_BIN -c $AR_TMP/antireplay.conf" | tr '\n' ' ')
	for pid in $AR_APP_PIDS; do ar_track "$pid"; done
}

ar_stop_app() {
	for pid in $AR_APP_PIDS; do kill "$pid" 2>/dev/null; done
	for pid in $AR_APP_PIDS; do
		i=0
		while ar_alive "$pid" && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		ar_untrack "$pid"
	done
	AR_APP_PIDS=""
}

# ar_fcgi_to FILE METHOD URI [BODY] [VAR=VALUE...]: one FastCGI request
# straight to the app socket (no web server); the raw CGI response (headers,
# blank line, body) goes to FILE (empty when nothing answered). Sets no
# variable, so it can run in the background. CONTENT_TYPE defaults to
# application/json and CONTENT_LENGTH to the body's length; VAR=VALUE
# arguments (HTTP_X_USER=..., CONTENT_LENGTH=..., REMOTE_ADDR=...) override.
ar_fcgi_to() {
	_out=$1 _method=$2 _uri=$3 _body=${4-}
	shift 3
	[ $# -gt 0 ] && shift
	case "$_method $_body" in
	GET\ [A-Z]*=* | HEAD\ [A-Z]*=* | DELETE\ [A-Z]*=*)
		echo "# ar_fcgi: BODY '$_body' looks like a param; pass '' as BODY" >&2 ;;
	esac
	_len=$(printf '%s' "$_body" | wc -c)
	_qs=""
	case "$_uri" in *\?*) _qs=${_uri#*\?} ;; esac
	printf '%s' "$_body" | env -i \
		REQUEST_METHOD="$_method" REQUEST_URI="$_uri" \
		SCRIPT_NAME="${_uri%%\?*}" QUERY_STRING="$_qs" \
		SERVER_PROTOCOL=HTTP/1.1 GATEWAY_INTERFACE=CGI/1.1 \
		REMOTE_ADDR=127.0.0.1 \
		CONTENT_LENGTH="$_len" CONTENT_TYPE="application/json" \
		"$@" ${AR_TIMEOUT:+"$AR_TIMEOUT" 20} "$CGI_FCGI" -bind -connect "$AR_APP_SOCK" \
		>"$_out" 2>/dev/null
	return 0
}

# ar_parse FILE: AR_HEADERS (CR stripped), AR_BODY (trailing newlines cut),
# AR_STATUS (000 when nothing answered) of a response ar_fcgi_to saved; the
# exact body bytes go to FILE.body.
ar_parse() {
	AR_HEADERS=$(sed -e 's/\r$//' -e '/^$/q' "$1")
	sed -e '1,/^\r\{0,1\}$/d' "$1" >"$1.body"
	AR_BODY=$(cat "$1.body")
	AR_STATUS=$(printf '%s\n' "$AR_HEADERS" | sed -n 's/^Status: \([0-9]*\).*/\1/p')
	if [ -z "$AR_STATUS" ]; then
		if [ -s "$1" ]; then AR_STATUS=200; else AR_STATUS=000; fi
	fi
}

# ar_fcgi METHOD URI [BODY] [VAR=VALUE...]: ar_fcgi_to into $AR_TMP/fcgi.out,
# then ar_parse. Sets AR_STATUS, AR_HEADERS and AR_BODY; the exact body bytes
# are in $AR_TMP/fcgi.out.body (AR_BODY_FILE).
ar_fcgi() {
	AR_BODY_FILE=$AR_TMP/fcgi.out.body
	ar_fcgi_to "$AR_TMP/fcgi.out" "$@"
	ar_parse "$AR_TMP/fcgi.out"
	[ -z "${AR_AUDIT:-}" ] || ar_audit_last "$1 $2"
}

# With AR_AUDIT set, every ar_fcgi response is checked for the headers every
# response must carry (Content-Type, Cache-Control: no-store, a
# Content-Length equal to the body's length; HEAD: no body); ar_audit_report
# turns what was found into one test.
AR_AUDIT_BAD=""
ar_audit_last() {
	_ct=$(ar_header Content-Type)
	_cc=$(ar_header Cache-Control)
	_cl=$(ar_header Content-Length)
	_n=$(wc -c <"$AR_BODY_FILE")
	_why=""
	[ "$AR_STATUS" != 000 ] || _why="no response"
	[ -n "$_ct" ] || _why="$_why no Content-Type;"
	[ "$_cc" = no-store ] || _why="$_why Cache-Control '$_cc';"
	case "$1" in
	HEAD\ *) [ "$_n" -eq 0 ] || _why="$_why HEAD with a body;"
		[ -n "$_cl" ] || _why="$_why no Content-Length;" ;;
	*) [ "$_cl" = "$_n" ] || _why="$_why Content-Length '$_cl' for $_n bytes;" ;;
	esac
	[ -z "$_why" ] || AR_AUDIT_BAD="$AR_AUDIT_BAD [$1 -> $AR_STATUS:$_why]"
}

ar_audit_report() {
	if [ -z "$AR_AUDIT_BAD" ]; then
		ok "every response had Content-Type, Cache-Control: no-store and a right Content-Length"
	else
		not_ok "responses with bad common headers:$AR_AUDIT_BAD"
	fi
}

# ar_token [VAR=VALUE...]: POST ${AR_BASE}/tokens; AR_TOKEN is the token ("" if none).
ar_token() {
	ar_fcgi POST "${AR_BASE:-}/tokens" "" "$@"
	AR_TOKEN=""
	[ "$AR_STATUS" != 201 ] || AR_TOKEN=$(ar_json_get token)
}

# ar_metric SAMPLE: the value of one sample line of the last /metrics body,
# e.g. ar_metric 'antireplay_submissions_total{outcome="created"}'; "" if absent.
ar_metric() {
	printf '%s\n' "$AR_BODY" | awk -v n="$1" '$1 == n { print $2; exit }'
}

# Milliseconds since the epoch (GNU date).
ar_now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# ar_header NAME: the value of a response header of the last ar_fcgi.
ar_header() {
	printf '%s\n' "$AR_HEADERS" | sed -n "s/^$1: //Ip" | head -n 1
}

# ar_json_get KEY: a top-level string or number member of $AR_BODY (the
# app writes compact JSON; values it looks up are plain).
ar_json_get() {
	printf '%s' "$AR_BODY" | sed -n "s/.*\"$1\":\"\{0,1\}\([^\",}]*\)\"\{0,1\}[,}].*/\1/p" | head -n 1
}

# --- Supervision fixtures (tests/integration/test_supervision.sh) ---------
#   ar_start_multiwatch N [spawn-fcgi options...]
#                       spawn-fcgi -n -s app.sock -M 0666 -b 2N -- multiwatch
#                       -f N -- the app: AR_MW_PID is spawn-fcgi, which
#                       execs multiwatch. Each worker runs under a small
#                       recorder that passes stop signals on and appends
#                       "PID STATUS" to $AR_TMP/exits when the worker ends.
#   ar_workers          PIDs of the live workers under multiwatch
#   ar_start_single     one worker under spawn-fcgi -n (no multiwatch) on
#                       single.sock: AR_SINGLE_PID is the worker itself, so
#                       `wait $AR_SINGLE_PID` gives its exit status
#   ar_response_state FILE   full | none | broken: a response ar_fcgi_to saved
#                       (full: headers, blank line, Content-Length bytes; not
#                       for HEAD)
#   ar_kill_workers     at exit: stops any worker a recorder started

: "${MULTIWATCH:=$(command -v multiwatch || true)}"

# Writes $AR_TMP/recorder.sh: runs "$@" as a child on the same fd 0, passes
# HUP/INT/QUIT/TERM/USR1/USR2 on to it, and records its exit status.
ar_write_recorder() {
	cat >"$AR_TMP/recorder.sh" <<'REC'
# recorder.sh APP ARGS...: see ar_write_recorder in tests/lib.sh.
child=""
for s in HUP INT QUIT TERM USR1 USR2; do
	trap "[ -z \"\$child\" ] || kill -$s \$child 2>/dev/null" $s
done
# An asynchronous command gets /dev/null as stdin unless told otherwise.
exec 3<&0
"$@" <&3 3<&- 2>>"$AR_TMP/app.log" &
child=$!
exec 3<&-
echo "$child" >>"$AR_TMP/worker.pids"
i=0
while [ $i -lt 1000 ]; do
	wait "$child"
	rc=$?
	# wait returns early when a trapped signal arrives: go on waiting while
	# the child still exists.
	kill -0 "$child" 2>/dev/null || break
	i=$((i + 1))
done
echo "$child $rc" >>"$AR_TMP/exits"
exit "$rc"
REC
}

ar_start_multiwatch() {
	n=$1
	shift
	ar_require "$MULTIWATCH"
	AR_APP_SOCK=$AR_TMP/app.sock
	rm -f "$AR_APP_SOCK" "$AR_TMP/exits"
	: >>"$AR_TMP/app.log"
	ar_write_recorder
	AR_TMP=$AR_TMP "$SPAWN_FCGI" -n -s "$AR_APP_SOCK" -M 0666 -b $((2 * n)) "$@" -- \
		"$MULTIWATCH" -f "$n" -- /bin/sh "$AR_TMP/recorder.sh" \
		"$ANTIREPLAY_BIN" -c "$AR_TMP/antireplay.conf" 2>>"$AR_TMP/multiwatch.log" &
	AR_MW_PID=$!
	ar_track "$AR_MW_PID"
	ar_wait_socket "$AR_APP_SOCK" || { echo "# multiwatch pool socket missing"; exit 1; }
	# Wait (up to 5 s) until all N workers run.
	i=0
	while [ "$(ar_workers | wc -w)" -lt "$n" ] && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}

# Workers are the recorders' children, the recorders multiwatch's.
ar_workers() {
	for _rec in $(pgrep -P "$AR_MW_PID" 2>/dev/null); do
		pgrep -P "$_rec" 2>/dev/null
	done
}

ar_start_single() {
	AR_APP_SOCK=$AR_TMP/single.sock
	rm -f "$AR_APP_SOCK"
	: >>"$AR_TMP/app.log"
	"$SPAWN_FCGI" -n -s "$AR_APP_SOCK" -M 0666 -b 2 -- \
		"$ANTIREPLAY_BIN" -c "$AR_TMP/antireplay.conf" 2>>"$AR_TMP/app.log" &
	AR_SINGLE_PID=$!
	ar_track "$AR_SINGLE_PID"
	ar_wait_socket "$AR_APP_SOCK" || { echo "# single worker socket missing"; exit 1; }
}

ar_response_state() {
	if [ ! -s "$1" ]; then
		echo none
		return 0
	fi
	_size=$(wc -c <"$1")
	LC_ALL=C awk -v size="$_size" '
		!done { hdr += length($0) + 1; line = $0; sub(/\r$/, "", line)
			if (line == "") { done = 1; next }
			if (tolower(line) ~ /^content-length: /) { cl = substr(line, 17) + 0; have = 1 } }
		END { print (done && have && size - hdr == cl) ? "full" : "broken" }' "$1"
}

ar_kill_workers() {
	[ -f "${AR_TMP:-}/worker.pids" ] || return 0
	for pid in $(cat "$AR_TMP/worker.pids"); do
		case $(ps -o args= -p "$pid" 2>/dev/null) in
		*"$ANTIREPLAY_BIN"*) kill -9 "$pid" 2>/dev/null ;;
		esac
	done
}
