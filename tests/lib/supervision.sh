# tests/lib/supervision.sh: the app under process supervisors other than
# spawn-fcgi -F. Sourced after tests/lib.sh by
# tests/integration/test_supervision.sh and test_fcgi_cve.sh. (The state of
# a worker, ar_in_request / ar_idle_in_accept / ar_signal_pending, and
# ar_redis_blocked and ar_wait_until are in tests/lib.sh.)
#
#   ar_start_multiwatch N [spawn-fcgi options...]
#                       spawn-fcgi -n -s app.sock -M 0666 -b 2N -- multiwatch
#                       -f N $AR_MW_OPTS -- the app: AR_MW_PID is spawn-fcgi,
#                       which execs multiwatch. Each worker runs under a small
#                       recorder that passes stop signals on and appends
#                       "PID STATUS" to $AR_TMP/exits when the worker ends.
#                       Skips the test (ar_require) without multiwatch.
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
# recorder.sh APP ARGS...: see ar_write_recorder in tests/lib/supervision.sh.
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

ar_kill_workers() {
	[ -f "${AR_TMP:-}/worker.pids" ] || return 0
	for pid in $(cat "$AR_TMP/worker.pids"); do
		case $(ps -o args= -p "$pid" 2>/dev/null) in
		*"$ANTIREPLAY_BIN"*) kill -9 "$pid" 2>/dev/null ;;
		esac
	done
}
