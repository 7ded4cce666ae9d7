#!/bin/sh
# The systemd units in conf/systemd: `systemd-analyze verify` accepts them
# without a single warning (unknown keys and bad values are only warnings
# there, so any output fails), a unit with a typo is caught (the check can
# fail), the settings the docs promise are there (socket only for www-data,
# Backlog about twice the worker count, fd 0 = the socket, logs to the
# journal), and `systemd-analyze security --offline` rates them well.
# No systemd needs to run: verify and security read the files only.

. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"

: "${SYSTEMD_ANALYZE:=$(command -v systemd-analyze || true)}"
ar_require "$SYSTEMD_ANALYZE"
ar_setup_tmp

UNITS="antireplay.socket antireplay.service antireplay-spawn-fcgi.service antireplay-drain.service"
SRC=$top_srcdir/conf/systemd

# Copies the units into DIR. systemd-analyze checks that ExecStart's program
# exists: where multiwatch or spawn-fcgi is not installed, point it at a
# program that is (only the path changes).
copy_units() {
	mkdir -p "$1"
	mw=/usr/bin/multiwatch
	[ -x "$mw" ] || mw=${MULTIWATCH:-}
	[ -n "$mw" ] && [ -x "$mw" ] || mw=/bin/true
	sf=/usr/bin/spawn-fcgi
	[ -x "$sf" ] || sf=${SPAWN_FCGI:-}
	[ -n "$sf" ] && [ -x "$sf" ] || sf=/bin/true
	dr=/usr/sbin/antireplay-drain
	[ -x "$dr" ] || dr=$ANTIREPLAY_DRAIN
	for u in $UNITS; do
		sed -e "s|^ExecStart=/usr/bin/multiwatch |ExecStart=$mw |" \
			-e "s|^ExecStart=/usr/bin/spawn-fcgi |ExecStart=$sf |" \
			-e "s|^ExecStart=/usr/sbin/antireplay-drain |ExecStart=$dr |" \
			"$SRC/$u" >"$1/$u"
	done
}

# verify DIR: systemd-analyze's output (empty when all is well) and its
# exit status in VERIFY_RC.
verify() {
	(cd "$1" && "$SYSTEMD_ANALYZE" --man=no verify $(for u in $UNITS; do echo "./$u"; done) 2>&1)
}

copy_units "$AR_TMP/ok"
out=$(verify "$AR_TMP/ok")
rc=$?
# Lines that do not name one of our units are about this machine (no
# running systemd, no D-Bus): shown, not counted.
ours=$(printf '%s\n' "$out" | grep antireplay || true)
other=$(printf '%s\n' "$out" | grep -v antireplay | grep . || true)
[ -z "$other" ] || printf '%s\n' "$other" | sed 's/^/# systemd-analyze: /'
if [ $rc -eq 0 ] && [ -z "$ours" ]; then
	ok "systemd-analyze verify: $UNITS"
else
	not_ok "systemd-analyze verify (exit $rc):"
	printf '%s\n' "$ours" | sed 's/^/#   /'
fi

# The same check on broken copies must fail: a misspelt key, a bad value,
# a missing program.
for bad in 's/^SocketMode=/SocketMod=/' 's/^Backlog=8/Backlog=eight/' \
	's/^KillMode=mixed/KillMode=mixd/' 's|^ExecStart=[^ ]*|ExecStart=/nonexistent/multiwatch|'; do
	rm -rf "$AR_TMP/bad"
	copy_units "$AR_TMP/bad"
	for u in $UNITS; do sed -i -e "$bad" "$AR_TMP/bad/$u"; done
	out=$(verify "$AR_TMP/bad")
	rc=$?
	if [ $rc -ne 0 ] || printf '%s\n' "$out" | grep -q antireplay; then
		ok "verify catches: $bad"
	else
		not_ok "verify missed: $bad"
	fi
done

# What the docs and the other configs rely on.
get() { # get UNIT KEY: the value of KEY in UNIT (last one wins)
	sed -n "s/^$2=//p" "$SRC/$1" | tail -n 1
}
check "socket path" /run/antireplay/antireplay.sock "$(get antireplay.socket ListenStream)"
check "socket owner www-data" "www-data www-data 0660" \
	"$(get antireplay.socket SocketUser) $(get antireplay.socket SocketGroup) $(get antireplay.socket SocketMode)"
check "the service takes the socket as fd 0" socket "$(get antireplay.service StandardInput)"
check "stdout and stderr to the journal" "journal journal" \
	"$(get antireplay.service StandardOutput) $(get antireplay.service StandardError)"
forks=$(get antireplay.service ExecStart | sed -n 's/.*multiwatch -f \([0-9]*\) .*/\1/p')
check "Backlog= is twice multiwatch -f ($forks)" $((2 * ${forks:-0})) "$(get antireplay.socket Backlog)"
check "SIGTERM, a stop bound and restart on failure" "SIGTERM 10s on-failure" \
	"$(get antireplay.service KillSignal) $(get antireplay.service TimeoutStopSec) $(get antireplay.service Restart)"
check "ExecStart" \
	"/usr/bin/multiwatch -f 4 -- /usr/sbin/antireplay-fcgi -c /etc/antireplay/antireplay.conf" \
	"$(get antireplay.service ExecStart)"
