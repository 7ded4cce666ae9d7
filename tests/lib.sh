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
#                               (e.g. "valgrind --error-exitcode=99 ..."); returns
#                               once every worker waits in accept()
#   ar_wait_accepting PID...    until each PID waits in accept() or is gone
#   ar_all PREDICATE ARG...     PREDICATE holds for every ARG
#   ar_stop_app
#   ar_redis CMD...             redis-cli on the private socket
#   ar_fcgi METHOD URI [BODY] [VAR=VALUE...]  one request through cgi-fcgi;
#                               sets AR_STATUS, AR_HEADERS, AR_BODY
#   ar_fcgi_to FILE METHOD URI [BODY] [VAR=VALUE...]  the same, raw into FILE
#                               (safe to run in the background); ar_parse FILE
#   ar_token [VAR=VALUE...]     POST /tokens; sets AR_TOKEN
#   ar_metric NAME              a sample of the last /metrics body
#   ar_snippet SRC FROM TO...   a conf/ snippet with literal substitutions
#   ar_start_front NAME PING NONCE LAUNCH LOG...  a web server on a free port
#   ar_wait_until TENTHS CMD... CMD every 0.1 s until it succeeds, at most
#                               TENTHS times (see the supervision fixtures)
#   ok / not_ok / ar_done       TAP output; ar_done exits 1 if anything failed
#   check / check_contains / check_match / check_error   assertions
#
# Exit 77 (skip) only when a server binary is truly missing; CI installs all.
#
# No check may depend on how fast the machine is (a sanitizer build, valgrind,
# one shared CPU core): tests poll for a state with a generous bound instead
# of sleeping a fixed time, and every bound here is many times what a slow
# machine needs. A bound only costs time when something is broken.

set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${ANTIREPLAY_BIN:=$top_builddir/src/antireplay-fcgi}"
: "${REDIS_SERVER:=$(command -v redis-server || true)}"
: "${SPAWN_FCGI:=$(command -v spawn-fcgi || true)}"
: "${CGI_FCGI:=$(command -v cgi-fcgi || true)}"
: "${CURL:=$(command -v curl || true)}"
REDIS_CLI=${REDIS_CLI:-$(command -v redis-cli || true)}
# Bounds every cgi-fcgi call (60 s: a worker under valgrind on a slow
# machine), so a hung worker fails a test, not the suite.
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

# ar_stop_pid PID [SIGNAL] [TENTHS]: sends SIGNAL (default TERM; 0 sends
# nothing) to PID, waits at most TENTHS tenths of a second (default 300: a
# server that writes its data or stops its children on the way out takes
# seconds on a slow machine) until it is gone (a zombie counts as gone), reaps
# it if it is our child and stops tracking it. Returns 0 when it is gone.
ar_stop_pid() {
	_sp_pid=$1 _sp_max=${3:-300}
	kill -"${2:-TERM}" "$_sp_pid" 2>/dev/null
	_sp_i=0
	while ar_alive "$_sp_pid" && [ $_sp_i -lt "$_sp_max" ]; do
		sleep 0.1
		_sp_i=$((_sp_i + 1))
	done
	ar_untrack "$_sp_pid"
	if ar_alive "$_sp_pid"; then
		return 1
	fi
	wait "$_sp_pid" 2>/dev/null
	return 0
}

