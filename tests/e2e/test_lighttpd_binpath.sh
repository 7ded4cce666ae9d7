#!/bin/sh
# e2e: lighttpd with conf/lighttpd/antireplay-binpath.conf as shipped (only
# the prefix, the program, config and socket paths substituted): lighttpd
# spawns and supervises 4 app processes itself. The shared scenario under
# the prefix /shop/api, then the process model: what lighttpd started, and
# kill -9 of one process under load (lighttpd replaces it; only requests in
# flight on it fail).
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/lib/front.sh"
. "$top_srcdir/tests/e2e/lighttpd.sh"
. "$top_srcdir/tests/e2e/http.sh"
. "$top_srcdir/tests/e2e/scenario.sh"

ar_require "$LIGHTTPD" "$CURL" "$JQ"
ar_setup

SNIPPET=$top_srcdir/conf/lighttpd/antireplay-binpath.conf
AR_BASE=/shop/api
ar_start_redis
# max_body below lighttpd's server.max-request-size (16 KiB).
# shellcheck disable=SC2046 # one key=value per word
ar_write_config $(ar_scenario_config) max_body=8192
# The processes run as lighttpd's user (nobody when the test runs as root),
# which may not reach the build tree (e.g. under /root): they run a copy.
mkdir "$AR_TMP/bin"
cp "$ANTIREPLAY_BIN" "$AR_TMP/bin/antireplay-fcgi"
chmod 755 "$AR_TMP/bin" "$AR_TMP/bin/antireplay-fcgi"
chmod 644 "$AR_TMP/antireplay.conf"
ar_lighttpd_dirs
APP_SOCK=$AR_LIGHTTPD_DIR/run/antireplay.sock
ar_snippet "$SNIPPET" \
	'"^/api/"' "\"^$AR_BASE/\"" \
	'"/api/" =>' "\"$AR_BASE/\" =>" \
	/usr/sbin/antireplay-fcgi "$AR_TMP/bin/antireplay-fcgi" \
	/etc/antireplay/antireplay.conf "$AR_TMP/antireplay.conf" \
	/run/lighttpd/antireplay.sock "$APP_SOCK" \
	>"$AR_TMP/antireplay-lighttpd.conf" || exit 1
ar_start_lighttpd "$AR_TMP/antireplay-lighttpd.conf"

# children_at_least N: lighttpd has N live children.
children_at_least() {
	# shellcheck disable=SC2046 # a list of PIDs
	[ "$(ar_count_alive $(ar_lighttpd_children))" -ge "$1" ]
}
# 30 s at most: a slow machine.
ar_wait_until 300 children_at_least 4
PIDS=$(ar_lighttpd_children)
for pid in $PIDS; do ar_track "$pid"; done
echo "# lighttpd $AR_LIGHTTPD_PORT (pid $AR_LIGHTTPD_PID), app pids $PIDS"

# What lighttpd started: max-procs processes of the program with its
# arguments (bin-path split on spaces), as its own user, one socket each.
set -- $PIDS
check "max-procs: 4 processes" 4 $#
bad=""
for pid in $PIDS; do
	cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline")
	[ "$cmd" = "$AR_TMP/bin/antireplay-fcgi -c $AR_TMP/antireplay.conf " ] || bad="$bad [$cmd]"
done
check "each runs bin-path split into program and arguments" "" "$bad"
check "they run as lighttpd's user" "$(ar_lighttpd_user)" \
	"$(ps -o user= -p "$1" | tr -d ' ')"
socks=""
for i in 0 1 2 3; do
	[ -S "$APP_SOCK-$i" ] && socks="$socks $i"
done
check "one socket per process: socket-0 .. socket-3" " 0 1 2 3" "$socks"
check "sockets owned by lighttpd's user" "$(ar_lighttpd_user)" "$(stat -c %U "$APP_SOCK-0")"

ar_lighttpd_scenario

check_every_response

# kill -9 of one process under load. Four clients loop on GET /stock. The
# newest process (the one lighttpd picks first) is stopped for 0.3 s before
# the kill, so that requests are in flight on it when it dies. The test
# waits for answers, not for time: 10 from every client before the kill,
# 6 from every client after the replacement came (so each client's last 5
# requests all started after it).
sc_put_stock SKU-9 7
LOAD=$AR_TMP/load
mkdir "$LOAD"
load_pids=""
for c in 1 2 3 4; do
	(
		n=0
		while [ ! -e "$LOAD/stop" ] && [ $n -lt 1000 ]; do
			"$AR_LIGHTTPD_REAL_CURL" -s -o /dev/null -m 10 -w '%{http_code}\n' \
				"$AR_URL$AR_BASE/stock/SKU-9" >>"$LOAD/$c.codes" 2>/dev/null
			n=$((n + 1))
		done
	) &
	load_pids="$load_pids $!"
