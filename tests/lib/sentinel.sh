# tests/lib/sentinel.sh: a replicated Redis watched by Sentinel, all on
# loopback TCP ports of ours (Sentinels speak TCP only), for the tests of
# redis = sentinel://... Sourced after tests/lib.sh.
#
#   ar_free_port          AR_PORT: a loopback port nobody listens on and
#                         this test has not handed out yet (from a few
#                         derived from the PID; ss says which are taken)
#   ar_start_redis_node NAME [PORT] [conf lines...]
#                         redis-server NAME on PORT ("": a free one, another
#                         if it is taken meanwhile) (AR_NODE_PORT_<NAME>, pid
#                         AR_NODE_PID_<NAME>, its log $AR_TMP/NAME.log) on
#                         127.0.0.1; the default user has no password
#                         (replication and the Sentinels use it); the tests'
#                         ACL users come as conf lines
#   ar_node NAME CMD...   redis-cli to node NAME
#   ar_start_sentinels N MASTER NAME...
#                         N redis-sentinel processes watching node MASTER
#                         as group NAME, from conf/redis/antireplay-sentinel.conf
#                         with this test's ports and times (failover-timeout
#                         AR_FAILOVER_TIMEOUT ms, default 1500); AR_SENTINELS
#                         is "127.0.0.1:P1,127.0.0.1:P2,..."
#   ar_sentinel I CMD...  redis-cli to Sentinel I (1-based)
#   ar_role NAME          "master" or "slave" (ROLE of node NAME)
#   ar_replicas_online NODE N, ar_sentinels_ready N GROUP REPLICAS  (below)

: "${REDIS_SENTINEL:=$(command -v redis-sentinel || true)}"
: "${REDIS_CLI:=$(command -v redis-cli || true)}"

# Not in a subshell: each port is handed out once, even before its server
# listens. Below Linux's ephemeral range (32768 and up), where the many
# client connections of these tests take their local ports, and free of
# any socket, listening or not.
AR_PORT_TRY=0
ar_free_port() {
	while [ $AR_PORT_TRY -lt 200 ]; do
		AR_PORT=$((20000 + ($$ * 53 + AR_PORT_TRY * 211) % 12000))
		AR_PORT_TRY=$((AR_PORT_TRY + 1))
		[ -n "$(ss -Htan "sport = :$AR_PORT" 2>/dev/null)" ] || return 0
	done
	echo "# no free loopback port" >&2
	exit 1
}

