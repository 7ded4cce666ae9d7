#!/bin/sh
# CVE-2025-23016 (libfcgi ReadParams: name/value lengths from the wire,
# summed in int for Malloc) against the installed libfcgi, at the app's
# socket, one worker under spawn-fcgi -n + multiwatch. Each case sends one
# FCGI_PARAMS record with crafted length fields (tests/integration/
# fcgi_probe.pl --raw-params) and asserts what Debian 12's libfcgi
# 2.4.2-2+deb12u1 (upstream fix b0eabca only, not 7c47639) really does:
#   survives: lengths >= INT_MAX are refused (b0eabca) and lengths past the
#     record's bytes end in a short read: libfcgi closes the connection
#     without an answer and the same worker PID serves the next request;
#   aborts: two lengths below INT_MAX whose sum + 2 overflows int reach
#     Malloc(huge), whose assert fires (SIGABRT, exit 134); multiwatch
#     starts a new worker (how fast is printed, not asserted) and service
#     continues.
# Then a 4th abort within multiwatch's retry window: multiwatch gives up and
# the pool is gone. Any change of outcome means libfcgi changed: update
# docs/security.md (section "The FastCGI socket") with the test.

. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/lib/supervision.sh"
. "$top_srcdir/tests/lib/probe.sh"

ar_require "$CGI_FCGI" "$MULTIWATCH" "$(command -v perl || true)"
ar_setup
# At exit stop multiwatch first, so it cannot respawn a worker after
# ar_kill_workers has run.
cve_cleanup() {
	[ -z "$AR_MW_PID" ] || ar_stop_pid "$AR_MW_PID" TERM 30
	ar_kill_workers
	ar_cleanup
}
AR_MW_PID=""
trap cve_cleanup EXIT
# Under AddressSanitizer a malloc of 2^64 - 2 bytes is itself a report
# (allocation-size-too-big); with allocator_may_return_null=1 it returns
# NULL as glibc does, so libfcgi's own assert decides, as in production.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}allocator_may_return_null=1"
export ASAN_OPTIONS
ar_start_redis
ar_write_config token_rate=0 log_level=info
# multiwatch (-r 3, its default) counts a death against the child slot only
# when the child lived less than -t (default 10 s); a longer-lived one
# resets the count. The cases before the first abort keep the first worker
# alive for more than 10 s on a slow machine (an ASan build on a busy
# core): its death would reset the count and the 4th abort be survived.
# The window is widened to 10 minutes, so the four aborts count whatever
# the machine's speed.
AR_MW_OPTS="-r 3 -t 600000"
ar_start_multiwatch 1

echo "# libfcgi0ldbl $(dpkg-query -W -f='${Version}' libfcgi0ldbl 2>/dev/null || echo '(not a dpkg system)')"

# served_by PID: GET /healthz answers 200 and the app logged it from PID.
served_by() {
	ar_fcgi GET /healthz ""
	[ "$AR_STATUS" = 200 ] && grep "info: GET healthz 200" "$AR_TMP/app.log" | tail -n 1 |
		grep -q "\[$1\]"
}

exits() {
	cat "$AR_TMP/exits" 2>/dev/null | wc -l
}

asserts() {
	grep -c 'Malloc: Assertion' "$AR_TMP/app.log"
}

# crafted NAME HEX: the params record's content is HEX; the rest of the
# request is a plain GET /healthz.
crafted() {
	ar_probe "$AR_TMP/r" --param REQUEST_METHOD=GET --param REQUEST_URI=/healthz \
		--param REMOTE_ADDR=127.0.0.1 --raw-params "$2"
}

# survives NAME HEX
survives() {
	_w=$(ar_workers)
	_e=$(exits)
	crafted "$@"
	_res=$(ar_probe_field result)/$(ar_probe_field stdout)
	# served_by first: the same PID answering a request after the crafted
	# one proves it outlived it, with no sleep to guess how long a dying
	# worker takes to show.
	if served_by "$_w" && [ "$_res" = closed/0 ] && [ "$(ar_workers)" = "$_w" ] &&
		[ "$(exits)" = "$_e" ]; then
		ok "$1: connection closed unanswered; worker $_w survives and serves the next request"
	else
		not_ok "$1 ($2): expected close + same worker $_w; got $_res, workers now '$(ar_workers)', exits: $(cat "$AR_TMP/exits" 2>/dev/null | tr '\n' ' ') (libfcgi changed? see docs/security.md)"
	fi
}

