#!/bin/sh
# valgrind: the paths the e2e suite does not take, each process under
# memcheck. The command line (--version, --help, a bad argument, a missing
# or invalid config, --check-config, fd 0 not a socket); a worker that
# starts with Redis down, answers 503, connects once Redis is up, serves,
# survives a half-sent body, a client that reads nothing, and Redis going
# away again, then stops on SIGTERM; a worker whose Redis AUTH fails. Every
# log: complete, zero errors, zero bytes definitely lost. Run by
# make check-valgrind.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/lib/valgrind.sh"

: "${PERL:=$(command -v perl || true)}"
ar_valgrind_require
ar_require "$CGI_FCGI" "$PERL"
ar_setup
VG_DIR=$AR_TMP/vg
mkdir "$VG_DIR"
AR_APP_WRAPPER=$(ar_valgrind_wrapper "$VG_DIR")
MIX=$top_srcdir/tests/valgrind/fcgi-mix.pl
ADMIN=lifecycle-admin-0123456789
vg_logs=0

# vg_run EXPECTED DESC ARGS...: the binary under valgrind with ARGS (stdin
# from /dev/null), its exit status must be EXPECTED (99: valgrind found
# errors).
vg_run() {
	_want=$1 _desc=$2
	shift 2
	# shellcheck disable=SC2086 # the wrapper is a word list
	$AR_APP_WRAPPER "$ANTIREPLAY_BIN" "$@" </dev/null >"$AR_TMP/run.out" 2>&1
	check "$_desc: exit $_want" "$_want" "$?"
	vg_logs=$((vg_logs + 1))
}

# The command line and the config loader, success and failure.
ar_write_config admin_token=$ADMIN token_rate=0 client_timeout_ms=1000
vg_run 0 "--version" --version
vg_run 0 "--help" --help
vg_run 1 "a bad argument" --bogus
vg_run 1 "a missing config file" -c "$AR_TMP/none.conf"
printf 'redis = unix:/x\nbind = sideways\n' >"$AR_TMP/bad.conf"
vg_run 1 "an invalid config" -c "$AR_TMP/bad.conf" --check-config
vg_run 0 "--check-config of a valid config" -c "$AR_TMP/antireplay.conf" --check-config
vg_run 1 "fd 0 not a FastCGI socket" -c "$AR_TMP/antireplay.conf"

# A worker that starts with Redis down (never started yet).
ar_start_app 1
vg_logs=$((vg_logs + 1))
ar_fcgi GET /healthz
check "Redis down at start: GET /healthz" 503 "$AR_STATUS"
ar_fcgi POST /tokens ""
check_error "Redis down at start: POST /tokens" 503 unavailable
ar_fcgi POST /orders '{"items":[{"sku":"SKU-1","qty":1}]}' \
	HTTP_IDEMPOTENCY_KEY=3b241101-e2bb-4255-8caf-4136c566a962
check_error "Redis down at start: POST /orders" 503 unavailable
ar_fcgi GET /metrics
check "Redis down at start: GET /metrics" 503 "$AR_STATUS"
ar_fcgi GET /nope
check_error "Redis down at start: an unknown path" 404 not_found

# Redis comes up: the worker connects by itself (asked again every 0.1 s,
# for up to 60 s: a slow machine).
ar_start_redis
t_end=$(($(date +%s) + 60))
ar_fcgi GET /healthz
while [ "$AR_STATUS" != 200 ] && [ "$(date +%s)" -lt $t_end ]; do
	sleep 0.1
	ar_fcgi GET /healthz
done
check "Redis up: GET /healthz" 200 "$AR_STATUS"
"$PERL" "$MIX" "$AR_APP_SOCK" mix 30 "$ADMIN" >"$AR_TMP/mix.out" 2>&1
check "Redis up: 30 requests of the mix as expected" "requests 30 unexpected 0 unanswered 0" \
	"$(cat "$AR_TMP/mix.out")"

# A half-sent body, then a hang-up; a client that reads no answer. The
# worker is free again for the next request. (The fault tests own the
# bounds; here the paths only have to be taken under valgrind. The time is
# only shown.)
"$PERL" "$MIX" "$AR_APP_SOCK" half
"$PERL" "$MIX" "$AR_APP_SOCK" noread
t0=$(ar_now_ms)
ar_fcgi GET /healthz
t1=$(ar_now_ms)
echo "# after a half body and an unread answer: answered in $((t1 - t0)) ms"
check "after a half body and an unread answer: GET /healthz" 200 "$AR_STATUS"
# A client that sends half a body and stalls (120 s, longer than ar_fcgi
# waits: 60 s): the worker's read times out after client_timeout_ms (1 s),
# it answers 400 and closes at once (the app ends libfcgi's lingering close
# after a failed read); then it serves the next request. An answer at all
# thus shows that the worker, not the client, ended the stall. The request
# goes out once the stalled one is queued ahead of it (the worker takes
# connections in order). (The fault tests own the bound on the time, which
# is only shown.)
"$PERL" "$MIX" "$AR_APP_SOCK" stall 120 >"$AR_TMP/stall.out" &
stall_pid=$!
ar_track "$stall_pid"
# shellcheck disable=SC2317 # called through ar_wait_until
stall_sent() {
	grep -q sent "$AR_TMP/stall.out"
}
ar_wait_until 300 stall_sent
t0=$(ar_now_ms)
ar_fcgi GET /healthz
t1=$(ar_now_ms)
echo "# behind a stalled client: answered in $((t1 - t0)) ms (client_timeout_ms 1000)"
check "behind a stalled client: GET /healthz" 200 "$AR_STATUS"
kill "$stall_pid" 2>/dev/null
wait "$stall_pid" 2>/dev/null
ar_untrack "$stall_pid"

# Redis goes away again while the worker holds a connection.
ar_stop_redis
ar_fcgi POST /tokens ""
check_error "Redis gone: POST /tokens" 503 unavailable
ar_fcgi GET /healthz
check "Redis gone: GET /healthz" 503 "$AR_STATUS"

# SIGTERM: the worker leaves through main (valgrind writes its summary).
pid=$AR_APP_PIDS
ar_stop_app
if ar_alive "$pid"; then
	not_ok "the worker $pid still runs 60 s after SIGTERM"
else
	ok "the worker left after SIGTERM"
fi

# A worker whose AUTH fails (Redis without requirepass refuses AUTH with a
# password): 503 on every request, no leak from the failed connects.
ar_start_redis
ar_write_config admin_token=$ADMIN redis_password=not-the-password
ar_start_app 1
vg_logs=$((vg_logs + 1))
ar_fcgi POST /tokens ""
check_error "Redis AUTH refused: POST /tokens" 503 unavailable
ar_fcgi GET /healthz
check "Redis AUTH refused: GET /healthz" 503 "$AR_STATUS"
pid=$AR_APP_PIDS
ar_stop_app
if ar_alive "$pid"; then
	not_ok "the worker $pid still runs 60 s after SIGTERM (AUTH refused)"
else
	ok "the worker left after SIGTERM (AUTH refused)"
fi

ar_valgrind_reports "$VG_DIR" "$vg_logs"
ar_done