ar_cleanup() {
	# SIGCONT first (a test may have stopped it), then SIGTERM. Not the
	# other way round: a SIGCONT that comes once the worker is on its way
	# out discards the SIGSTOP with which LeakSanitizer's exit-time check
	# stops it, and both then wait for ever (seen on a loaded machine).
	for pid in $AR_PIDS; do
		kill -CONT "$pid" 2>/dev/null
		kill "$pid" 2>/dev/null
	done
	# Up to 60 s before SIGKILL: a worker under valgrind or LeakSanitizer
	# writes its report on the way out, several at once on a slow machine,
	# and a SIGKILL would lose it. The waits overlap: all were signalled.
	for pid in $AR_PIDS; do
		ar_stop_pid "$pid" 0 600 || kill -9 "$pid" 2>/dev/null
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

# Wait (up to 30 s) for a unix socket to appear.
ar_wait_socket() {
	i=0
	while [ ! -S "$1" ] && [ $i -lt 300 ]; do
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
	# Up to 30 s: Redis loads its AOF before it answers.
	i=0
	until ar_redis PING 2>/dev/null | grep -q PONG || [ $i -ge 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ $i -lt 300 ] || echo "# redis does not answer PING after 30 s"
}

ar_stop_redis() {
	ar_stop_pid "$AR_REDIS_PID"
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
	# spawn-fcgi binds the socket itself: connections queue there before a
	# worker takes them. One under valgrind needs seconds to reach accept()
	# (tens on a slow machine, several starting on one core), longer than a
	# front waits for an answer (nginx: fastcgi_read_timeout 5s).
	# shellcheck disable=SC2086 # a list of PIDs
	ar_wait_accepting $AR_APP_PIDS
}

# ar_wait_accepting PID...: waits (up to 60 s) until each PID, a FastCGI
# worker, waits in accept() (ar_idle_in_accept) or is gone; says so when
# some do not.
ar_wait_accepting() {
	ar_wait_until 600 ar_all ar_accepting_or_gone "$@" ||
		echo "# after 60 s not every worker waits in accept():$(for _wa in "$@"; do
			ar_alive "$_wa" && ! ar_idle_in_accept "$_wa" && printf ' %s' "$_wa"; done)"
	return 0
}

ar_accepting_or_gone() {
	! ar_alive "$1" || ar_idle_in_accept "$1"
}

# ar_all PREDICATE ARG...: PREDICATE holds for every ARG (a PID, say).
ar_all() {
	_all_pred=$1
	shift
	for _all_arg in "$@"; do
		"$_all_pred" "$_all_arg" || return 1
	done
	return 0
}

