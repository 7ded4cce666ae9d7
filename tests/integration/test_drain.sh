#!/bin/sh
# integration: antireplay-drain between a private Redis and a private
# MariaDB, orders made through nginx in front of the app. Every drain runs
# as the least-privilege MariaDB account and the Redis ACL user of
# docs/security.md, the app as its own ACL user from there (with the
# /metrics gauges); Redis denies neither anything (ACL LOG stays empty).
#   a) the command line: --version, --help, --check-config, --init-schema
#      (twice: idempotent; InnoDB, utf8mb4)
#   b) wrong credentials: one clear error, retries, nothing acknowledged;
#      the right password (set on the account meanwhile) and it catches up
#   c) every order made through the API is in the tables exactly once: the
#      same JSON byte for byte, its lines in order, customer NULL when
#      absent, created_at; rows = the created counter
#   d) retention: the stream is trimmed, order hashes get order_ttl, GET
#      /orders/{id} still answers, /metrics shows the group's gauges
#   e) another consumer group (the shop's) never loses an unread entry
#   f) entries that are not orders go to ar:orders:dead with the reason
#   g) kill -9 between read and commit, h) between commit and ack: made
#      to happen (a global read lock holds the drain inside its INSERT;
#      CLIENT PAUSE WRITE holds it at the acknowledgement); another drain
#      claims the entries: every order once, none missing
#   i) SIGTERM while a batch is in hand: the batch commits and is
#      acknowledged, then exit 0
#   j) two drains at once under a stream of orders
#   k) MariaDB killed and Redis restarted under a drain: it logs each
#      outage once, stays up, and catches up
#   l) the tables refuse one order (a CHECK added by the shop): it goes to
#      the dead letters with MariaDB's reason, the rest of its batch goes
#      in; then they refuse every order: nothing is dead-lettered, the
#      drain says so once and catches up when the tables take orders again
#      a foreign key of the shop's: the order of an unknown SKU, alone in
#      a fresh drain's batch, is a dead letter (the newest order in the
#      database shows that the tables take orders); max_allowed_packet
#      at its floor: a batch goes in by halves, an order of 50 lines over
#      it is a dead letter
#   m) the scripts alone: drain_ack on a stream that is gone, drain_dead on
#      an entry that is pending and on one that is not (sent before)
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/mariadb.sh"
. "$top_srcdir/tests/lib/front.sh"
. "$top_srcdir/tests/e2e/nginx.sh"
. "$top_srcdir/tests/e2e/http.sh"
. "$top_srcdir/tests/integration/drain.sh"

ar_require "$ANTIREPLAY_DRAIN" "$MARIADBD" "$MARIADB_INSTALL_DB" "$MARIADB" "$NGINX" "$CURL" \
	"$JQ"
ar_setup
# The ACL lines of docs/security.md, with passwords of ours.
RPW_APP=app-$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')
RPW_DRAIN=drain-$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')
ACL_APP=$(grep -m 1 '^user antireplay on >' "$top_srcdir/docs/security.md" |
	sed "s/ >[^ ]*/ >$RPW_APP/")
ACL_DRAIN=$(grep -m 1 '^user antireplay-drain on >' "$top_srcdir/docs/security.md" |
	sed "s/ >[^ ]*/ >$RPW_DRAIN/")
check_match "docs/security.md: the drain's ACL line" "^user antireplay-drain on >$RPW_DRAIN " \
	"$ACL_DRAIN"
ar_start_redis "appendonly yes" "appendfsync always" "$ACL_APP" "$ACL_DRAIN"
ar_start_mariadb
ar_drain_db_setup

ADMIN=admin-token-$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')
AR_BASE=/api
ORDER_TTL=3600

# --- a) the command line -------------------------------------------------
check "--version" "antireplay-drain $(sed -n 's/^AC_INIT(\[antireplay\], \[\([^]]*\)\].*/\1/p' \
	"$top_srcdir/configure.ac")" "$("$ANTIREPLAY_DRAIN" --version)"
