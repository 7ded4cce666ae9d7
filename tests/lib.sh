# tests/lib.sh: the core fixtures every shell test sources first: TAP
# output and checks, the temp folder and process cleanup, a private Redis,
# the app under spawn-fcgi, and requests to it through cgi-fcgi. Everything
# started here runs on loopback or a unix socket inside a private temp
# folder, and is stopped by PID on exit. The other fixture families are in
# tests/lib/ (each header lists its functions); a test sources, after this
# file, only those it uses:
#   tests/lib/front.sh        a web server on a free port, conf/ snippets
#                             (needed by tests/e2e/nginx.sh, apache.sh,
#                             lighttpd.sh)
#   tests/lib/supervision.sh  the app under multiwatch, one bare worker,
#                             the state of a saved response
#   tests/lib/faults.sh       Redis killed, retrying order clients, the
#                             exact accounting, a misbehaving FastCGI client
#   tests/lib/probe.sh        tests/integration/fcgi_probe.pl (crafted
#                             FastCGI requests)
#   tests/lib/valgrind.sh     workers under memcheck and their reports
# Families of their own: tests/mariadb.sh, tests/integration/drain.sh,
# tests/e2e/{http,scenario,nginx,apache,lighttpd}.sh.
#
# TAP (automake's tap-driver.sh reads it; make check counts every check):
#   ok / not_ok DESC            one result
#   check DESC EXPECTED ACTUAL  / check_contains / check_match / check_error
#   check_alive DESC PID...     every PID still runs (none died)
#   ar_done                     the plan 1..N; exits 1 if anything failed
#   ar_require PROGRAM...       ar_skip unless each PROGRAM is executable
#   ar_skip REASON              the plan "1..0 # SKIP REASON", exit 0 (or
#                               $AR_SKIP_STATUS)
# Processes and the temp folder:
#   ar_setup                    ar_require the app, Redis and spawn-fcgi, then
#                               ar_setup_tmp
#   ar_setup_tmp                make $AR_TMP, install the exit trap (ar_cleanup:
#                               stops every tracked PID, fails on sanitizer
#                               reports, removes $AR_TMP unless AR_KEEP_TMP)
#   ar_track PID / ar_untrack PID   stop PID at exit, or no longer
#   ar_alive PID                exists and is not a zombie
#   ar_count_alive PID...       how many of the PIDs are alive
#   ar_stop_pid PID [SIG] [TENTHS]  signal, wait until gone, reap, untrack
#   ar_wait_socket PATH         until the unix socket exists (30 s)
#   ar_wait_until TENTHS CMD... CMD every 0.1 s until it succeeds, at most
#                               TENTHS times; returns CMD's last status
#   ar_all PREDICATE ARG...     PREDICATE holds for every ARG
#   ar_in_request PID / ar_idle_in_accept PID / ar_signal_pending PID SIGNUM
#                               a worker's state, from /proc (ar_sigmask)
#   ar_now_ms                   milliseconds since the epoch
# Redis:
#   ar_start_redis [conf...]    private redis-server on $AR_TMP/redis.sock
#   ar_launch_redis / ar_stop_redis / ar_restart_redis
#   ar_redis CMD...             redis-cli on the private socket
#   ar_redis_blocked            how many clients wait with a command held
#                               (CLIENT PAUSE WRITE keeps a request inside its
#                               worker as long as a test needs)
#   ar_stock SKU [PREFIX]       the stock value of SKU ("" when none)
#   ar_xlen [PREFIX]            the length of the order stream
# The app:
#   ar_write_config [key=value...]  $AR_TMP/antireplay.conf (redis at the socket)
#   ar_start_app [N]            spawn-fcgi -F N (default 4) on $AR_TMP/app.sock;
#                               each worker runs under $AR_APP_WRAPPER if set
#                               (e.g. "valgrind --error-exitcode=99 ..."); returns
#                               once every worker waits in accept()
#   ar_start_app_tcp [N] [PORT] the same on 127.0.0.1:PORT (a free port when
#                               none is given: Apache's mod_authnz_fcgi takes
#                               no unix socket); sets AR_APP_PORT, and
#                               AR_APP_SOCK to 127.0.0.1:PORT (cgi-fcgi's
#                               -connect takes either)
#   ar_wait_accepting PID...    until each PID waits in accept() or is gone
#   ar_stop_app
# Requests through cgi-fcgi, straight to $AR_APP_SOCK:
#   ar_fcgi METHOD URI [BODY] [VAR=VALUE...]  one request; sets AR_STATUS,
#                               AR_HEADERS, AR_BODY (AR_AUDIT=1: every
#                               response is audited, ar_audit_report)
#   ar_fcgi_to FILE METHOD URI [BODY] [VAR=VALUE...]  the same, raw into FILE
#                               (safe to run in the background); ar_parse FILE
#   ar_header NAME / ar_json_get KEY / ar_metric SAMPLE  of the last response
#   ar_token [VAR=VALUE...]     POST /tokens; sets AR_TOKEN
#   ar_count_tokens N STATUS [VAR=VALUE...]  N times ar_token; AR_COUNT is how
#                               many were answered STATUS
#   ar_token_field / ar_token_key / ar_pending / ar_pending_count
#                               where Redis keeps a token
#
# Skip (ar_skip) only when a server binary is truly missing; CI installs all.
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
# An order made with an issued token: a name-based (version 5) UUID.
AR_UUID5_RE='^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'

