#!/bin/sh
# A Redis failover under load, with replication cut first: does an order a
# client saw confirmed survive it? One primary, two replicas each behind a
# loopback relay of ours on its link to the primary, three Sentinels; the
# app under spawn-fcgi (4 workers, redis = sentinel://...) behind nginx;
# 8 clients, each ordering with a fresh token and retrying with the same
# token on 503 or no answer, until told to stop.
# On loopback a SIGKILLed primary loses nothing by itself (the kernel still
# delivers what it wrote), so the relays are frozen while the clients go
# on ordering, then the primary and the relays are killed (what the relays
# held is lost with them), Sentinel promotes a replica and the old primary
# comes back as a replica of it. Then, on the new primary:
#   every order a client saw 201 exists (none lost); each token got one
#   order id; distinct order hashes = the created counter; stock + created
#   = the starting stock.
# Run twice: wait_replicas = 0 MUST lose confirmed orders (else this setup
# proves nothing), wait_replicas = 1 must lose none. An antireplay-drain
# (through the Sentinels too) moves the orders into a private MariaDB all
# along: with wait_replicas = 1, rows = the orders on the new primary, none
# twice. The figures are printed (AR_FAILOVER_RUNS=N runs each mode N
# times).
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/lib/sentinel.sh"
. "$top_srcdir/tests/lib/front.sh"
. "$top_srcdir/tests/e2e/nginx.sh"
. "$top_srcdir/tests/mariadb.sh"
. "$top_srcdir/tests/integration/drain.sh"

ar_require "$REDIS_SERVER" "$REDIS_SENTINEL" "$SPAWN_FCGI" "$CURL" "$(command -v perl)" \
	"$(command -v ss)"
ar_setup
ar_start_mariadb
ar_drain_db_setup
AR_BASE=/api
# Sentinel reconfigures a replica whose master address is not the
# primary's (a relay's) after failover-timeout: long enough for a run.
AR_FAILOVER_TIMEOUT=120000
STOCK=1000000
CLIENTS=8
RUNS=${AR_FAILOVER_RUNS:-1}