"$ANTIREPLAY_DRAIN" --help >"$AR_TMP/help.out" 2>&1
check "--help exits 0" 0 $?
check_contains "--help names the config keys" "drain_claim_ms" "$(cat "$AR_TMP/help.out")"
"$ANTIREPLAY_DRAIN" -c "$top_srcdir/conf/antireplay.conf" --check-config >"$AR_TMP/cc.out" 2>&1
check "conf/antireplay.conf passes the drain's --check-config" 0 $?
printf 'drain_batch = 0\n' >"$AR_TMP/bad.conf"
"$ANTIREPLAY_DRAIN" -c "$AR_TMP/bad.conf" >"$AR_TMP/bad.out" 2>&1
check "a bad drain key: exit 1" 1 $?
check_contains "a bad drain key: named" "key 'drain_batch'" "$(cat "$AR_TMP/bad.out")"
"$ANTIREPLAY_BIN" -c "$AR_TMP/bad.conf" --check-config >"$AR_TMP/bad.out" 2>&1
check "a bad drain key: antireplay-fcgi refuses it too" 1 $?
"$ANTIREPLAY_DRAIN" -c "$AR_TMP/schema.conf" --init-schema 2>>"$AR_TMP/schema.log"
check "--init-schema again: exit 0" 0 $?
check "two tables" "order_lines orders" "$(ar_sql 'SHOW TABLES' | tr '\n' ' ' | sed 's/ $//')"
check "orders: InnoDB, utf8mb4" "InnoDB utf8mb4_unicode_ci" "$(ar_sql "SELECT ENGINE,
	TABLE_COLLATION FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'shop' AND
	TABLE_NAME = 'orders'" | tr '\t' ' ')"
check "order_lines: primary key (order_id, line)" "order_id,line" "$(ar_sql "SELECT
	GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX) FROM information_schema.STATISTICS WHERE
	TABLE_SCHEMA = 'shop' AND TABLE_NAME = 'order_lines' AND INDEX_NAME = 'PRIMARY'")"

# The app and nginx; the drain's keys in the same file, as in production.
ar_drain_config base_path="$AR_BASE" admin_token="$ADMIN" token_rate=0 order_ttl=$ORDER_TTL drain_claim_ms=1000 \
	log_level=debug redis_user=antireplay redis_password="$RPW_APP"
# The drains' file: the same but for their Redis user.
AR_DRAIN_CONF=$AR_TMP/drain.conf
drain_conf() {
	sed -e 's/^redis_user = .*/redis_user = antireplay-drain/' \
		-e "s/^redis_password = .*/redis_password = $RPW_DRAIN/" \
		-e "s/^db_password = .*/db_password = $1/" \
		"$AR_TMP/antireplay.conf" >"$AR_DRAIN_CONF"
}
drain_conf "$AR_DRAIN_PW"
ar_start_app 2
ar_start_nginx "$AR_BASE"
for sku in A B C; do
	ar_http PUT "$AR_BASE/stock/$sku" -H "Authorization: Bearer $ADMIN" \
		-H 'Content-Type: application/json' --data-binary '{"available":100000}'
done
check "stock set" 200 "$H_STATUS"

# api_order JSON: a token, then the order through nginx, each retried as a
# client would while the app answers 503 (Redis just restarted: its first
# request finds the connection dead); the 201 body is appended to
# $AR_TMP/api.orders (one line each).
api_order() {
	_try=0
	until ar_http POST "$AR_BASE/tokens" && [ "$H_STATUS" != 503 ] || [ $_try -ge 100 ]; do
		_try=$((_try + 1))
		sleep 0.1
	done
	_tok=$(h_json .token)
	_try=0
	until ar_http POST "$AR_BASE/orders" -H "Idempotency-Key: $_tok" \
		-H 'Content-Type: application/json' --data-binary "$1" &&
		[ "$H_STATUS" != 503 ] || [ $_try -ge 100 ]; do
		_try=$((_try + 1))
		sleep 0.1
	done
	if [ "$H_STATUS" = 201 ]; then
		printf '%s\n' "$H_BODY" >>"$AR_TMP/api.orders"
	else
		echo "# order refused: $H_STATUS $H_BODY"
	fi
}
: >"$AR_TMP/api.orders"

# api_orders N: N orders of one to three lines, with and without customer.
api_orders() {
	_n=0
	while [ $_n -lt "$1" ]; do
		_n=$((_n + 1))
		case $((_n % 4)) in
		0) api_order '{"items":[{"sku":"A","qty":1}]}' ;;
		1) api_order "{\"items\":[{\"sku\":\"B\",\"qty\":2},{\"sku\":\"A\",\"qty\":$_n}],\"customer\":\"Ada\"}" ;;
		2) api_order '{"items":[{"sku":"C","qty":3},{"sku":"B","qty":1},{"sku":"A","qty":2}],"customer":"Zoë \"Q\" O'"'"'Brien \\ 🛒"}' ;;
		3) api_order '{"items":[{"sku":"C","qty":7}],"customer":null}' ;;
		esac
	done
}

orders_made() {
	wc -l <"$AR_TMP/api.orders" | tr -d ' '
}