ar_stop_app() {
	for pid in $AR_APP_PIDS; do kill "$pid" 2>/dev/null; done
	# Up to 60 s: a worker under valgrind writes its leak report on the way
	# out, which takes seconds, and several do it at once.
	for pid in $AR_APP_PIDS; do ar_stop_pid "$pid" 0 600; done
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
		"$@" ${AR_TIMEOUT:+"$AR_TIMEOUT" 60} "$CGI_FCGI" -bind -connect "$AR_APP_SOCK" \
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

# ar_token_field TOKEN: the token's name in Redis: its 16 bytes in unpadded
# base64url (token_key_name in src/token.h), computed here independently
# with perl.
ar_token_field() {
	perl -MMIME::Base64 -e '($h = $ARGV[0]) =~ tr/-//d; $k = encode_base64(pack("H*", $h), "");
		$k =~ tr{+/}{-_}; $k =~ s/=+$//; print $k' "$1"
}

# ar_token_key TOKEN [PREFIX]: the key of a used token (its recorded
# outcome): PREFIX (default ar:) + "t:" + its field.
ar_token_key() {
	printf '%st:%s' "${2:-ar:}" "$(ar_token_field "$1")"
}

# ar_pending TOKEN [PREFIX]: "KEY VALUE" of an unused token, from the hashes
# of the issue windows (PREFIX tw:*); nothing when no window holds it.
ar_pending() {
	_f=$(ar_token_field "$1")
	for _k in $(ar_redis --scan --pattern "${2:-ar:}tw:*"); do
		_v=$(ar_redis HGET "$_k" "$_f")
		[ -z "$_v" ] || printf '%s %s\n' "$_k" "$_v"
	done
}

# ar_pending_count [PREFIX]: how many unused tokens the window hashes hold.
ar_pending_count() {
	for _k in $(ar_redis --scan --pattern "${1:-ar:}tw:*"); do ar_redis HLEN "$_k"; done |
		awk '{ s += $1 } END { print s + 0 }'
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
#                       -f N $AR_MW_OPTS -- the app: AR_MW_PID is
#                       spawn-fcgi, which execs multiwatch. Each worker runs under a small
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
#   ar_in_request PID   the worker is inside a request: it holds SIGTERM
#                       blocked, as src/main.c does from accept to finish
#   ar_idle_in_accept PID  the worker waits in a system call on fd 0 (accept
#                       on the listening socket); where /proc/PID/syscall
#                       cannot be read, it is at least not inside a request
#   ar_signal_pending PID SIGNUM  SIGNUM waits, blocked, in PID
#   ar_redis_blocked    how many Redis clients wait with a command held (by
#                       CLIENT PAUSE WRITE, which the tests use to keep a
#                       request inside its worker as long as they need)
#   ar_wait_until TENTHS CMD...  runs CMD every 0.1 s until it succeeds, at
#                       most TENTHS times; returns CMD's last status

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
		"$MULTIWATCH" -f "$n" ${AR_MW_OPTS:-} -- /bin/sh "$AR_TMP/recorder.sh" \
		"$ANTIREPLAY_BIN" -c "$AR_TMP/antireplay.conf" 2>>"$AR_TMP/multiwatch.log" &
	AR_MW_PID=$!
	ar_track "$AR_MW_PID"
	ar_wait_socket "$AR_APP_SOCK" || { echo "# multiwatch pool socket missing"; exit 1; }
	# Wait (up to 30 s) until all N workers run.
	i=0
	while [ "$(ar_workers | wc -w)" -lt "$n" ] && [ $i -lt 300 ]; do
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

# ar_sigmask PID FIELD BIT: the bit for signal BIT of PID's /proc status
# mask FIELD (SigBlk, SigPnd, ShdPnd) is set. Linux numbering: TERM 15,
# USR1 10.
ar_sigmask() {
	_m=$(sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" 2>/dev/null)
	[ -n "$_m" ] && [ $((0x$_m & (1 << ($3 - 1)))) -ne 0 ]
}

ar_in_request() {
	ar_sigmask "$1" SigBlk 15
}

ar_signal_pending() {
	ar_sigmask "$1" SigPnd "$2" || ar_sigmask "$1" ShdPnd "$2"
}

ar_idle_in_accept() {
	if read -r _nr _fd _rest 2>/dev/null <"/proc/$1/syscall"; then
		case $_nr in *[!0-9]* | '') return 1 ;; esac
		[ "$_fd" = 0x0 ]
	else
		ar_alive "$1" && ! ar_in_request "$1"
	fi
}

ar_redis_blocked() {
	ar_redis CLIENT LIST | grep -c ' flags=[A-Za-z]*b'
}

ar_wait_until() {
	_wu_max=$1
	shift
	_wu_i=0
	while :; do
		"$@" && return 0
		_wu_rc=$?
		_wu_i=$((_wu_i + 1))
		[ $_wu_i -lt "$_wu_max" ] || return $_wu_rc
		sleep 0.1
	done
}

ar_kill_workers() {
	[ -f "${AR_TMP:-}/worker.pids" ] || return 0
	for pid in $(cat "$AR_TMP/worker.pids"); do
		case $(ps -o args= -p "$pid" 2>/dev/null) in
		*"$ANTIREPLAY_BIN"*) kill -9 "$pid" 2>/dev/null ;;
		esac
	done
}

# --- Valgrind fixtures (tests/valgrind/, make check-valgrind) -------------
#   ar_valgrind_require         VALGRIND (default: valgrind on PATH) must run;
#                               a missing valgrind fails the test (exit 1):
#                               it is what the test is about
#   ar_valgrind_wrapper DIR     prints an AR_APP_WRAPPER value: memcheck with
#                               --leak-check=full, definite leaks counted as
#                               errors, --error-exitcode=99, one log per
#                               process in DIR/vg.PID.log (DIR: no spaces)
#   ar_valgrind_reports DIR MIN three checks over DIR/vg.*.log: at least MIN
#                               logs, each complete (the process reached its
#                               end: an ERROR SUMMARY line, no death by
#                               signal); zero errors; zero bytes definitely
#                               lost. Prints each log's leak summary; on a
#                               problem, the reports with their stacks.

: "${VALGRIND:=$(command -v valgrind || true)}"

ar_valgrind_require() {
	if [ -z "$VALGRIND" ] || ! "$VALGRIND" --version >/dev/null 2>&1; then
		echo "not ok 1 - valgrind not found (VALGRIND='$VALGRIND'); Debian: apt-get install valgrind"
		exit 1
	fi
}

ar_valgrind_wrapper() {
	echo "$VALGRIND --tool=memcheck --leak-check=full --show-leak-kinds=definite" \
		"--errors-for-leak-kinds=definite --error-exitcode=99 --num-callers=30" \
		"--log-file=$1/vg.%p.log"
}

ar_valgrind_reports() {
	_vg_logs=$(ls "$1"/vg.*.log 2>/dev/null)
	_vg_n=0 _vg_errors=0 _vg_definite=0 _vg_incomplete="" _vg_bad=""
	for _f in $_vg_logs; do
		_vg_n=$((_vg_n + 1))
		_e=$(sed -n 's/.*ERROR SUMMARY: \([0-9,]*\) error.*/\1/p' "$_f" | tr -d , | tail -n 1)
		_d=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$_f" | tr -d , | tail -n 1)
		_i=$(sed -n 's/.*indirectly lost: \([0-9,]*\) bytes.*/\1/p' "$_f" | tr -d , | tail -n 1)
		_p=$(sed -n 's/.*possibly lost: \([0-9,]*\) bytes.*/\1/p' "$_f" | tr -d , | tail -n 1)
		_r=$(sed -n 's/.*still reachable: \([0-9,]*\) bytes.*/\1/p' "$_f" | tr -d , | tail -n 1)
		# "All heap blocks were freed" replaces the leak summary.
		grep -q 'All heap blocks were freed' "$_f" && _d=0 _i=0 _p=0 _r=0
		if [ -z "$_e" ] || grep -q 'Process terminating with default action' "$_f"; then
			_vg_incomplete="$_vg_incomplete ${_f##*/}"
			_vg_bad="$_vg_bad $_f"
			echo "# ${_f##*/}: incomplete (killed, or died of a signal)"
			continue
		fi
		echo "# ${_f##*/}: $_e errors; definitely lost ${_d:-?}, indirectly ${_i:-?}," \
			"possibly ${_p:-?}, still reachable ${_r:-?} bytes"
		_vg_errors=$((_vg_errors + _e))
		_vg_definite=$((_vg_definite + ${_d:-0}))
		[ "$_e" -eq 0 ] && [ "${_d:-0}" -eq 0 ] || _vg_bad="$_vg_bad $_f"
	done
	if [ "$_vg_n" -ge "$2" ] && [ -z "$_vg_incomplete" ]; then
		ok "valgrind: $_vg_n process logs (at least $2), each complete"
	else
		not_ok "valgrind: $_vg_n process logs (expected at least $2); incomplete:${_vg_incomplete:- none}"
	fi
	check "valgrind: errors over all processes" 0 "$_vg_errors"
	check "valgrind: bytes definitely lost over all processes" 0 "$_vg_definite"
	for _f in $_vg_bad; do
		echo "# --- $_f"
		sed -n '/^==[0-9]*== Memcheck/,/^==[0-9]*== Command:/d; s/^/# /p' "$_f" | head -n 120
	done
}

# --- Fault fixtures (tests/integration/test_fault_*.sh) --------------------
#   ar_kill_redis       SIGKILL the private Redis (no shutdown, no last
#                       fsync) and wait until it is gone; ar_launch_redis
#                       then starts it again on the same redis.conf (and AOF)
#   ar_fault_request OUT METHOD PATH BODY [TOKEN]
#                       one request, saved like ar_fcgi_to: through cgi-fcgi,
#                       or through curl to the base URL held in the file
#                       $AR_FAULT_URL_FILE when that is set (a web server
#                       in front). TOKEN goes in Idempotency-Key.
#   ar_order_client DIR ID MAX
#                       a client: up to MAX orders (until DIR/stop exists),
#                       each a fresh token (POST /tokens) and one two-line
#                       order (FA, FB), every 503/502/504/no answer retried
#                       with the same token up to $AR_FAULT_RETRIES times,
#                       0.1 s apart. Writes DIR/ID.log (one line per answer)
#                       and DIR/ID.final (one line per order: its final answer)
#   ar_fault_account DIR FA0 FB0 DESC
#                       the exact accounting over the client logs of DIR and
#                       Redis (starting stock FA0 and FB0); TAP lines, and
#                       "# accounting:" lines with the numbers
#   ar_write_fcgi_raw   writes $AR_TMP/fcgi_raw.pl, a FastCGI client spoken
#                       by hand that misbehaves on purpose (see its header)

AR_FAULT_RETRIES=${AR_FAULT_RETRIES:-100}

ar_kill_redis() {
	ar_stop_pid "$AR_REDIS_PID" KILL
}

ar_fault_request() {
	if [ -n "${AR_FAULT_URL_FILE:-}" ]; then
		_url=$(cat "$AR_FAULT_URL_FILE")
		"$CURL" -s -i -m 10 -X "$2" -H 'Content-Type: application/json' \
			${5:+-H "Idempotency-Key: $5"} --data-binary "$4" "$_url$3" 2>/dev/null |
			sed '1s/^HTTP\/[0-9.]* \([0-9][0-9]*\).*/Status: \1/' >"$1"
	else
		ar_fcgi_to "$1" "$2" "$3" "$4" ${5:+"HTTP_IDEMPOTENCY_KEY=$5"}
	fi
	return 0
}

ar_order_client() {
	_d=$1 _id=$2 _max=$3
	_k=0
	: >"$_d/$_id.log"
	: >"$_d/$_id.final"
	while [ $_k -lt "$_max" ] && [ ! -e "$_d/stop" ]; do
		_k=$((_k + 1))
		_tok="" _a=0
		while [ $_a -lt "$AR_FAULT_RETRIES" ]; do
			_a=$((_a + 1))
			ar_fault_request "$_d/$_id.out" POST "${AR_BASE:-}/tokens" ""
			ar_parse "$_d/$_id.out"
			echo "token $_id.$_k $_a $AR_STATUS" >>"$_d/$_id.log"
			case $AR_STATUS in
			201) _tok=$(ar_json_get token); break ;;
			000 | 502 | 503 | 504) sleep 0.1 ;;
			*) break ;;
			esac
		done
		if [ -z "$_tok" ]; then
			echo "notoken $_id.$_k $AR_STATUS" >>"$_d/$_id.final"
			continue
		fi
		_qa=$(((_id + _k) % 3 + 1))
		_qb=$(((_id * _k) % 2 + 1))
		_body="{\"items\":[{\"sku\":\"FA\",\"qty\":$_qa},{\"sku\":\"FB\",\"qty\":$_qb}]}"
		_a=0 _fin=none _oid=-
		while [ $_a -lt "$AR_FAULT_RETRIES" ]; do
			_a=$((_a + 1))
			ar_fault_request "$_d/$_id.out" POST "${AR_BASE:-}/orders" "$_body" "$_tok"
			ar_parse "$_d/$_id.out"
			_oid=-
			[ "$AR_STATUS" != 201 ] || _oid=$(ar_json_get order_id)
			_rep=$(ar_header Idempotent-Replayed)
			echo "order $_tok $_a $AR_STATUS ${_rep:-no} ${_oid:--} $_qa $_qb" >>"$_d/$_id.log"
			case $AR_STATUS in
			000 | 502 | 503 | 504) sleep 0.1 ;;
			*) _fin=$AR_STATUS; break ;;
			esac
		done
		echo "final $_tok $_fin ${_oid:--} $_qa $_qb $_a" >>"$_d/$_id.final"
	done
}