ar_start_redis_node() {
	_rn=$1
	_rp=${2:-}
	_named=${2:+1}
	[ $# -lt 2 ] || shift
	shift
	# A free port may be taken by another test between ss and bind: then
	# the next one (not when the caller named the port).
	_rtry=0
	while :; do
		if [ -z "$_named" ]; then
			ar_free_port
			_rp=$AR_PORT
		fi
		ar_launch_redis_node "$_rn" "$_rp" "$@" && return 0
		_rtry=$((_rtry + 1))
		[ -z "$_named" ] && [ $_rtry -lt 5 ] &&
			grep -q 'Address already in use' "$AR_TMP/$_rn.log" || break
	done
	echo "# redis $_rn did not start"
	cat "$AR_TMP/$_rn.log"
	exit 1
}

# ar_launch_redis_node NAME PORT [conf lines...]: one try; 0 once it answers.
ar_launch_redis_node() {
	_rn=$1 _rp=$2
	shift 2
	{
		echo "bind 127.0.0.1"
		echo "port $_rp"
		echo "dir $AR_TMP"
		echo "dbfilename $_rn.rdb"
		echo "save \"\""
		echo "appendonly no"
		echo "pidfile $AR_TMP/$_rn.pid"
		echo "logfile $AR_TMP/$_rn.log"
		echo "daemonize no"
		echo "repl-diskless-sync yes"
		echo "repl-diskless-sync-delay 0"
		for _line in "$@"; do echo "$_line"; done
	} >"$AR_TMP/$_rn.conf"
	: >"$AR_TMP/$_rn.log"
	"$REDIS_SERVER" "$AR_TMP/$_rn.conf" &
	eval "AR_NODE_PID_$_rn=$!"
	eval "AR_NODE_PORT_$_rn=$_rp"
	ar_track "$!"
	_rpid=$!
	# Up to 30 s, less when it exits (a port taken).
	_ri=0
	while [ $_ri -lt 300 ]; do
		ar_node "$_rn" PING >/dev/null 2>&1 && return 0
		ar_alive "$_rpid" || { ar_untrack "$_rpid"; return 1; }
		sleep 0.1
		_ri=$((_ri + 1))
	done
	return 1
}

ar_node() {
	_nn=$1
	shift
	"$REDIS_CLI" -h 127.0.0.1 -p "$(eval echo "\$AR_NODE_PORT_$_nn")" "$@"
}

ar_role() {
	ar_node "$1" ROLE 2>/dev/null | head -n 1
}

ar_start_sentinels() {
	_sn=$1 _sm=$2 _sg=$3
	AR_SENTINELS=""
	_si=1
	while [ $_si -le "$_sn" ]; do
		_stry=0
		until ar_launch_sentinel "$_si" "$_sm" "$_sg"; do
			_stry=$((_stry + 1))
			grep -q 'Address already in use' "$AR_TMP/sentinel$_si.log" && [ $_stry -lt 5 ] || {
				echo "# sentinel $_si did not start"
				cat "$AR_TMP/sentinel$_si.log"
				exit 1
			}
		done
		AR_SENTINELS="$AR_SENTINELS${AR_SENTINELS:+,}127.0.0.1:$(eval echo "\$AR_SENTINEL_PORT_$_si")"
		_si=$((_si + 1))
	done
}

# ar_launch_sentinel I MASTER GROUP: one try at Sentinel I on a free port;
# 0 once it answers.
ar_launch_sentinel() {
	_si=$1 _sm=$2 _sg=$3
	ar_free_port
	_sp=$AR_PORT
	# The shipped file, with this test's addresses and short times (a
	# failover within a few seconds).
	sed -e "s/^port .*/port $_sp/" -e "s/^bind .*/bind 127.0.0.1/" \
		-e "s/^sentinel monitor .*/sentinel monitor $_sg 127.0.0.1 $(eval echo "\$AR_NODE_PORT_$_sm") 2/" \
		-e "s/^sentinel \([a-z-]*\) antireplay /sentinel \1 $_sg /" \
		-e "s/^sentinel down-after-milliseconds .*/sentinel down-after-milliseconds $_sg 600/" \
		-e "s/^sentinel failover-timeout .*/sentinel failover-timeout $_sg ${AR_FAILOVER_TIMEOUT:-1500}/" \
		-e "s|^dir .*|dir $AR_TMP|" \
		-e "s|^logfile .*|logfile $AR_TMP/sentinel$_si.log|" \
		-e "s|^pidfile .*|pidfile $AR_TMP/sentinel$_si.pid|" \
		"$top_srcdir/conf/redis/antireplay-sentinel.conf" >"$AR_TMP/sentinel$_si.conf"
	: >"$AR_TMP/sentinel$_si.log"
	"$REDIS_SENTINEL" "$AR_TMP/sentinel$_si.conf" &
	_spid=$!
	eval "AR_SENTINEL_PID_$_si=$_spid"
	eval "AR_SENTINEL_PORT_$_si=$_sp"
	ar_track "$_spid"
	_sw=0
	while [ $_sw -lt 300 ]; do
		ar_sentinel "$_si" PING >/dev/null 2>&1 && return 0
		ar_alive "$_spid" || { ar_untrack "$_spid"; return 1; }
		sleep 0.1
		_sw=$((_sw + 1))
	done
	return 1
}

ar_sentinel() {
	_sx=$1
	shift
	"$REDIS_CLI" -h 127.0.0.1 -p "$(eval echo "\$AR_SENTINEL_PORT_$_sx")" "$@"
}

# ar_start_relay NAME TARGET_PORT: tests/integration/repl_relay.pl on a
# free loopback port (AR_RELAY_PORT_<NAME>, pid AR_RELAY_PID_<NAME>) to
# TARGET_PORT; kill -USR1 freezes it.
ar_start_relay() {
	_rl=$1
	_rtry=0
	while [ $_rtry -lt 5 ]; do
		_rtry=$((_rtry + 1))
		ar_free_port
		perl "$top_srcdir/tests/integration/repl_relay.pl" "$AR_PORT" "$2" \
			>"$AR_TMP/relay-$_rl.log" 2>&1 &
		eval "AR_RELAY_PID_$_rl=$!"
		eval "AR_RELAY_PORT_$_rl=$AR_PORT"
		ar_track "$!"
		ar_wait_until 100 grep -q 'ready\|Address already in use' "$AR_TMP/relay-$_rl.log"
		grep -q ready "$AR_TMP/relay-$_rl.log" && return 0
	done
	echo "# relay $_rl did not start: $(cat "$AR_TMP/relay-$_rl.log")"
	exit 1
}

# ar_stop_sentinels N: stops Sentinels 1..N.
ar_stop_sentinels() {
	_si=1
	while [ $_si -le "$1" ]; do
		ar_stop_pid "$(eval echo "\$AR_SENTINEL_PID_$_si")"
		_si=$((_si + 1))
	done
}

# ar_replicas_online NODE N: NODE's INFO replication lists N replicas online.
ar_replicas_online() {
	[ "$(ar_node "$1" INFO replication | grep -c '^slave[0-9]*:.*state=online')" = "$2" ]
}

# ar_sentinels_ready N GROUP REPLICAS: each of Sentinels 1..N knows
# REPLICAS replicas of GROUP and the N - 1 other Sentinels (a failover
# needs both).
ar_sentinels_ready() {
	_sr=1
	while [ $_sr -le "$1" ]; do
		[ "$(ar_sentinel "$_sr" SENTINEL replicas "$2" | grep -c '^name$')" = "$3" ] &&
			[ "$(ar_sentinel "$_sr" SENTINEL sentinels "$2" | grep -c '^name$')" = $(($1 - 1)) ] ||
			return 1
		_sr=$((_sr + 1))
	done
}