# new_worker OLD: a worker other than OLD runs (its PID in _new).
new_worker() {
	_new=$(ar_workers)
	[ -n "$_new" ] && [ "$_new" != "$1" ]
}

# aborts NAME HEX
aborts() {
	_w=$(ar_workers)
	_a=$(asserts)
	crafted "$@"
	_res=$(ar_probe_field result)/$(ar_probe_field stdout)
	# Up to 30 s for the replacement: its start (a shell, then the app) is
	# as slow as the machine. The recorder writes the exit status before
	# it ends, so before multiwatch forks the new worker.
	t0=$(ar_now_ms)
	ar_wait_until 300 new_worker "$_w"
	t1=$(ar_now_ms)
	if [ "$_res" = closed/0 ] && grep -qx "$_w 134" "$AR_TMP/exits" 2>/dev/null &&
		[ "$(asserts)" -gt "$_a" ]; then
		ok "$1: worker $_w aborted (SIGABRT, exit 134) on libfcgi's Malloc assert"
	else
		not_ok "$1 ($2): expected worker $_w to abort; got $_res, exits: $(cat "$AR_TMP/exits" 2>/dev/null | tr '\n' ' ') (libfcgi changed? see docs/security.md)"
	fi
	echo "# $1: new worker '$_new' seen after $((t1 - t0)) ms"
	if [ -n "$_new" ] && [ "$_new" != "$_w" ] && served_by "$_new"; then
		ok "$1: multiwatch started worker $_new; it serves"
	else
		not_ok "$1: no new serving worker (workers '$_new' after $((t1 - t0)) ms)"
	fi
}

W0=$(ar_workers)
served_by "$W0" && ok "worker $W0 serves before the crafted records" ||
	not_ok "worker $W0 does not serve at the start"

# Lengths are 4-byte big-endian with the top bit set (0x80000000 | len);
# 1-byte lengths are < 0x80.
survives "name length 0x7fffffff (refused: >= INT_MAX)" ffffffff00
survives "value length 0x7fffffff (refused: >= INT_MAX)" 01ffffffff41
survives "name and value lengths 0x7fffffff" ffffffffffffffff
survives "name 40 + value 40 bytes announced, 2 in the record" 28284142
survives "name length 65536, one past the largest record" 8001000000
survives "name length 16 MB (0x00ffffff), nothing follows" 80ffffff00
survives "a 4-byte length cut short by the end of the record" 810000
check "no worker exited during the survivable cases" 0 "$(exits)"

aborts "name + value lengths 0x7ffffffe + 0x7ffffffe (sum + 2 overflows int)" fffffffefffffffe
aborts "name + value lengths 0x40000000 + 0x40000000" c0000000c0000000
aborts "name length 0x7ffffffe, value 0 (0x7ffffffe + 2 overflows int)" fffffffe00

# The 4th abort of one child slot within multiwatch's retry window (-t,
# 10 s by default, widened above; -r 3 retries): multiwatch stops forking
# and exits, the socket is dead. Four crafted records thus take a whole pool
# down for good: why the socket must be reachable by the web server alone,
# and a supervisor must restart multiwatch itself (systemd Restart=).
crafted "a 4th abort" fffffffefffffffe
# Up to 30 s for multiwatch to see the death and exit.
i=0
while ar_alive "$AR_MW_PID" && [ $i -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
if ! ar_alive "$AR_MW_PID" && grep -q 'died to often' "$AR_TMP/multiwatch.log"; then
	ok "4th abort within the retry window: multiwatch gives up ('died to often') and exits"
else
	not_ok "4th abort: multiwatch still running or no give-up message: $(cat "$AR_TMP/multiwatch.log")"
fi
ar_fcgi GET /healthz ""
check "after multiwatch gave up nothing answers on the socket" 000 "$AR_STATUS"

ar_done