# The order ids of the stream <prefix>orders, one a line, in stream order.
ar_stream_ids() {
	ar_redis XRANGE ar:orders - + | awk 'prev == "order_id" { print } { prev = $0 }'
}

# ar_stream_qty SKU: the sum of SKU's quantities over the stream's orders.
ar_stream_qty() {
	ar_redis XRANGE ar:orders - + | awk -v sku="$1" '
		prev == "order" {
			s = $0
			pat = "\"sku\":\"" sku "\",\"qty\":[0-9]+"
			while (match(s, pat)) {
				m = substr(s, RSTART, RLENGTH); sub(/.*:/, "", m); n += m
				s = substr(s, RSTART + RLENGTH)
			}
		}
		{ prev = $0 }
		END { print n + 0 }'
}

ar_fault_account() {
	_d=$1 _fa0=$2 _fb0=$3 _desc=$4
	cat "$_d"/*.log >"$_d/all.answers"
	cat "$_d"/*.final >"$_d/all.finals"
	_orders=$(grep -c '^final ' "$_d/all.finals")
	_notok=$(grep -c '^notoken ' "$_d/all.finals")
	_bad=$(awk '$1 == "final" && $3 != 201' "$_d/all.finals" | wc -l)
	_tokreq=$(grep -c '^token ' "$_d/all.answers")
	_tokretry=$(awk '$1 == "token" && $4 != 201' "$_d/all.answers" | wc -l)
	_ordreq=$(grep -c '^order ' "$_d/all.answers")
	_ordretry=$(awk '$1 == "order" && $3 > 1' "$_d/all.answers" | wc -l)
	_s503=$(awk '$4 == 503' "$_d/all.answers" | wc -l)
	_s000=$(awk '$4 == "000"' "$_d/all.answers" | wc -l)
	_s502=$(awk '$4 == 502 || $4 == 504' "$_d/all.answers" | wc -l)
	_replays=$(awk '$1 == "order" && $4 == 201 && $5 == "true"' "$_d/all.answers" | wc -l)
	_maxtries=$(awk '$1 == "final" && $7 > m { m = $7 } END { print m + 0 }' "$_d/all.finals")
	# (token, order id) of every 201 a client saw, created or replayed.
	awk '$1 == "order" && $4 == 201 { print $2, $6 }' "$_d/all.answers" | sort -u >"$_d/seen.pairs"
	awk '{ print $2 }' "$_d/seen.pairs" | sort -u >"$_d/seen.ids"
	_seen=$(wc -l <"$_d/seen.ids")
	_twice=$(awk '{ print $1 }' "$_d/seen.pairs" | uniq -d | wc -l)
	ar_stream_ids >"$_d/stream.ids"
	_xlen=$(ar_redis XLEN ar:orders)
	_sdup=$(sort "$_d/stream.ids" | uniq -d | wc -l)
	sort -u "$_d/stream.ids" >"$_d/stream.uids"
	_missing_stream=$(comm -23 "$_d/seen.ids" "$_d/stream.uids" | wc -l)
	_unseen=$(comm -13 "$_d/seen.ids" "$_d/stream.uids" | wc -l)
	_nohash=0
	if [ "$_seen" -gt 0 ]; then
		_nohash=$(sed 's/^/HEXISTS ar:order:/; s/$/ order/' "$_d/seen.ids" | ar_redis | grep -vcx 1)
	fi
	_fa=$(ar_redis GET ar:stock:FA)
	_fb=$(ar_redis GET ar:stock:FB)
	_qfa=$(ar_stream_qty FA)
	_qfb=$(ar_stream_qty FB)
	_cfa=$(awk '$1 == "final" && $3 == 201 { n += $5 } END { print n + 0 }' "$_d/all.finals")
	_cfb=$(awk '$1 == "final" && $3 == 201 { n += $6 } END { print n + 0 }' "$_d/all.finals")
	_created=$(ar_redis HGET ar:metrics created)
	echo "# accounting ($_desc): $_orders orders by the clients, $_seen order ids seen" \
		"(201 or replay), stream length $_xlen, $_replays replayed answers"
	echo "# accounting ($_desc): requests: $_tokreq POST /tokens ($_tokretry retried)," \
		"$_ordreq POST /orders ($_ordretry retries); 503: $_s503, 502/504: $_s502," \
		"no answer: $_s000; most attempts for one order: $_maxtries"
	echo "# accounting ($_desc): FA $_fa + $_qfa ordered = $((_fa + _qfa)) (start $_fa0);" \
		"FB $_fb + $_qfb ordered = $((_fb + _qfb)) (start $_fb0); metrics created $_created"
	[ "$_orders" -gt 0 ] && ok "$_desc: the clients placed $_orders orders" ||
		not_ok "$_desc: the clients placed no order"
	check "$_desc: every client got a token each time (bounded retries)" 0 "$_notok"
	check "$_desc: every order got a final 201 (bounded retries)" 0 "$_bad"
	check "$_desc: no token produced two order ids" 0 "$_twice"
	check "$_desc: one order id per order placed" "$_orders" "$_seen"
	check "$_desc: every order seen exists in Redis (order hash)" 0 "$_nohash"
	check "$_desc: every order seen is in the stream" 0 "$_missing_stream"
	check "$_desc: no stream entry that no client saw" 0 "$_unseen"
	check "$_desc: no order twice in the stream" 0 "$_sdup"
	check "$_desc: stream length = orders seen" "$_seen" "$_xlen"
	check "$_desc: FA stock + ordered = starting stock" "$_fa0" "$((_fa + _qfa))"
	check "$_desc: FB stock + ordered = starting stock" "$_fb0" "$((_fb + _qfb))"
	check "$_desc: what the clients were told they ordered = the stream's quantities" \
		"$_qfa $_qfb" "$_cfa $_cfb"
	check "$_desc: metrics created = stream length" "$_xlen" "${_created:-0}"
}

ar_write_fcgi_raw() {
	cat >"$AR_TMP/fcgi_raw.pl" <<'FCGIRAW'
# fcgi_raw.pl SOCKET MODE HOLD BODY [NAME=VALUE...] (from ar_write_fcgi_raw
# in tests/lib.sh): one FastCGI request
# spoken by hand, to misbehave on purpose. MODE:
#   half    all params, then only the first half of BODY (CONTENT_LENGTH
#           is BODY's full length), then nothing more
#   noread  the whole request, then never read the answer
#   params  BEGIN_REQUEST and half of a PARAMS record, then nothing more
#   full    the whole request, read the answer (a control)
# The connection is then held open HOLD seconds. Prints one line per
# event as it happens: "sent", "status NNN", "end", "eof".
use strict;
use warnings;
use IO::Socket::UNIX;
use IO::Select;

my ($path, $mode, $hold, $body, @params) = @ARGV;
$| = 1;
my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Peer => $path)
	or die "connect $path: $!\n";

sub rec { my ($type, $content) = @_;
	return pack('CCnnCC', 1, $type, 1, length($content), 0, 0) . $content; }
sub nvlen { my $n = shift; return $n < 128 ? pack('C', $n) : pack('N', $n | 0x80000000); }
sub nv { my ($n, $v) = @_; return nvlen(length $n) . nvlen(length $v) . $n . $v; }

my %p = (REQUEST_METHOD => 'POST', REQUEST_URI => '/orders', SCRIPT_NAME => '/orders',
	QUERY_STRING => '', SERVER_PROTOCOL => 'HTTP/1.1', GATEWAY_INTERFACE => 'CGI/1.1',
	REMOTE_ADDR => '127.0.0.1', CONTENT_TYPE => 'application/json',
	CONTENT_LENGTH => length($body));
for (@params) { my ($n, $v) = split /=/, $_, 2; $p{$n} = $v; }
my $pblock = join '', map { nv($_, $p{$_}) } sort keys %p;

my $out = rec(1, pack('nCx5', 1, 0));
if ($mode eq 'params') {
	$out .= substr(rec(4, $pblock), 0, 8 + int(length($pblock) / 2));
} else {
	$out .= rec(4, $pblock) . rec(4, '');
	if ($mode eq 'half') {
		$out .= rec(5, substr($body, 0, int(length($body) / 2)));
	} else {
		$out .= rec(5, $body) if length $body;
		$out .= rec(5, '');
	}
}
print {$s} $out;
$s->flush;
print "sent\n";
if ($mode eq 'noread') {
	sleep $hold;
	exit 0;
}
my $sel = IO::Select->new($s);
my ($buf, $stdout, $eof, $status) = ('', '', 0, 0);
my $ticks = $hold * 20;
while ($ticks-- > 0 && !$eof) {
	next unless $sel->can_read(0.05);
	my $n = sysread($s, $buf, 65536, length $buf);
	if (!$n) { $eof = 1; print "eof\n"; last; }
	while (length($buf) >= 8) {
		my ($v, $type, $id, $len, $pad) = unpack('CCnnC', $buf);
		last if length($buf) < 8 + $len + $pad;
		my $content = substr($buf, 8, $len);
		substr($buf, 0, 8 + $len + $pad) = '';
		if ($type == 6) {
			$stdout .= $content;
			if (!$status && $stdout =~ /^Status: (\d+)/m) { $status = $1; print "status $status\n"; }
			elsif (!$status && $stdout =~ /\r?\n\r?\n/) { $status = 200; print "status 200\n"; }
		} elsif ($type == 3) {
			print "end\n";
		}
	}
}
if ($stdout =~ /\r?\n\r?\n(.*)\z/s) { print "body $1\n"; }
# Stay connected for the rest of HOLD, even after the answer.
select(undef, undef, undef, $ticks * 0.05) if $ticks > 0;
close $s;
FCGIRAW
}

# --- FastCGI probe client (tests/integration/fcgi_probe.pl, perl-base only) ---
#   ar_probe FILE [fcgi_probe.pl options...]
#                       one request to $AR_APP_SOCK with what cgi-fcgi cannot
#                       send (params of any size or number, crafted length
#                       fields, a body sent in part): AR_PROBE is the client's
#                       summary line ("result=response|closed|timeout
#                       status=... stdout=... end=... stdin_sent=..."), and
#                       the response is parsed as by ar_parse (AR_STATUS 000
#                       when none came).
#   ar_probe_field NAME   a field of AR_PROBE (result, status, stdin_sent, ...)

ar_probe() {
	_out=$1
	shift
	: >"$_out"
	AR_PROBE=$(${AR_TIMEOUT:+"$AR_TIMEOUT" 60} perl "$top_srcdir/tests/integration/fcgi_probe.pl" \
		--socket "$AR_APP_SOCK" --out "$_out" "$@" 2>&1)
	ar_parse "$_out"
}

ar_probe_field() {
	printf '%s\n' "$AR_PROBE" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n 1
}

# ar_snippet SRC [FROM TO]...: SRC with each literal FROM replaced by TO, on
# stdout. A FROM that SRC does not contain fails loudly (the shipped snippet
# changed shape), so the tests always use the conf/ files as shipped.
ar_snippet() {
	sn_src=$1
	shift
	: >"$AR_TMP/snippet.sed"
	while [ $# -ge 2 ]; do
		if ! grep -qF -- "$1" "$sn_src"; then
			echo "# $sn_src: no '$1' to substitute" >&2
			return 1
		fi
		# '#' is the sed delimiter; escape what is special in a sed RE and
		# in the replacement.
		sn_from=$(printf '%s' "$1" | sed -e 's/[]#.*^$[\\]/\\&/g')
		sn_to=$(printf '%s' "$2" | sed -e 's/[#&\\]/\\&/g')
		printf 's#%s#%s#g\n' "$sn_from" "$sn_to" >>"$AR_TMP/snippet.sed"
		shift 2
	done
	sed -f "$AR_TMP/snippet.sed" "$sn_src"
}

# ar_start_front NAME PING_PATH NONCE LAUNCH LOG...: a web server on a free
# 127.0.0.1 port. For each candidate port (derived from the PID, at most 20)
# it calls "LAUNCH PORT", which writes the server's config for PORT and
# starts it in the background with its PID in AR_FRONT_PID. The server is
# ready when GET PING_PATH answers NONCE (proof that it is ours); then
# AR_FRONT_PORT and AR_URL are set. One that exits with "Address already in
# use" in a LOG moves on to the next port; any other failure shows the LOGs
# and ends the test.
ar_start_front() {
	fr_name=$1 fr_ping=$2 fr_nonce=$3 fr_launch=$4
	shift 4
	fr_try=0
	while [ $fr_try -lt 20 ]; do
		AR_FRONT_PORT=$((20000 + ($$ * 17 + fr_try * 1009) % 30000))
		fr_try=$((fr_try + 1))
		fr_code=$("$CURL" -s -o /dev/null -m 2 -w '%{http_code}' \
			"http://127.0.0.1:$AR_FRONT_PORT/" 2>/dev/null)
		[ "$fr_code" = 000 ] || continue
		"$fr_launch" "$AR_FRONT_PORT" || exit 1
		ar_track "$AR_FRONT_PID"
		AR_URL=http://127.0.0.1:$AR_FRONT_PORT
		# Up to 60 s (Apache on a slow machine takes seconds), less when
		# the server dies.
		fr_end=$(($(date +%s) + 60))
		while [ "$(date +%s)" -lt $fr_end ] && ar_alive "$AR_FRONT_PID"; do
			fr_body=$("$CURL" -s -m 5 "$AR_URL$fr_ping" 2>/dev/null)
			[ "$fr_body" = "$fr_nonce" ] && return 0
			sleep 0.1
		done
		ar_stop_pid "$AR_FRONT_PID"
		if grep -qs 'Address already in use' "$@"; then
			continue
		fi
		echo "# $fr_name did not start on port $AR_FRONT_PORT:"
		for fr_log in "$@"; do
			[ -f "$fr_log" ] && sed 's/^/#   /' "$fr_log"
		done
		exit 1
	done
	echo "# no free loopback port for $fr_name after $fr_try tries"
	exit 1
}