done
# load_mark: the number of answers so far, per client.
load_mark() {
	for c in 1 2 3 4; do
		if [ -f "$LOAD/$c.codes" ]; then wc -l <"$LOAD/$c.codes"; else echo 0; fi
	done | tr '\n' ' '
}
# load_grown MARK N: every client has N answers more than MARK.
load_grown() {
	lg_c=1
	for lg_m in $1; do
		[ -f "$LOAD/$lg_c.codes" ] &&
			[ "$(wc -l <"$LOAD/$lg_c.codes")" -ge $((lg_m + $2)) ] || return 1
		lg_c=$((lg_c + 1))
	done
}
ar_wait_until 600 load_grown "0 0 0 0" 10
victim=$(echo "$PIDS" | tr ' ' '\n' | sed '/^$/d' | sort -n | tail -n 1)
# The victim's socket: the path bound to the inode of its fd 0.
inode=$(readlink "/proc/$victim/fd/0" | sed -n 's/^socket:\[\([0-9]*\)\]$/\1/p')
vsock=$(awk -v i="$inode" '$7 == i { print $8 }' /proc/net/unix | head -n 1)
before=$(cat "$LOAD"/*.codes | wc -l)
kill -STOP "$victim"
sleep 0.3
kill -9 "$victim"
t0=$(ar_now_ms)
new=""
i=0
while [ -z "$new" ] && [ $i -lt 600 ]; do
	for pid in $(ar_lighttpd_children); do
		case " $PIDS " in *" $pid "*) ;; *) ar_alive "$pid" && new=$pid ;; esac
	done
	[ -n "$new" ] || sleep 0.05
	i=$((i + 1))
done
ms=$(($(ar_now_ms) - t0))
[ -z "$new" ] || ar_track "$new"
mark=$(load_mark)
ar_wait_until 600 load_grown "$mark" 6
grown=$(load_grown "$mark" 6 && echo yes || echo "no: $(load_mark), mark $mark")
touch "$LOAD/stop"
for pid in $load_pids; do wait "$pid"; done
echo "# killed $victim (${vsock:-socket?}) after $before requests; replacement ${new:-none} after $ms ms"

# Looked for up to 30 s (a slow machine); the time is only shown.
if [ -n "$new" ]; then
	ok "lighttpd started a replacement ($ms ms)"
else
	not_ok "no replacement after $ms ms"
fi
check "every client got 6 answers after the replacement came" yes "$grown"
check "the replacement listens on the killed process's socket" "$vsock" \
	"$(awk -v i="$(readlink "/proc/$new/fd/0" | tr -dc 0-9)" '$7 == i { print $8 }' /proc/net/unix | head -n 1)"
check "the killed process is gone" no "$(ar_alive "$victim" && echo yes || echo no)"
# shellcheck disable=SC2046 # a list of PIDs
check "4 processes again" 4 "$(ar_count_alive $(ar_lighttpd_children))"
total=$(cat "$LOAD"/*.codes | wc -l)
failed=$(cat "$LOAD"/*.codes | grep -cv '^200$')
codes=$(cat "$LOAD"/*.codes | grep -v '^200$' | sort | uniq -c | tr -s ' \n' ' ')
lost=$(grep -c 'response not received, request sent: .* closing connection' "$AR_LIGHTTPD_DIR/error.log")
lost_victim=$(grep 'response not received, request sent: .* closing connection' "$AR_LIGHTTPD_DIR/error.log" |
	grep -cF "unix:$vsock ")
echo "# load: $total requests, $failed failed:${codes:- none}; lighttpd lost $lost ($lost_victim on $vsock)"
if [ "$total" -ge 40 ]; then
	ok "load ran through the kill ($total requests)"
else
	not_ok "load too small to mean anything ($total requests)"
fi
# Only requests in flight on the killed process fail: at most one per
# client, each one logged by lighttpd against the killed process's socket,
# and lighttpd answers them 500 (the connection closed before a response).
if [ "$failed" -le 4 ] && [ "$failed" = "$lost" ] && [ "$lost" = "$lost_victim" ]; then
	ok "only requests in flight on the killed process failed ($failed)"
else
	not_ok "$failed of $total requests failed:$codes; lighttpd lost $lost, $lost_victim on $vsock"
fi
check "the failed requests got lighttpd's 500" "" \
	"$(cat "$LOAD"/*.codes | grep -v '^200$' | grep -v '^500$' | sort -u | tr '\n' ' ')"
check "the last requests of every client succeeded" 0 \
	"$(tail -n 5 -q "$LOAD"/*.codes | grep -cv '^200$')"

# The replacement serves: its read count grows with requests (all four
# processes are busy under 8 parallel clients).
io_read() {
	sed -n 's/^rchar: //p' "/proc/$1/io" 2>/dev/null
}
if [ -n "$new" ]; then
	r0=$(io_read "$new")
	burst=""
	for c in 1 2 3 4 5 6 7 8; do
		(
			for n in 1 2 3 4 5; do
				"$CURL" -s -o /dev/null -w '%{http_code}\n' "$AR_URL$AR_BASE/stock/SKU-9"
			done >"$LOAD/burst.$c"
		) &
		burst="$burst $!"
	done
	for pid in $burst; do wait "$pid"; done
	r1=$(io_read "$new")
	check "after the kill: 40 parallel requests all 200" 40 "$(cat "$LOAD"/burst.* | grep -c '^200$')"
	if [ -n "$r0" ] && [ -n "$r1" ] && [ "$r1" -gt "$r0" ]; then
		ok "the replacement process serves requests"
	else
		not_ok "the replacement read nothing (rchar $r0 -> $r1)"
	fi
fi
check "lighttpd logged the killed child" 1 \
	"$(grep -c 'child signalled: 9' "$AR_LIGHTTPD_DIR/error.log")"

# lighttpd stops its processes when it stops (kill-signal, SIGTERM).
kids=$(ar_lighttpd_children)
ar_stop_lighttpd
left=""
for pid in $kids; do
	i=0
	while ar_alive "$pid" && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	ar_alive "$pid" && left="$left $pid"
done
check "stopping lighttpd stops the app processes" "" "$left"

ar_done