# --- b) wrong credentials --------------------------------------------------
drain_conf "wrong-$AR_DRAIN_PW"
ar_start_drain bad
BAD=$AR_DRAIN_PID
api_orders 3
ar_wait_until 600 grep -q 'failed again' "$AR_TMP/drain-bad.log"
ar_wait_until 600 sh -c "[ \$(grep -c 'failed again' '$AR_TMP/drain-bad.log') -ge 2 ]"
check "wrong password: one error line for the outage" 1 \
	"$(grep -c ' error: mariadb .*Access denied' "$AR_TMP/drain-bad.log")"
check "wrong password: it retries (debug lines)" 1 \
	"$([ "$(grep -c 'failed again' "$AR_TMP/drain-bad.log")" -ge 2 ] && echo 1)"
check "wrong password: the drain keeps running" 0 "$(ar_alive "$BAD"; echo $?)"
check "wrong password: nothing in the database" 0 "$(ar_rows)"
check "wrong password: none of the 3 entries acknowledged (pending or unread)" 3 \
	"$(($(ar_group_field pending) + $(ar_group_field lag)))"
ar_mariadb -e "ALTER USER 'antireplay'@'localhost' IDENTIFIED BY 'wrong-$AR_DRAIN_PW'"
ar_wait_until 600 ar_drained 3
check "right password set: the 3 orders arrive" 3 "$(ar_rows)"
check_contains "right password: 'working again' logged" "working again" \
	"$(cat "$AR_TMP/drain-bad.log")"
ar_mariadb -e "ALTER USER 'antireplay'@'localhost' IDENTIFIED BY '$AR_DRAIN_PW'"
# SIGUSR2 first: were it not ignored, it would kill the drain (status 140)
# before SIGUSR1, which stops it as it stops antireplay-fcgi.
kill -USR2 "$BAD"
kill -USR1 "$BAD"
wait "$BAD"
check "SIGUSR2 ignored, then SIGUSR1: the drain exits 0" 0 $?
ar_untrack "$BAD"
drain_conf "$AR_DRAIN_PW"

# --- c) every order once, as the API returned it ---------------------------
ar_start_drain c
api_orders 20
N=$(orders_made)
check "23 orders made" 23 "$N"
ar_wait_until 600 ar_drained "$N"
check "c: one row per order" "$N" "$(ar_rows)"
bad_body="" bad_lines="" bad_time=""
while IFS= read -r body; do
	id=$(printf '%s' "$body" | "$JQ" -r .order_id)
	want=$(printf '%s' "$body" | od -An -tx1 | tr -d ' \n' | tr a-f A-F)
	[ "$(ar_sql "SELECT HEX(body) FROM orders WHERE order_id = '$id'")" = "$want" ] ||
		bad_body="$bad_body $id"
	[ "$(ar_sql "SELECT GROUP_CONCAT(CONCAT(line, ':', sku, ':', qty) ORDER BY line)
		FROM order_lines WHERE order_id = '$id'")" = \
		"$(printf '%s' "$body" | "$JQ" -r '.items | to_entries |
			map("\(.key + 1):\(.value.sku):\(.value.qty)") | join(",")')" ] ||
		bad_lines="$bad_lines $id"
	[ "$(ar_sql "SELECT DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%s.%f') FROM orders
		WHERE order_id = '$id'" | cut -c1-23)Z" = "$(printf '%s' "$body" | "$JQ" -r .created_at)" ] ||
		bad_time="$bad_time $id"
done <"$AR_TMP/api.orders"
check "c: every body byte for byte as the API returned it" "" "$bad_body"
check "c: every order's lines, in request order" "" "$bad_lines"
check "c: created_at as in the JSON (UTC)" "" "$bad_time"
check "c: customer NULL when absent or null" \
	"$(grep -vc '"customer"' "$AR_TMP/api.orders")" \
	"$(ar_sql 'SELECT COUNT(*) FROM orders WHERE customer IS NULL')"
zoe=$(printf '%s' "Zoë \"Q\" O'Brien \\ 🛒" | od -An -tx1 | tr -d ' \n' | tr a-f A-F)
check "c: the UTF-8 customer intact" "$zoe" \
	"$(ar_sql "SELECT DISTINCT HEX(customer) FROM orders WHERE customer LIKE 'Zo%'")"
check "c: lines = the lines of the orders" \
	"$("$JQ" -s 'map(.items | length) | add' "$AR_TMP/api.orders")" \
	"$(ar_sql 'SELECT COUNT(*) FROM order_lines')"
ar_http GET "$AR_BASE/metrics"
check "c: rows = the created counter" "$(printf '%s\n' "$H_BODY" |
	sed -n 's/^antireplay_submissions_total{outcome="created"} //p')" "$(ar_rows)"