# client N: orders until $AR_TMP/stop exists (at most 400), one line per
# token in client-N.log: "TOKEN STATUS ORDER_ID" with its last answer.
client() {
	_c=$1 _n=0
	while [ ! -e "$AR_TMP/stop" ] && [ $_n -lt 400 ]; do
		_n=$((_n + 1))
		_tok="" _try=0
		while [ -z "$_tok" ] && [ $_try -lt 600 ]; do
			_tok=$("$CURL" -s -m 5 -X POST -H "X-User: c$_c" "$AR_URL$AR_BASE/tokens" |
				sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
			[ -n "$_tok" ] || { sleep 0.05; _try=$((_try + 1)); }
			[ ! -e "$AR_TMP/stop" ] || break
		done
		[ -n "$_tok" ] || continue
		_try=0
		while :; do
			_st=$("$CURL" -s -m 5 -o "$AR_TMP/c$_c.body" -w '%{http_code}' -X POST \
				-H 'Content-Type: application/json' -H "X-User: c$_c" \
				--data-binary "{\"token\":\"$_tok\",\"items\":[{\"sku\":\"A\",\"qty\":1}]}" \
				"$AR_URL$AR_BASE/orders")
			case $_st in
			503 | 000 | 502 | 504) ;;
			*) break ;;
			esac
			_try=$((_try + 1))
			[ $_try -lt 600 ] || break
			sleep 0.05
		done
		echo "$_tok $_st $(sed -n 's/.*"order_id":"\([^"]*\)".*/\1/p' "$AR_TMP/c$_c.body")" \
			>>"$AR_TMP/client-$_c.log"
	done
}

confirmed() {
	cat "$AR_TMP"/client-*.log 2>/dev/null | awk '$2 == 201' | wc -l | tr -d ' '
}

primary() {
	for _n in n1 n2 n3; do
		[ "$(ar_role $_n 2>/dev/null)" = master ] && { echo $_n; return; }
	done
}

# scenario WAIT_REPLICAS: one run; sets LOST, CONFIRMED_N.
scenario() {
	_w=$1
	# A replica writes the data of a full sync to its RDB file: the files of
	# the last run must not be loaded by this one's nodes.
	rm -f "$AR_TMP"/client-*.log "$AR_TMP/stop" "$AR_TMP"/n?.rdb
	ar_start_redis_node n1 ""
	ar_start_relay r2 "$AR_NODE_PORT_n1"
	ar_start_relay r3 "$AR_NODE_PORT_n1"
	ar_start_redis_node n2 "" "replicaof 127.0.0.1 $AR_RELAY_PORT_r2" "repl-timeout 60"
	ar_start_redis_node n3 "" "replicaof 127.0.0.1 $AR_RELAY_PORT_r3" "repl-timeout 60"
	ar_wait_until 600 ar_replicas_online n1 2 || {
		echo "# the replicas did not come up"
		ar_node n1 INFO replication | sed 's/^/#   /'
		for _n in n2 n3; do
			echo "# $_n: $(ar_node $_n INFO replication | grep -E 'master_(port|link)' | tr -d '\r' | tr '\n' ' ')"
			tail -n 5 "$AR_TMP/$_n.log" | sed 's/^/#   /'
		done
		tail -n 3 "$AR_TMP"/relay-*.log | sed 's/^/#   /'
		exit 1
	}
	ar_start_sentinels 3 n1 shop
	ar_wait_until 600 ar_sentinels_ready 3 shop 2 || { echo "# the Sentinels did not meet"; exit 1; }
	ar_drain_config "redis=sentinel://$AR_SENTINELS/shop" "wait_replicas=$_w" \
		wait_timeout_ms=200 redis_timeout_ms=1000 token_rate=0 bind=header:X-User \
		base_path=$AR_BASE log_level=info drain_block_ms=200
	ar_start_app 4
	ar_start_nginx "$AR_BASE"
	ar_node n1 SET ar:stock:A $STOCK >/dev/null
	ar_sql "DELETE FROM order_lines; DELETE FROM orders"
	: >"$AR_TMP/drain-$_w.log"
	"$ANTIREPLAY_DRAIN" -c "$AR_TMP/antireplay.conf" 2>>"$AR_TMP/drain-$_w.log" &
	_drain=$!
	ar_track $_drain
	_i=1
	_pids=""
	while [ $_i -le $CLIENTS ]; do
		client $_i &
		_pids="$_pids $!"
		ar_track $!
		_i=$((_i + 1))
	done
	ar_wait_until 600 eval '[ "$(confirmed)" -ge 24 ]' || echo "# w=$_w: few orders before the cut"
	# Replication cut: the clients go on; with wait_replicas = 0 their
	# orders are confirmed by the primary alone.
	kill -USR1 "$AR_RELAY_PID_r2" "$AR_RELAY_PID_r3"
	_before=$(confirmed)
	# Orders confirmed by the primary alone (wait_replicas = 0), however
	# slow the machine; with wait_replicas = 1 the clients get 503 and retry.
	if [ "$_w" = 0 ]; then
		ar_wait_until 600 eval '[ "$(confirmed)" -ge $((_before + 5)) ]'
	else
		sleep 1.5
	fi
	_during=$(($(confirmed) - _before))
	echo "# w=$_w: at the kill, n1 $(ar_node n1 INFO replication | grep -E '^(master_repl_offset|slave[0-9])' | tr -d '\r' | tr '\n' ' ')"
	ar_stop_pid "$AR_NODE_PID_n1" KILL
	ar_stop_pid "$AR_RELAY_PID_r2" KILL
	ar_stop_pid "$AR_RELAY_PID_r3" KILL
	ar_wait_until 600 eval '_p=$(primary); [ -n "$_p" ] && [ "$_p" != n1 ]' ||
		{ echo "# w=$_w: Sentinel promoted no replica"; exit 1; }
	_p=$(primary)
	ar_start_redis_node n1 "$AR_NODE_PORT_n1" \
		"replicaof 127.0.0.1 $(eval echo "\$AR_NODE_PORT_$_p")"
	_after=$(confirmed)
	ar_wait_until 600 eval '[ "$(confirmed)" -ge $((_after + 24)) ]' ||
		echo "# w=$_w: few orders after the failover"
	: >"$AR_TMP/stop"
	for _pid in $_pids; do
		ar_stop_pid "$_pid" 0 900 || echo "# a client did not finish"
	done
	# The accounting, on the new primary.
	P=$(primary)
	CONFIRMED_N=$(confirmed)
	LOST=0
	for _oid in $(cat "$AR_TMP"/client-*.log | awk '$2 == 201 { print $3 }'); do
		[ "$(ar_node "$P" EXISTS "ar:order:$_oid")" = 1 ] || LOST=$((LOST + 1))
	done
	DISTINCT=$(cat "$AR_TMP"/client-*.log | awk '$2 == 201 { print $3 }' | sort -u | wc -l |
		tr -d ' ')
	HASHES=$(ar_node "$P" --scan --pattern 'ar:order:*' | wc -l | tr -d ' ')
	CREATED=$(ar_node "$P" HGET ar:metrics created)
	LEFT=$(ar_node "$P" GET ar:stock:A)
	OTHER=$(cat "$AR_TMP"/client-*.log | awk '$2 != 201' | wc -l | tr -d ' ')
	echo "# wait_replicas=$_w: $CONFIRMED_N orders confirmed (201), $_during of them while" \
		"replication was cut; $LOST lost in the failover; $OTHER tokens given up on;" \
		"new primary: $HASHES orders, created $CREATED, stock $LEFT"
	check "w=$_w: each confirmed token got its own order id" "$CONFIRMED_N" "$DISTINCT"
	check "w=$_w: the orders on the new primary = its created counter" "$HASHES" "$CREATED"
	check "w=$_w: stock + created = the starting stock" $STOCK $((LEFT + CREATED))
	# wait_replicas = 0 loses tokens too: an order with one is 422.
	_ok_status=" 201 503 "
	[ "$_w" != 0 ] || _ok_status=" 201 503 422 "
	check "w=$_w: no answer but$_ok_status" "" \
		"$(cat "$AR_TMP"/client-*.log | awk -v ok="$_ok_status" \
			'index(ok, " " $2 " ") == 0 { print $2 }' | sort -u)"
	drained() {
		[ "$(ar_node "$P" XINFO GROUPS ar:orders 2>/dev/null |
			awk 'prev == "pending" || prev == "lag" { s += $1 } { prev = $0 } END { print s + 0 }')" = 0 ] &&
			[ "$(ar_rows)" -ge "$HASHES" ]
	}
	ar_wait_until 600 drained
	ROWS=$(ar_rows)
	echo "# wait_replicas=$_w: MariaDB holds $ROWS orders; the new primary $HASHES"
	if [ "$_w" != 0 ]; then
		check "w=$_w: MariaDB rows = the orders on the new primary" "$HASHES" "$ROWS"
		check "w=$_w: every one of them" 0 "$(for _oid in $(ar_sql 'SELECT order_id FROM orders'); do
			[ "$(ar_node "$P" EXISTS "ar:order:$_oid")" = 1 ] || echo "$_oid"; done | wc -l | tr -d ' ')"
	fi
	ar_stop_pid "$_drain"
	ar_stop_nginx
	ar_stop_app
	ar_stop_sentinels 3
	for _n in n1 n2 n3; do
		ar_stop_pid "$(eval echo "\$AR_NODE_PID_$_n")"
	done
}


run=1
lost0="" lost1=""
while [ $run -le "$RUNS" ]; do
	scenario 0
	check "run $run, wait_replicas = 0: confirmed orders lost (the cut works)" 1 \
		"$([ "$LOST" -ge 1 ] && echo 1)"
	lost0="$lost0 $LOST/$CONFIRMED_N"
	scenario 1
	check "run $run, wait_replicas = 1: no confirmed order lost" 0 "$LOST"
	lost1="$lost1 $LOST/$CONFIRMED_N"
	run=$((run + 1))
done
echo "# lost/confirmed per run: wait_replicas=0:$lost0; wait_replicas=1:$lost1"
ar_done
