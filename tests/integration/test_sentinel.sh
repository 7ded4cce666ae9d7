#!/bin/sh
# redis = sentinel://...: a primary, two replicas and three Sentinels (real
# redis-server and redis-sentinel on loopback ports), the app under
# spawn-fcgi as the ACL user of docs/security.md, with wait_replicas = 2.
#   a) the Sentinels name the primary; a token and an order; the order is
#      on both replicas the moment it is confirmed (WAIT);
#   b) the first Sentinel stopped (SIGSTOP: it accepts and never answers):
#      the next connect asks the next one, within the request;
#   c) a replica stopped: WAIT comes back short, 503 unavailable saying to
#      retry with the same key, for a token, an order and the gate; once
#      it is back, the order's retry replays the one order (stock moved
#      once) and the gate's retry is allowed (counted once);
#   d) SENTINEL FAILOVER (Sentinel kills the clients of the old primary and
#      demotes it): the app follows to the new primary and never writes to
#      the old one;
#   e) the primary SIGKILLed: the app answers 503 until Sentinel promotes a
#      replica, then 201 on it (the failover time clients saw is printed);
#      with one node of three dead, WAIT 2 cannot be met: 503 until it
#      comes back as a replica;
#   f) every order confirmed is on the last primary, once; the ACL user
#      was never refused a command.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/lib/sentinel.sh"
. "$top_srcdir/tests/lib/probe.sh"

ar_require "$REDIS_SERVER" "$REDIS_SENTINEL" "$SPAWN_FCGI" "$CGI_FCGI" "$(command -v perl)" \
	"$(command -v ss)"
ar_setup
RPW=pw-$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')
ACL_APP=$(grep -m 1 '^user antireplay on >' "$top_srcdir/docs/security.md" |
	sed "s/ >[^ ]*/ >$RPW/")
check_match "docs/security.md: the app's ACL line allows WAIT and ROLE" \
	" [+]wait( .*)? [+]role( |$)" "$ACL_APP"

ar_start_redis_node n1 "" "$ACL_APP"
ar_start_redis_node n2 "" "$ACL_APP" "replicaof 127.0.0.1 $AR_NODE_PORT_n1"
ar_start_redis_node n3 "" "$ACL_APP" "replicaof 127.0.0.1 $AR_NODE_PORT_n1"
ar_wait_until 300 ar_replicas_online n1 2
check "n1 has two replicas in sync" 0 $?
ar_start_sentinels 3 n1 shop
ar_wait_until 600 ar_sentinels_ready 3 shop 2
check "the Sentinels know the two replicas and each other" 0 $?

ar_write_config "redis=sentinel://$AR_SENTINELS/shop" redis_user=antireplay \
	"redis_password=$RPW" wait_replicas=2 wait_timeout_ms=300 redis_timeout_ms=1000 \
	token_rate=0 bind=header:X-User
ar_start_app 2
ar_node n1 SET ar:stock:A 1000 >/dev/null
ar_wait_until 100 ar_node n3 EXISTS ar:stock:A | grep -q 1
ORDER='{"items":[{"sku":"A","qty":1}]'
CONFIRMED=""

# order TOKEN: POST /orders with it as alice; a 201 is remembered.
order() {
	ar_fcgi POST /orders "$ORDER,\"token\":\"$1\"}" HTTP_X_USER=alice
	[ "$AR_STATUS" != 201 ] || CONFIRMED="$CONFIRMED $(ar_json_get order_id)"
}

# primary: the node whose ROLE is master (one of n1..n3), "" when none.
primary() {
	for _n in n1 n2 n3; do
		[ "$(ar_role $_n)" = master ] && { echo $_n; return; }
	done
}

# --- a) -----------------------------------------------------------------
ar_token HTTP_X_USER=alice
check "a: token through the Sentinels' primary" 201 "$AR_STATUS"
check_contains "a: the app logs where the primary is" \
	"redis sentinel/shop: the primary is 127.0.0.1:$AR_NODE_PORT_n1" "$(cat "$AR_TMP/app.log")"
order "$AR_TOKEN"
check "a: order" 201 "$AR_STATUS"
OID=$(ar_json_get order_id)
check "a: on both replicas once confirmed (WAIT 2)" "1 1" \
	"$(ar_node n2 EXISTS "ar:order:$OID") $(ar_node n3 EXISTS "ar:order:$OID")"

# --- b) -----------------------------------------------------------------
kill -STOP "$AR_SENTINEL_PID_1"
ar_node n1 CLIENT KILL USER antireplay >/dev/null
ar_token HTTP_X_USER=alice
check "b: the first Sentinel stopped: the next one is asked" 201 "$AR_STATUS"
kill -CONT "$AR_SENTINEL_PID_1"

# --- c) -----------------------------------------------------------------
ar_token HTTP_X_USER=alice
T_ORDER=$AR_TOKEN
ar_token HTTP_X_USER=alice
T_GATE=$AR_TOKEN
kill -STOP "$AR_NODE_PID_n3"
ar_token HTTP_X_USER=alice
check "c: a replica stopped: a token is 503" 503 "$AR_STATUS"
check "c: unavailable" unavailable "$(ar_json_get error)"
stock_before=$(ar_node n1 GET ar:stock:A)
order "$T_ORDER"
check "c: the order is 503" 503 "$AR_STATUS"
check_contains "c: saying to retry with the same key" "with the same key" "$AR_BODY"
check "c: with Retry-After" 1 "$(ar_header Retry-After)"
ar_probe "$AR_TMP/authz.out" --role 2 --send-stdin 0 --timeout 10 \
	--param REQUEST_METHOD=POST --param REQUEST_URI=/pay.php --param REMOTE_ADDR=127.0.0.1 \
	--param HTTP_X_USER=alice --param HTTP_IDEMPOTENCY_KEY="$T_GATE"