# --- d) retention ------------------------------------------------------------
check "d: stream trimmed to the last delivered entry" 1 "$(ar_xlen)"
ttl_bad=0
for id in $("$JQ" -r .order_id "$AR_TMP/api.orders"); do
	ttl=$(ar_redis TTL "ar:order:$id")
	[ "$ttl" -gt 0 ] && [ "$ttl" -le $ORDER_TTL ] || ttl_bad=$((ttl_bad + 1))
done
check "d: every order hash has a TTL of at most order_ttl" 0 "$ttl_bad"
id=$(tail -n 1 "$AR_TMP/api.orders" | "$JQ" -r .order_id)
ar_http GET "$AR_BASE/orders/$id"
check "d: GET /orders/{id} still answers from Redis" 200 "$H_STATUS"
ar_http GET "$AR_BASE/metrics"
check_contains "d: /metrics: pending gauge of the drain's group" \
	'antireplay_stream_pending{group="antireplay-drain"} 0' "$H_BODY"
check_contains "d: /metrics: lag gauge of the drain's group" \
	'antireplay_stream_lag{group="antireplay-drain"} 0' "$H_BODY"

# --- e) the shop's own group ---------------------------------------------------
ar_redis XGROUP CREATE ar:orders backoffice '$' >/dev/null
before=$(orders_made)
api_orders 2
ar_wait_until 600 ar_drained "$(orders_made)"
kept=0
for id in $(tail -n 2 "$AR_TMP/api.orders" | "$JQ" -r .order_id); do
	ar_redis XRANGE ar:orders - + | grep -qx "$id" && kept=$((kept + 1))
done
check "e: entries the shop's group has not read stay in the stream" 2 "$kept"
ar_http GET "$AR_BASE/metrics"
check_contains "e: /metrics: the shop's group lags by 2" \
	'antireplay_stream_lag{group="backoffice"} 2' "$H_BODY"
ar_redis XGROUP DESTROY ar:orders backoffice >/dev/null
check "e: orders made" $((before + 2)) "$(orders_made)"

# --- f) poison entries ---------------------------------------------------------
ar_redis XADD ar:orders '*' order_id not-a-uuid order '{}' >/dev/null
ar_redis XADD ar:orders '*' order_id "$(cat /proc/sys/kernel/random/uuid)" order 'not json' >/dev/null
api_orders 1
ar_wait_until 600 ar_drained "$(orders_made)"
check "f: the drain went on past the poison" "$(orders_made)" "$(ar_rows)"
check "f: two dead letters" 2 "$(ar_redis XLEN ar:orders:dead)"
check "f: the reasons" "order_id is not a UUID|order is not JSON" "$(ar_redis XRANGE \
	ar:orders:dead - + | awk 'prev == "reason" { print } { prev = $0 }' | cut -d: -f1 |
	tr '\n' '|' | sed 's/|$//')"
check "f: logged once each" 2 "$(grep -c 'is not an order' "$AR_TMP/drain-c.log")"
# An entry of 100 fields: its first 64 go with it (a Lua unpack limit).
set -- XADD ar:orders '*'
i=0
while [ $i -lt 100 ]; do
	i=$((i + 1))
	set -- "$@" "f$i" "v$i"
done
ar_redis "$@" >/dev/null
three_letters() {
	[ "$(ar_redis XLEN ar:orders:dead)" = 3 ]
}
ar_wait_until 600 three_letters
check "f: the entry of 100 fields is a dead letter" 3 "$(ar_redis XLEN ar:orders:dead)"
letter=$(ar_redis XREVRANGE ar:orders:dead + - COUNT 1)
check_contains "f: the reason says what was kept" "(first 64 of 100 fields kept)" "$letter"
check "f: its id, source_id, reason and 64 fields" $((1 + 2 + 2 + 128)) "$(printf '%s\n' "$letter" | wc -l)"
check_contains "f: up to the 64th" "$(printf 'f64\nv64')" "$letter"
check "f: nothing pending" 0 "$(ar_group_field pending)"
ar_stop_pid "$AR_DRAIN_PID"

