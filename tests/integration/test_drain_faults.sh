#!/bin/sh
# test_drain_faults: three drains move orders into MariaDB while 6 clients
# order through the app, and everything that can die does, three times
# each, on a random drain and at random moments (the seed is printed;
# AR_SEED repeats a run): a drain SIGKILLed, or SIGTERMed, and started again;
# MariaDB SIGKILLed and restarted (InnoDB recovery); Redis SIGKILLed and
# restarted on its AOF (appendfsync always). Then the exact
# accounting, over the whole stream history (a consumer group "audit" that
# never reads keeps every entry in the stream, as the drain's trimming must
# let it):
#   rows in orders = distinct order ids in the stream = the created counter,
#   every order a client saw is a row, no row without an entry;
#   the quantities in order_lines = those of the stream, per SKU;
#   stock + ordered = the starting stock (ar_fault_account);
#   nothing pending or unread for the drains, no dead letter.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/lib/faults.sh"
. "$top_srcdir/tests/mariadb.sh"
. "$top_srcdir/tests/integration/drain.sh"

ar_require "$ANTIREPLAY_DRAIN" "$MARIADBD" "$MARIADB_INSTALL_DB" "$MARIADB" "$CGI_FCGI"
ar_setup
ar_start_redis "appendonly yes" "appendfsync always"
ar_start_mariadb
ar_drain_db_setup
ar_drain_config redis_timeout_ms=300 token_rate=0 log_level=info drain_batch=10 \
	drain_claim_ms=1000 drain_block_ms=200
ar_start_app 4

FA0=100000
FB0=50000
ar_fault_stock $FA0 $FB0
ar_redis XGROUP CREATE ar:orders audit 0 MKSTREAM >/dev/null

SEED=${AR_SEED:-$(od -An -tu2 -N2 /dev/urandom | tr -d ' ')}
echo "# seed $SEED (AR_SEED=$SEED repeats the sequence of faults)"
# pick N: PICK = the next number from 0 to N-1 of the seeded sequence
# (not in a subshell: the position in the sequence must advance).
RND_I=0
pick() {
	RND_I=$((RND_I + 1))
	PICK=$(awk -v s="$SEED" -v i="$RND_I" -v n="$1" \
		'BEGIN { srand(s); for (k = 0; k < i; k++) r = rand(); print int(r * n) }')
}

DRAINS="1 2 3"
for k in $DRAINS; do
	ar_start_drain "d$k"
	eval "DRAIN_$k=\$AR_DRAIN_PID"
done

D=$AR_TMP/orders
mkdir -p "$D"
pids=""
for c in 1 2 3 4 5 6; do
	ar_order_client "$D" $c 400 &
	pids="$pids $!"
done

# shellcheck disable=SC2317 # called through ar_wait_until
created_beyond() {
	[ "$(ar_redis HGET ar:metrics created 2>/dev/null || echo 0)" -gt "$1" ] 2>/dev/null
}
created() {
	ar_redis HGET ar:metrics created 2>/dev/null || echo 0
}

# Twelve faults, each once the clients have made a few more orders (load
# is flowing), each bounded: each kind three times, in turn from a random
# first one, on a random drain.
faults=""
round=0
pick 4
first=$PICK
while [ $round -lt 12 ]; do
	round=$((round + 1))
	n=$(created)
	ar_wait_until 600 created_beyond $((n + 3)) ||
		echo "# fault $round: fewer than 3 new orders in 60 s"
	pick 3
	k=$((PICK + 1))
	eval "pid=\$DRAIN_$k"
	kind=$(((round + first) % 4))
	case $kind in
	0)
		ar_stop_pid "$pid" KILL
		ar_start_drain "d$k"
		eval "DRAIN_$k=\$AR_DRAIN_PID"
		faults="$faults kill-drain$k"
		;;
	1)
		ar_stop_pid "$pid" TERM 600 || echo "# drain $k did not stop on SIGTERM in 60 s"
		ar_start_drain "d$k"
		eval "DRAIN_$k=\$AR_DRAIN_PID"
		faults="$faults term-drain$k"
		;;
	2)
		ar_kill_mariadb
		ar_restart_mariadb
		faults="$faults kill-mariadb"
		;;
	3)
		ar_kill_redis
		ar_launch_redis
		faults="$faults kill-redis"
		;;
	esac
done
echo "# faults:$faults"
n=$(created)
ar_wait_until 600 created_beyond $((n + 3)) || echo "# after the faults: no new orders in 60 s"
: >"$D/stop"
wait $pids

# The clients are done: the drains catch up.
total=$(created)
ar_wait_until 1200 ar_drained "$total"
check "the drains caught up: rows = the created counter" "$total" "$(ar_rows)"
ar_fault_account "$D" $FA0 $FB0 "drains under faults"
ar_stream_ids | sort >"$AR_TMP/stream.ids"
ar_sql 'SELECT order_id FROM orders' | sort >"$AR_TMP/db.ids"
check "rows = distinct order ids in the stream history" \
	"$(sort -u "$AR_TMP/stream.ids" | wc -l)" "$(wc -l <"$AR_TMP/db.ids")"
check "no order of the stream missing from the database" 0 \
	"$(sort -u "$AR_TMP/stream.ids" | comm -23 - "$AR_TMP/db.ids" | wc -l)"
check "no row without a stream entry" 0 \
	"$(sort -u "$AR_TMP/stream.ids" | comm -13 - "$AR_TMP/db.ids" | wc -l)"
check "every order a client saw is a row" 0 "$(comm -23 "$D/seen.ids" "$AR_TMP/db.ids" | wc -l)"
for sku in FA FB; do
	check "quantities of $sku: order_lines = the stream" "$(ar_stream_qty $sku)" \
		"$(ar_sql "SELECT COALESCE(SUM(qty), 0) FROM order_lines WHERE sku = '$sku'")"
done
check "two lines per order" $((2 * total)) "$(ar_sql 'SELECT COUNT(*) FROM order_lines')"
check "no dead letter" 0 "$(ar_redis XLEN ar:orders:dead)"
check "the three drains are up" 3 "$(ar_count_alive $DRAIN_1 $DRAIN_2 $DRAIN_3)"
echo "# $total orders; faults:$faults"
for k in $DRAINS; do
	eval "pid=\$DRAIN_$k"
	ar_stop_pid "$pid"
done
# The summaries of drains that were SIGKILLed died with them: information.
summary=$(cat "$AR_TMP"/drain-d*.log |
	sed -n 's/.*last minute: \([0-9]*\) orders persisted, \([0-9]*\) redelivered.*/\1 \2/p' |
	awk '{ p += $1; r += $2 } END { print p + 0, r + 0 }')
echo "# summaries logged: ${summary% *} persisted, ${summary#* } redelivered and skipped"
ar_done