AR_TESTS=0
AR_FAILED=0
AR_PIDS=""

# ar_skip REASON: the whole test is skipped. A TAP skip is the plan
# "1..0 # SKIP REASON" and exit status 0: automake's TAP driver reports a
# SKIP from the plan and an ERROR for any other status (77 included). A
# script whose caller is no TAP harness and must fail on a skip
# (tests/deb/test_deb.sh, run by scripts/test-deb) sets AR_SKIP_STATUS=77.
ar_skip() {
	echo "1..0 # SKIP $*"
	exit "${AR_SKIP_STATUS:-0}"
}

# ar_require PROGRAM...: skips the test unless each PROGRAM (a path, as
# configure found it) is executable. Call it before the first check.
ar_require() {
	for bin in "$@"; do
		if [ -z "$bin" ] || [ ! -x "$bin" ]; then
			ar_skip "missing program: ${bin:-(not found by configure)}"
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

# check_alive DESC PID...: every PID still runs (the same processes: none
# died, none was replaced); the failure names the dead ones.
check_alive() {
	_ca_desc=$1
	shift
	_ca_dead=""
	for _ca_pid in "$@"; do
		ar_alive "$_ca_pid" || _ca_dead="$_ca_dead $_ca_pid"
	done
	if [ $# -eq 0 ]; then
		not_ok "$_ca_desc (no PID to check)"
	else
		check "$_ca_desc" "" "$_ca_dead"
	fi
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

# ar_count_alive PID...: how many of the PIDs are alive.
ar_count_alive() {
	_cn=0
	for _cn_pid in "$@"; do
		ar_alive "$_cn_pid" && _cn=$((_cn + 1))
	done
	echo "$_cn"
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
	# At exit, after the plan: TAP's "Bail out!", which the TAP driver
	# reports as an ERROR with this reason (a "not ok" after the plan
	# would show only as a result "after late plan").
	echo "Bail out! sanitizer reports in: $_reports"
	for _f in $_reports; do
		grep -E -A25 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error: ' "$_f" |
			head -60 | sed 's/^/# /'
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

# ar_wait_until TENTHS CMD...: runs CMD every 0.1 s until it succeeds, at
# most TENTHS times; returns CMD's last status.
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

# ar_lua NAME: the path of lua/NAME.lua as Redis runs it, lua/common.lua
# first (written under $AR_TMP/lua once), for EVAL and redis-cli --eval.
ar_lua() {
	mkdir -p "$AR_TMP/lua"
	[ -f "$AR_TMP/lua/$1.lua" ] ||
		cat "$top_srcdir/lua/common.lua" "$top_srcdir/lua/$1.lua" >"$AR_TMP/lua/$1.lua"
	printf '%s\n' "$AR_TMP/lua/$1.lua"
}

ar_redis() {
	"$REDIS_CLI" -s "$AR_TMP/redis.sock" "$@"
}

# ar_redis_blocked: how many Redis clients wait with a command held (by
# CLIENT PAUSE WRITE, which the tests use to keep a request inside its
# worker as long as they need).
ar_redis_blocked() {
	ar_redis CLIENT LIST | grep -c ' flags=[A-Za-z]*b'
}

# ar_stock SKU [PREFIX]: the stock of SKU as Redis holds it (PREFIX, default
# ar:, + "stock:" + SKU); "" when there is none.
ar_stock() {
	ar_redis GET "${2:-ar:}stock:$1"
}

# ar_xlen [PREFIX]: the length of the order stream (PREFIX, default ar:, +
# "orders").
ar_xlen() {
	ar_redis XLEN "${1:-ar:}orders"
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
	ar_spawn_app "$n" -s "$AR_APP_SOCK" -M 0666 || { echo "# spawn-fcgi failed"; cat "$AR_TMP/app.log"; exit 1; }
	ar_wait_socket "$AR_APP_SOCK" || { echo "# app socket missing"; exit 1; }
	ar_app_started
}

# ar_start_app_tcp [N] [PORT]: N workers (default 4) under spawn-fcgi -F on
# 127.0.0.1:PORT; without PORT, the first free one of at most 20 derived
# from the PID (spawn-fcgi binds the socket itself, and fails when the port
# is taken).
ar_start_app_tcp() {
	n=${1:-4}
	: >"$AR_TMP/app.log"
	at_try=0
	while [ $at_try -lt 20 ]; do
		AR_APP_PORT=${2:-$((20000 + ($$ * 31 + at_try * 997 + 500) % 30000))}
		at_try=$((at_try + 1))
		if ar_spawn_app "$n" -a 127.0.0.1 -p "$AR_APP_PORT" 2>"$AR_TMP/spawn.err"; then
			AR_APP_SOCK=127.0.0.1:$AR_APP_PORT
			ar_app_started
			return 0
		fi
		[ -z "${2:-}" ] && grep -q 'Address already in use' "$AR_TMP/spawn.err" || break
	done
	echo "# spawn-fcgi on 127.0.0.1 failed:"
	sed 's/^/#   /' "$AR_TMP/spawn.err" "$AR_TMP/app.log"
	exit 1
}

# ar_spawn_app N SPAWN-FCGI-ARGS...: spawn-fcgi -F N with the args that say
# where to listen; the workers' PIDs go to $AR_TMP/app.pid.
ar_spawn_app() {
	sa_n=$1
	shift
	"$SPAWN_FCGI" "$@" -F "$sa_n" -P "$AR_TMP/app.pid" \
		-- /bin/sh -c "exec ${AR_APP_WRAPPER:-} '$ANTIREPLAY_BIN' -c '$AR_TMP/antireplay.conf' 2>>'$AR_TMP/app.log'" \
		>/dev/null
}

# ar_app_started: the workers spawn-fcgi wrote to app.pid are tracked, and
# each waits in accept().
ar_app_started() {
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

# The state of a worker, from /proc: ar_in_request PID (inside a request:
# it holds SIGTERM blocked, as src/main.c does from accept to finish),
# ar_idle_in_accept PID (waits in a system call on fd 0, accept on the
# listening socket; where /proc/PID/syscall cannot be read, at least not
# inside a request), ar_signal_pending PID SIGNUM (SIGNUM waits, blocked).

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

# ar_count_tokens N STATUS [VAR=VALUE...]: N times ar_token; AR_COUNT is
# how many of them were answered STATUS. Not in a subshell: AR_AUDIT sees
# every response.
ar_count_tokens() {
	_ct_n=$1 _ct_status=$2
	shift 2
	AR_COUNT=0
	_ct_i=0
	while [ $_ct_i -lt "$_ct_n" ]; do
		ar_token "$@"
		[ "$AR_STATUS" != "$_ct_status" ] || AR_COUNT=$((AR_COUNT + 1))
		_ct_i=$((_ct_i + 1))
	done
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