# --- g) kill -9 between read and commit ---------------------------------------------
# held_in_insert NAME: 3 orders made while no drain runs, then drain NAME
# (AR_DRAIN_PID) reads them in one batch and waits inside its INSERT.
held_in_insert() {
	ar_mariadb_lock_start
	api_orders 3
	ar_start_drain "$1"
	ar_wait_until 600 ar_mariadb_waiting_for_lock
	check "$1: the drain waits inside its INSERT" 0 $?
	check "$1: it has read the 3 entries" 3 "$(ar_group_field pending)"
}
before=$(ar_rows)
held_in_insert g1
G1=$AR_DRAIN_PID
ar_stop_pid "$G1" KILL
ar_mariadb_lock_end
check "g: nothing committed" "$before" "$(ar_rows)"
ar_start_drain g2
ar_wait_until 600 ar_drained "$(orders_made)"
check "g: after the claim, every order once" "$(orders_made)" "$(ar_rows)"
check_contains "g: the second drain claimed them" "claimed 3 entries" "$(cat "$AR_TMP/drain-g2.log")"
missing=$(for id in $("$JQ" -r .order_id "$AR_TMP/api.orders"); do echo "$id"; done | sort >"$AR_TMP/ids.api"
	ar_sql 'SELECT order_id FROM orders ORDER BY order_id' | sort | comm -23 "$AR_TMP/ids.api" - | wc -l)
check "g: no order missing" 0 "$missing"
ar_stop_pid "$AR_DRAIN_PID"

# --- h) kill -9 between commit and ack --------------------------------------------------
rows_are() {
	[ "$(ar_rows)" = "$1" ]
}
before=$(ar_rows)
held_in_insert h1
H1=$AR_DRAIN_PID
# Redis holds back every write now, the drain's acknowledgement too.
ar_redis CLIENT PAUSE 60000 WRITE >/dev/null
ar_mariadb_lock_end
ar_wait_until 600 rows_are $((before + 3))
check "h: committed" $((before + 3)) "$(ar_rows)"
ar_wait_until 600 ar_redis_blocked >/dev/null
check "h: the drain waits at its acknowledgement" 0 $?
ar_stop_pid "$H1" KILL
ar_redis CLIENT UNPAUSE >/dev/null
check "h: the 3 entries still pending" 3 "$(ar_group_field pending)"
ar_start_drain h2
ar_wait_until 600 ar_drained "$(orders_made)"
check "h: after the claim, still every order once" "$(orders_made)" "$(ar_rows)"
ar_stop_pid "$AR_DRAIN_PID"
check_contains "h: the second drain found the 3 in the database" \
	"0 orders persisted, 3 redelivered and skipped" "$(cat "$AR_TMP/drain-h2.log")"

# --- i) SIGTERM with a batch in hand ------------------------------------------------------
before=$(ar_rows)
held_in_insert i
I=$AR_DRAIN_PID
kill -TERM "$I"
ar_wait_until 600 ar_signal_pending "$I" 15
check "i: SIGTERM pending while the batch waits" 0 $?
ar_mariadb_lock_end
gone() {
	! ar_alive "$1"
}
ar_wait_until 600 gone "$I"
wait "$I"
check "i: exit 0 after the batch" 0 $?
ar_untrack "$I"
check "i: the batch in hand committed" $((before + 3)) "$(ar_rows)"
check "i: and acknowledged" 0 "$(ar_group_field pending)"

# --- j) two drains at once ---------------------------------------------------------------------
ar_start_drain j1
J1=$AR_DRAIN_PID
ar_start_drain j2
J2=$AR_DRAIN_PID
for c in 1 2 3; do
	(
		AR_TMP_C=$AR_TMP/client$c
		mkdir -p "$AR_TMP_C"
		k=0
		while [ $k -lt 15 ]; do
			k=$((k + 1))
			tok=$("$CURL" -s -m 60 -X POST "$AR_URL$AR_BASE/tokens" | "$JQ" -r .token)
			"$CURL" -s -m 60 -X POST "$AR_URL$AR_BASE/orders" -H "Idempotency-Key: $tok" \
				-H 'Content-Type: application/json' \
				--data-binary '{"items":[{"sku":"A","qty":1},{"sku":"B","qty":1}]}' \
				>>"$AR_TMP_C/bodies"
			echo >>"$AR_TMP_C/bodies"
		done
	) &
	eval "CLIENT$c=\$!"
done
wait "$CLIENT1" "$CLIENT2" "$CLIENT3"
cat "$AR_TMP"/client*/bodies | grep . >>"$AR_TMP/api.orders"
check "j: 45 more orders made" 45 "$(cat "$AR_TMP"/client*/bodies | grep -c order_id)"
ar_wait_until 600 ar_drained "$(orders_made)"
check "j: every order once" "$(orders_made)" "$(ar_rows)"
check "j: both drains alive" "0 0" "$(ar_alive "$J1"; echo $?) $(ar_alive "$J2"; echo $?)"
check "j: the drains are connected as their ACL user" 2 \
	"$(ar_redis CLIENT LIST | grep -c ' user=antireplay-drain ')"
check "j: and the app as its own" 1 \
	"$([ "$(ar_redis CLIENT LIST | grep -c ' user=antireplay ')" -ge 1 ] && echo 1)"