check "c: the gate is 503" 503 "$AR_STATUS"
check_contains "c: the app logs the short WAIT" "of 2 replicas acknowledged it within 300 ms" \
	"$(cat "$AR_TMP/app.log")"
kill -CONT "$AR_NODE_PID_n3"
ar_wait_until 300 ar_replicas_online n1 2
order "$T_ORDER"
check "c: the order's retry once the replica is back: 201" 201 "$AR_STATUS"
check "c: stock moved once" $((stock_before - 1)) "$(ar_node n1 GET ar:stock:A)"
ar_probe "$AR_TMP/authz.out" --role 2 --send-stdin 0 --timeout 10 \
	--param REQUEST_METHOD=POST --param REQUEST_URI=/pay.php --param REMOTE_ADDR=127.0.0.1 \
	--param HTTP_X_USER=alice --param HTTP_IDEMPOTENCY_KEY="$T_GATE"
check "c: the gate's retry is allowed" 200 "$AR_STATUS"
ar_probe "$AR_TMP/authz.out" --role 2 --send-stdin 0 --timeout 10 \
	--param REQUEST_METHOD=POST --param REQUEST_URI=/pay.php --param REMOTE_ADDR=127.0.0.1 \
	--param HTTP_X_USER=alice --param HTTP_IDEMPOTENCY_KEY="$T_GATE"
check "c: and then used: 409" 409 "$AR_STATUS"
check "c: allowed counted once" 1 "$(ar_node n1 HGET ar:metrics gate_allowed)"

# --- d) -----------------------------------------------------------------
ar_sentinel 1 SENTINEL FAILOVER shop >/dev/null
new_primary() {
	_p=$(primary)
	[ -n "$_p" ] && [ "$_p" != n1 ] && ar_replicas_online "$_p" 2
}
ar_wait_until 600 new_primary
check "d: SENTINEL FAILOVER: a replica is the primary, n1 one of its replicas" \
	"0 slave" "$? $(ar_role n1)"
P=$(primary)
# Every request after the failover, up to the first 201, is a 503.
got_201() {
	ar_token HTTP_X_USER=alice
	[ "$AR_STATUS" = 201 ] || [ "$AR_STATUS" = 503 ] || echo "# d: unexpected $AR_STATUS" >&2
	[ "$AR_STATUS" = 201 ]
}
ar_wait_until 300 got_201
check "d: the app follows to the new primary" 201 "$AR_STATUS"
order "$AR_TOKEN"
check "d: an order on it" 201 "$AR_STATUS"
OID=$(ar_json_get order_id)
check "d: there" 1 "$(ar_node "$P" EXISTS "ar:order:$OID")"
check_contains "d: the app logs the new primary" \
	"the primary is now 127.0.0.1:$(eval echo "\$AR_NODE_PORT_$P") (was 127.0.0.1:$AR_NODE_PORT_n1)" \
	"$(cat "$AR_TMP/app.log")"

# --- e) -----------------------------------------------------------------
ar_token HTTP_X_USER=alice
T_AFTER=$AR_TOKEN
OLD=$P
OLD_PORT=$(eval echo "\$AR_NODE_PORT_$OLD")
ar_stop_pid "$(eval echo "\$AR_NODE_PID_$OLD")" KILL
killed_at=$(ar_now_ms)
first_503=""
answered_201() {
	ar_token HTTP_X_USER=alice
	[ -n "$first_503" ] || [ "$AR_STATUS" != 503 ] || first_503=$(ar_now_ms)
	[ "$AR_STATUS" = 201 ]
}
answered_201
check "e: the primary killed: 503" 503 "$AR_STATUS"
promoted() {
	_p=$(primary)
	[ -n "$_p" ] && [ "$_p" != "$OLD" ]
}
ar_wait_until 600 promoted
check "e: Sentinel promoted a replica" 0 $?
echo "# e: promoted $(($(ar_now_ms) - killed_at)) ms after the kill"
P=$(primary)
answered_201
check "e: promoted, but WAIT 2 cannot be met with one node of three gone: 503" 503 "$AR_STATUS"
ar_start_redis_node "$OLD" "$OLD_PORT" "$ACL_APP" \
	"replicaof 127.0.0.1 $(eval echo "\$AR_NODE_PORT_$P")"
restarted_at=$(ar_now_ms)
ar_wait_until 600 answered_201
check "e: with the old primary back as a replica, 201 on the new one" 201 "$AR_STATUS"
echo "# e: clients saw 503 for $(($(ar_now_ms) - first_503)) ms (first 503 to first 201," \
	"of which $(($(ar_now_ms) - restarted_at)) ms after the dead node was started again)"
order "$T_AFTER"
check "e: a token issued before the failover is good after it" 201 "$AR_STATUS"

# --- f) -----------------------------------------------------------------
missing=0 total=0
for oid in $CONFIRMED; do
	total=$((total + 1))
	[ "$(ar_node "$P" EXISTS "ar:order:$oid")" = 1 ] || missing=$((missing + 1))
done
check "f: every confirmed order ($total) is on the last primary" 0 "$missing"
check "f: created = confirmed orders" "$total" "$(ar_node "$P" HGET ar:metrics created)"
check "f: the ACL user was never refused (ACL LOG of the last primary)" "" \
	"$(ar_node "$P" ACL LOG)"
ar_stop_app
ar_done