sf=$(get antireplay-spawn-fcgi.service ExecStart)
sf_forks=$(printf '%s' "$sf" | sed -n 's/.*multiwatch -f \([0-9]*\) .*/\1/p')
check_match "spawn-fcgi unit: -n, socket 0660 for www-data only" \
	'^/usr/bin/spawn-fcgi -n -s /run/antireplay/antireplay.sock -M 0660 -U www-data -G www-data ' "$sf"
check "spawn-fcgi unit: -b is twice multiwatch -f ($sf_forks)" "-b $((2 * ${sf_forks:-0}))" \
	"$(printf '%s' "$sf" | grep -o -- '-b [0-9]*')"

check "drain unit: restarted always, unprivileged, SIGTERM" "always antireplay SIGTERM" \
	"$(get antireplay-drain.service Restart) $(get antireplay-drain.service User) $(get antireplay-drain.service KillSignal)"

# Hardening: systemd's own rating, from the files alone (systemd >= 250).
for u in antireplay.service antireplay-spawn-fcgi.service antireplay-drain.service; do
	if "$SYSTEMD_ANALYZE" security --help 2>/dev/null | grep -q -- --offline; then
		score=$(cd "$AR_TMP/ok" && "$SYSTEMD_ANALYZE" security --offline=true --no-pager "./$u" 2>&1 |
			sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
		if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 3.0) }'; then
			ok "$u: exposure $score (systemd-analyze security; 3.0 at most)"
		else
			not_ok "$u: exposure '${score:-?}' above 3.0"
		fi
	else
		ok "$u: # SKIP systemd-analyze security --offline needs systemd 250"
	fi
done

# The spawn-fcgi unit's ExecStart run as it is, with only the paths and the
# workers' user changed (nobody for antireplay): the socket is www-data's,
# 0660; the workers run unprivileged; www-data gets an answer and another
# user cannot even connect. Needs root (spawn-fcgi -U/-G/-u are root-only).
if [ "$(id -u)" -eq 0 ] && id www-data >/dev/null 2>&1 && id nobody >/dev/null 2>&1 &&
	id daemon >/dev/null 2>&1 && [ -x "$ANTIREPLAY_BIN" ] && [ -x "${SPAWN_FCGI:-}" ] &&
	[ -x "${MULTIWATCH:-}" ] && [ -x "${CGI_FCGI:-}" ]; then
	mkdir -m 755 "$AR_TMP/run"
	printf 'redis = unix:%s/no-redis.sock\nlog = stderr\n' "$AR_TMP" >"$AR_TMP/app.conf"
	chmod 644 "$AR_TMP/app.conf"
	# A copy nobody can reach, wherever the build tree lives.
	cp "$ANTIREPLAY_BIN" "$AR_TMP/antireplay-fcgi"
	chmod 755 "$AR_TMP/antireplay-fcgi"
	cmd=$(get antireplay-spawn-fcgi.service ExecStart | sed \
		-e "s|/run/antireplay/|$AR_TMP/run/|" \
		-e "s|-u antireplay -g antireplay|-u nobody -g $(id -gn nobody)|" \
		-e "s|/usr/bin/spawn-fcgi|$SPAWN_FCGI|" -e "s|/usr/bin/multiwatch|$MULTIWATCH|" \
		-e "s|/usr/sbin/antireplay-fcgi|$AR_TMP/antireplay-fcgi|" \
		-e "s|/etc/antireplay/antireplay.conf|$AR_TMP/app.conf|")
	$cmd 2>>"$AR_TMP/pool.log" &
	pool=$!
	ar_track "$pool"
	sock=$AR_TMP/run/antireplay.sock
	# Wait (up to 30 s, not a fixed sleep) until multiwatch runs all its
	# workers; spawn-fcgi set the socket's owner and mode before it exec'd
	# multiwatch, so the checks below see the final state.
	pool_up() { [ "$(ps -o user= --ppid "$pool" | wc -l)" -ge "${sf_forks:-4}" ]; }
	ar_wait_socket "$sock"
	ar_wait_until 300 pool_up
	check "spawn-fcgi unit: socket owner and mode" "srw-rw---- www-data www-data" \
		"$(ls -l "$sock" | awk '{ print $1, $3, $4 }')"
	check "spawn-fcgi unit: workers run as nobody" "nobody nobody nobody nobody" \
		"$(ps -o user= --ppid "$pool" | tr -s ' \n' ' ' | sed 's/ $//')"
	ask() { # ask USER: the first line a GET /healthz as USER gets
		su -s /bin/sh "$1" -c "env -i REQUEST_METHOD=GET REQUEST_URI=/healthz \
			'$CGI_FCGI' -bind -connect '$sock'" 2>&1 | head -n 1
	}
	check_match "spawn-fcgi unit: www-data is answered" '^Status: (200|503)' "$(ask www-data)"
	check_match "spawn-fcgi unit: another user cannot connect" 'Could not connect' "$(ask daemon)"
	kill -TERM "$pool"
	wait "$pool"
	check "spawn-fcgi unit: the pool exits 0 on SIGTERM" 0 $?
	ar_untrack "$pool"
else
	ok "# SKIP running the spawn-fcgi unit's command line needs root and the users www-data, nobody, daemon"
fi

ar_done