# --- k) MariaDB killed, Redis restarted ------------------------------------------------------------
ar_kill_mariadb
api_orders 4
ar_wait_until 600 grep -q ' error: mariadb ' "$AR_TMP/drain-j1.log" "$AR_TMP/drain-j2.log"
ar_restart_mariadb
ar_wait_until 600 ar_drained "$(orders_made)"
check "k: after MariaDB came back, every order once" "$(orders_made)" "$(ar_rows)"
errors=$(cat "$AR_TMP/drain-j1.log" "$AR_TMP/drain-j2.log" | grep -c ' error: mariadb ')
check "k: at most one MariaDB error line per drain" 1 "$([ "$errors" -ge 1 ] && [ "$errors" -le 2 ] && echo 1)"
check "Redis denied the app and the drains nothing (ACL LOG empty)" "" "$(ar_redis ACL LOG)"
redis_errors_before=$(cat "$AR_TMP/drain-j1.log" "$AR_TMP/drain-j2.log" | grep -c ' error: redis ')
ar_restart_redis
api_orders 4
ar_wait_until 600 ar_drained "$(orders_made)"
check "k: after Redis restarted on its AOF, every order once" "$(orders_made)" "$(ar_rows)"
redis_errors=$(($(cat "$AR_TMP/drain-j1.log" "$AR_TMP/drain-j2.log" | grep -c ' error: redis ') -
	redis_errors_before))
check "k: the Redis outage logged at most once per drain ($redis_errors lines)" 1 \
	"$([ "$redis_errors" -le 2 ] && echo 1)"
ar_http GET "$AR_BASE/metrics"
check "k: rows = the created counter" "$(printf '%s\n' "$H_BODY" |
	sed -n 's/^antireplay_submissions_total{outcome="created"} //p')" "$(ar_rows)"
check "k: both drains still up" "0 0" "$(ar_alive "$J1"; echo $?) $(ar_alive "$J2"; echo $?)"
ar_stop_pid "$J1"
ar_stop_pid "$J2"
check "Redis denied the app and the drains nothing since its restart (ACL LOG empty)" "" \
	"$(ar_redis ACL LOG)"

# --- l) the tables refuse an order, then every order ----------------------------------------------
ar_sql "ALTER TABLE orders ADD CONSTRAINT no_mallory CHECK (customer IS NULL OR customer <> 'Mallory')"
dead=$(ar_redis XLEN ar:orders:dead)
api_order '{"items":[{"sku":"A","qty":1}],"customer":"Mallory"}'
M=$(tail -n 1 "$AR_TMP/api.orders" | "$JQ" -r .order_id)
M_BODY=$(tail -n 1 "$AR_TMP/api.orders")
api_orders 3 # one batch with Mallory's: no drain runs
ar_start_drain l
L=$AR_DRAIN_PID
ar_wait_until 600 ar_drained $(($(orders_made) - 1))
check "l: the rest of the batch went in" $(($(orders_made) - 1)) "$(ar_rows)"
check "l: not Mallory's order" 0 "$(ar_sql "SELECT COUNT(*) FROM orders WHERE order_id = '$M'")"
check "l: nothing pending" 0 "$(ar_group_field pending)"
check "l: one more dead letter" $((dead + 1)) "$(ar_redis XLEN ar:orders:dead)"
letter=$(ar_redis XREVRANGE ar:orders:dead + - COUNT 1)
field() {
	printf '%s\n' "$letter" | awk -v f="$1" 'prev == f { print; exit } { prev = $0 }'
}
check "l: the dead letter is Mallory's order" "$M" "$(field order_id)"
check "l: with the order JSON as the API returned it" "$M_BODY" "$(field order)"
check_match "l: and MariaDB's reason" \
	"^refused by the database: INSERT INTO orders: error 4025: .*no_mallory" "$(field reason)"
check "l: logged once" 1 "$(grep -c "order $M .*refused by the database" "$AR_TMP/drain-l.log")"
check "l: Mallory's order is still readable, with no TTL" -1 "$(ar_redis TTL "ar:order:$M")"
# Every order refused now (a trigger): the tables changed, not the orders.
ar_sql "CREATE TRIGGER closed BEFORE INSERT ON order_lines FOR EACH ROW
	SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'the shop is closed'"
api_orders 2
ar_wait_until 600 grep -q 'the tables refuse every order' "$AR_TMP/drain-l.log"
check "l: every order refused: the drain says so" 0 $?
ar_wait_until 600 grep -q 'mariadb .* failed again' "$AR_TMP/drain-l.log"
check "l: and tries again" 0 $?
check "l: and dead-letters none" $((dead + 1)) "$(ar_redis XLEN ar:orders:dead)"
check "l: neither acknowledged (pending + lag)" 2 \
	$(($(ar_group_field pending) + $(ar_group_field lag)))
ar_sql "DROP TRIGGER closed"
ar_wait_until 600 ar_drained $(($(orders_made) - 1))
check "l: once the tables take them, both go in" $(($(orders_made) - 1)) "$(ar_rows)"
check "l: no dead letter added" $((dead + 1)) "$(ar_redis XLEN ar:orders:dead)"
check "l: the outage logged once" 1 \
	"$(grep -c ' error: mariadb .*the tables refuse every order' "$AR_TMP/drain-l.log")"
check "l: and its end" 1 "$(grep -c 'mariadb .*working again' "$AR_TMP/drain-l.log")"
# The tables refuse an order once, then take it (a trigger dropped between
# the refusal and the probe, as on a CI run): the order is tried again
# after the probe and goes in. The count is in an Aria table, which a
# refusal does not roll back.
ar_mariadb shop <<'SQL'
CREATE TABLE line_count (n INT NOT NULL) ENGINE=Aria;
INSERT INTO line_count VALUES (0);
DELIMITER //
CREATE TRIGGER refuse_once BEFORE INSERT ON order_lines FOR EACH ROW BEGIN
	UPDATE line_count SET n = n + 1;
	IF (SELECT n FROM line_count) = 1 THEN
		SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused once';
	END IF;
END//
DELIMITER ;
SQL
probe_lines=$(ar_sql "SELECT COUNT(*) FROM order_lines WHERE order_id =
	(SELECT order_id FROM orders ORDER BY created_at DESC LIMIT 1)") # the last the drain wrote
api_order '{"items":[{"sku":"A","qty":1}]}'
ar_wait_until 600 ar_drained $(($(orders_made) - 1))
check "l: an order refused once, then taken: it goes in" $(($(orders_made) - 1)) "$(ar_rows)"
check "l: and is no dead letter" $((dead + 1)) "$(ar_redis XLEN ar:orders:dead)"
check "l: lines written: refused, the probe's $probe_lines, taken" $((probe_lines + 2)) \
	"$(ar_sql "SELECT n FROM line_count")"
ar_sql "DROP TRIGGER refuse_once; DROP TABLE line_count"
ar_stop_pid "$L"
# A foreign key of the shop's from sku to its products, and an order of a
# SKU it does not sell, alone in the batch of a drain that has committed
# nothing yet: the proof is the newest order in the database.
ar_sql "CREATE TABLE products (sku VARCHAR(64) CHARACTER SET ascii PRIMARY KEY) ENGINE=InnoDB;
	INSERT INTO products VALUES ('A'), ('B'), ('C');
	ALTER TABLE order_lines ADD CONSTRAINT line_product FOREIGN KEY (sku) REFERENCES products (sku)"
ar_http PUT "$AR_BASE/stock/D" -H "Authorization: Bearer $ADMIN" \
	-H 'Content-Type: application/json' --data-binary '{"available":10}'
api_order '{"items":[{"sku":"D","qty":1}]}'
D=$(tail -n 1 "$AR_TMP/api.orders" | "$JQ" -r .order_id)
ar_start_drain fk
FK=$AR_DRAIN_PID
two_more_letters() {
	[ "$(ar_redis XLEN ar:orders:dead)" = $((dead + 2)) ]
}
ar_wait_until 600 two_more_letters
letter=$(ar_redis XREVRANGE ar:orders:dead + - COUNT 1)
check "l: a fresh drain dead-letters the order of an unknown SKU" "$D" "$(field order_id)"
check_match "l: the foreign key's reason" \
	"^refused by the database: INSERT INTO order_lines: error 1452: .*line_product" \
	"$(field reason)"
api_order '{"items":[{"sku":"A","qty":1}]}'
ar_wait_until 600 ar_drained $(($(orders_made) - 2))
check "l: and goes on" $(($(orders_made) - 2)) "$(ar_rows)"
check "l: the probe left no row" 0 \
	"$(ar_sql "SELECT COUNT(*) FROM orders WHERE order_id = '00000000-0000-0000-0000-000000000000'")"
check "l: no outage said" 0 "$(grep -c 'refuse every order' "$AR_TMP/drain-fk.log")"
ar_stop_pid "$FK"
# max_allowed_packet at its floor (2 KiB): a batch of nine one-line
# orders and one of 50 lines goes in by halves; the 50 lines alone are
# over it (the server would close the connection): a dead letter.
items="" i=10
while [ $i -lt 60 ]; do
	ar_http PUT "$AR_BASE/stock/P$i" -H "Authorization: Bearer $ADMIN" \
		-H 'Content-Type: application/json' --data-binary '{"available":10}'
	ar_sql "INSERT INTO products VALUES ('P$i')"
	items="$items${items:+,}{\"sku\":\"P$i\",\"qty\":1}"
	i=$((i + 1))
done
ar_sql "SET GLOBAL max_allowed_packet = 2048"
api_orders 4
api_order "{\"items\":[$items]}"
BIG=$(tail -n 1 "$AR_TMP/api.orders" | "$JQ" -r .order_id)
api_orders 5
ar_start_drain packet
PK=$AR_DRAIN_PID
three_more_letters() {
	[ "$(ar_redis XLEN ar:orders:dead)" = $((dead + 3)) ]
}
ar_wait_until 600 three_more_letters
ar_wait_until 600 ar_drained $(($(orders_made) - 3))
check "l: the nine small orders went in by halves" $(($(orders_made) - 3)) "$(ar_rows)"
letter=$(ar_redis XREVRANGE ar:orders:dead + - COUNT 1)
check "l: the order of 50 lines is a dead letter" "$BIG" "$(field order_id)"
check_match "l: over max_allowed_packet" \
	"^refused by the database: INSERT INTO order_lines: error 1153: a statement of [0-9]+ bytes, max_allowed_packet is 2048" \
	"$(field reason)"
check "l: nothing pending" 0 "$(ar_group_field pending)"
ar_stop_pid "$PK"
ar_sql "SET GLOBAL max_allowed_packet = DEFAULT"

# --- l2) wait_replicas with no replica: nothing is committed ---------------------------------------
# (tests/integration/test_sentinel.sh has replicas.) The drain claims the
# batch again and WAITs: 0 of 1, so the orders stay out of the database
# and pending, said once a second at most; with wait_replicas = 0 they go in.
api_orders 2
cp "$AR_DRAIN_CONF" "$AR_TMP/drain-wait.conf"
printf 'wait_replicas = 1\nwait_timeout_ms = 100\n' >>"$AR_TMP/drain-wait.conf"
rows=$(ar_rows)
AR_DRAIN_CONF=$AR_TMP/drain-wait.conf ar_start_drain wait
WD=$AR_DRAIN_PID
ar_wait_until 600 grep -q '0 of 1 replicas acknowledged it within 100 ms' "$AR_TMP/drain-wait.log"
check "l2: wait_replicas = 1 and no replica: the drain says so" 0 $?
sleep 1
check "l2: and commits nothing" "$rows" "$(ar_rows)"
check "l2: the two orders still pending or unread" 2 \
	$(($(ar_group_field pending) + $(ar_group_field lag)))
ar_stop_pid "$WD"
ar_start_drain nowait
ar_wait_until 600 ar_drained $(($(orders_made) - 3))
check "l2: with wait_replicas = 0 they go in" $(($(orders_made) - 3)) "$(ar_rows)"
ar_stop_pid "$AR_DRAIN_PID"

# --- m) the scripts alone --------------------------------------------------------------------------
ar_redis SET ar:m:order:1 x >/dev/null
check "m: drain_ack on a stream that is gone: nothing acknowledged or trimmed" "$(printf '0\n0')" \
	"$(ar_redis --eval "$(ar_lua drain_ack)" ar:m:orders ar:m:order:1 , \
		antireplay-drain 60 1-0 2>&1)"
check "m: and the order hash still gets its TTL" 60 "$(ar_redis TTL ar:m:order:1)"
ar_redis XGROUP CREATE ar:m:orders g '$' MKSTREAM >/dev/null
ar_redis XADD ar:m:orders 5-1 order_id x >/dev/null
ar_redis XREADGROUP GROUP g c STREAMS ar:m:orders '>' >/dev/null
send_dead() {
	ar_redis --eval "$(ar_lua drain_dead)" ar:m:orders ar:m:dead , g 5-1 why order_id x
}
check_match "m: drain_dead on a pending entry: a dead letter" '^[0-9]+-[0-9]+$' "$(send_dead)"
check "m: acknowledged" 0 "$(ar_redis XPENDING ar:m:orders g | head -n 1)"
check "m: with its reason and fields" "$(printf 'source_id\n5-1\nreason\nwhy\norder_id\nx')" \
	"$(ar_redis XRANGE ar:m:dead - + | tail -n +2)"
check "m: sent again (not pending any more): nothing" "" "$(send_dead)"
check "m: still one dead letter" 1 "$(ar_redis XLEN ar:m:dead)"
ar_done
