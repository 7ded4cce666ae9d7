#!/bin/sh
# redis = cluster://...: a Redis Cluster of three primaries on loopback
# ports (real redis-server, --cluster create), the app under spawn-fcgi as
# the ACL user of docs/security.md.
#   a) the config check: a cluster without a hash tag in key_prefix, or
#      with redis_db, is refused;
#   b) two deployments, {tags} served by two different nodes: every route
#      (tokens, orders and their replay, GET /orders/{id}, stock, metrics,
#      healthz, the gate) works, each deployment's keys in its tag's slot;
#   c) the slot of one deployment moved to another node under load (SETSLOT
#      IMPORTING / MIGRATING, MIGRATE key by key, SETSLOT NODE), clients
#      retrying on 503 with the same token: every order ends 201, once
#      (stock + created = start), the app followed MOVED to the new node
#      (ASK and TRYAGAIN met during the move are counted from its log).
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/lib/sentinel.sh"
. "$top_srcdir/tests/lib/probe.sh"

ar_require "$REDIS_SERVER" "$REDIS_CLI" "$SPAWN_FCGI" "$CGI_FCGI" "$(command -v perl)" \
	"$(command -v ss)"
ar_setup
RPW=pw-$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')
# The key pattern follows key_prefix, as docs/security.md says: both
# deployments' tags (any shopN).
ACL_APP=$(grep -m 1 '^user antireplay on >' "$top_srcdir/docs/security.md" |
	sed -e "s/ >[^ ]*/ >$RPW/" -e 's/ ~ar:\* / ~{shop*}:* /')
check_match "the ACL line, for {shopN}: prefixes" " ~[{]shop[*][}]:[*] " "$ACL_APP"
for n in c1 c2 c3; do
	ar_start_redis_node $n "" "$ACL_APP" "cluster-enabled yes" \
		"cluster-config-file $AR_TMP/nodes-$n.conf" "cluster-node-timeout 3000"
done
"$REDIS_CLI" --cluster create "127.0.0.1:$AR_NODE_PORT_c1" "127.0.0.1:$AR_NODE_PORT_c2" \
	"127.0.0.1:$AR_NODE_PORT_c3" --cluster-replicas 0 --cluster-yes >"$AR_TMP/create.log" 2>&1 ||
	{ echo "# --cluster create failed"; cat "$AR_TMP/create.log"; exit 1; }
cluster_ok() {
	for _n in c1 c2 c3; do
		ar_node $_n CLUSTER INFO | grep -q '^cluster_state:ok' || return 1
	done
}
ar_wait_until 600 cluster_ok
check "the cluster is up" 0 $?
SEEDS="127.0.0.1:$AR_NODE_PORT_c1,127.0.0.1:$AR_NODE_PORT_c2"

# owner SLOT: the node (c1..c3) that serves SLOT, by its own CLUSTER NODES.
owner() {
	for _n in c1 c2 c3; do
		for _r in $(ar_node $_n CLUSTER NODES |
			awk '$3 ~ /myself/ { for (i = 9; i <= NF; i++) if ($i !~ /^\[/) print $i }'); do
			_lo=${_r%-*} _hi=${_r#*-}
			[ "$1" -ge "$_lo" ] && [ "$1" -le "$_hi" ] && { echo $_n; return; }
		done
	done
}

# Two tags on two different nodes.
TAG1=shop1
SLOT1=$(ar_node c1 CLUSTER KEYSLOT "{$TAG1}")
NODE1=$(owner "$SLOT1")
i=2
while :; do
	TAG2=shop$i
	SLOT2=$(ar_node c1 CLUSTER KEYSLOT "{$TAG2}")
	NODE2=$(owner "$SLOT2")
	[ "$NODE2" = "$NODE1" ] || break
	i=$((i + 1))
done
echo "# {$TAG1}: slot $SLOT1 on $NODE1; {$TAG2}: slot $SLOT2 on $NODE2"

# --- a) ---------------------------------------------------------------
ar_write_config "redis=cluster://$SEEDS"
"$ANTIREPLAY_BIN" -c "$AR_TMP/antireplay.conf" --check-config >"$AR_TMP/check.out" 2>&1
check "a: a cluster and key_prefix without a hash tag: refused" 1 $?
check_contains "a: saying why" "with a Redis Cluster it must hold one hash tag" \
	"$(cat "$AR_TMP/check.out")"
ar_write_config "redis=cluster://$SEEDS" "key_prefix={$TAG1}:" redis_db=2
"$ANTIREPLAY_BIN" -c "$AR_TMP/antireplay.conf" --check-config >"$AR_TMP/check.out" 2>&1
check "a: redis_db with a cluster: refused" 1 $?

# --- b) ---------------------------------------------------------------
ADMIN=admin-$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')
# deployment TAG NODE: every route of a deployment whose keys are on NODE.
deployment() {
	_tag=$1 _node=$2
	ar_write_config "redis=cluster://$SEEDS" "key_prefix={$_tag}:" redis_user=antireplay \
		"redis_password=$RPW" token_rate=0 bind=header:X-User "admin_token=$ADMIN"
	ar_start_app 2
	ar_fcgi PUT /stock/A '{"available":100}' HTTP_AUTHORIZATION="Bearer $ADMIN"
	check "b {$_tag}: PUT /stock" 200 "$AR_STATUS"
	check "b {$_tag}: on its slot's node" 100 "$(ar_node "$_node" GET "{$_tag}:stock:A")"
	ar_token HTTP_X_USER=alice
	check "b {$_tag}: token" 201 "$AR_STATUS"
	ar_fcgi POST /orders "{\"items\":[{\"sku\":\"A\",\"qty\":2}],\"token\":\"$AR_TOKEN\"}" \
		HTTP_X_USER=alice
	check "b {$_tag}: order" 201 "$AR_STATUS"
	_oid=$(ar_json_get order_id)
	_first=$AR_BODY
	ar_fcgi POST /orders "{\"items\":[{\"sku\":\"A\",\"qty\":2}],\"token\":\"$AR_TOKEN\"}" \
		HTTP_X_USER=alice
	check "b {$_tag}: its replay, the same body" "201 $_first" "$AR_STATUS $AR_BODY"
	ar_fcgi GET "/orders/$_oid" "" HTTP_X_USER=alice
	check "b {$_tag}: GET /orders/{id}" 200 "$AR_STATUS"
	ar_fcgi GET /stock/A ""
	check "b {$_tag}: GET /stock" "200 98" "$AR_STATUS $(ar_json_get available)"
	ar_fcgi GET /healthz ""
	check "b {$_tag}: /healthz" 200 "$AR_STATUS"
	ar_token HTTP_X_USER=alice
	ar_probe "$AR_TMP/authz.out" --role 2 --send-stdin 0 --timeout 10 \
		--param REQUEST_METHOD=POST --param REQUEST_URI=/pay.php \
		--param REMOTE_ADDR=127.0.0.1 --param HTTP_X_USER=alice \
		--param HTTP_IDEMPOTENCY_KEY="$AR_TOKEN"
	check "b {$_tag}: the gate" 200 "$AR_STATUS"
	ar_fcgi GET /metrics ""
	check "b {$_tag}: /metrics" "200 1" \
		"$AR_STATUS $(ar_metric 'antireplay_submissions_total{outcome="created"}')"
	check "b {$_tag}: the order on its slot's node" 1 \
		"$(ar_node "$_node" EXISTS "{$_tag}:order:$_oid")"
	ar_stop_app
}
deployment "$TAG1" "$NODE1"
deployment "$TAG2" "$NODE2"
check "b: no key of either on the third node" 0 \
	"$(for n in c1 c2 c3; do [ $n = "$NODE1" ] || [ $n = "$NODE2" ] || ar_node $n DBSIZE; done)"

# --- c) ---------------------------------------------------------------
ar_write_config "redis=cluster://$SEEDS" "key_prefix={$TAG1}:" redis_user=antireplay \
	"redis_password=$RPW" token_rate=0 bind=header:X-User "admin_token=$ADMIN" \
	redis_timeout_ms=1000
ar_start_app 4
ar_fcgi PUT /stock/A '{"available":100000}' HTTP_AUTHORIZATION="Bearer $ADMIN"
ar_fcgi GET /metrics ""
CREATED0=$(ar_metric 'antireplay_submissions_total{outcome="created"}')
# client N: orders until $AR_TMP/stop, retrying 503 with the same token;
# "STATUS" per order in client-N.log.
client() {
	_c=$1
	while [ ! -e "$AR_TMP/stop" ]; do
		_try=0
		until ar_fcgi_to "$AR_TMP/c$_c.tok" POST /tokens "" HTTP_X_USER=c$_c &&
			ar_parse "$AR_TMP/c$_c.tok" && [ "$AR_STATUS" = 201 ] || [ $_try -ge 100 ]; do
			_try=$((_try + 1))
			sleep 0.05
		done
		[ "$AR_STATUS" = 201 ] || { echo "token-$AR_STATUS" >>"$AR_TMP/client-$_c.log"; continue; }
		_tok=$(ar_json_get token)
		_try=0
		while :; do
			ar_fcgi_to "$AR_TMP/c$_c.out" POST /orders \
				"{\"items\":[{\"sku\":\"A\",\"qty\":1}],\"token\":\"$_tok\"}" HTTP_X_USER=c$_c
			ar_parse "$AR_TMP/c$_c.out"
			[ "$AR_STATUS" = 503 ] && [ $_try -lt 100 ] || break
			_try=$((_try + 1))
			sleep 0.05
		done
		echo "$AR_STATUS" >>"$AR_TMP/client-$_c.log"
	done
}
pids=""
for c in 1 2 3 4; do
	client $c &
	pids="$pids $!"
	ar_track $!
done
count201() {
	cat "$AR_TMP"/client-*.log 2>/dev/null | grep -c '^201$'
}
ar_wait_until 600 eval '[ "$(count201)" -ge 20 ]'
# The move, as redis-cli --cluster reshard makes it, slowly: key by key.
FROM=$NODE1
TO=$(for n in c1 c2 c3; do [ $n = "$FROM" ] || { echo $n; break; }; done)
FROM_ID=$(ar_node $FROM CLUSTER MYID)
TO_ID=$(ar_node $TO CLUSTER MYID)
TO_PORT=$(eval echo "\$AR_NODE_PORT_$TO")
ar_node $TO CLUSTER SETSLOT "$SLOT1" IMPORTING "$FROM_ID" >/dev/null
ar_node $FROM CLUSTER SETSLOT "$SLOT1" MIGRATING "$TO_ID" >/dev/null
moved=0 rounds=0
while [ $rounds -lt 2000 ]; do
	rounds=$((rounds + 1))
	keys=$(ar_node $FROM CLUSTER GETKEYSINSLOT "$SLOT1" 5)
	[ -n "$keys" ] || break
	# shellcheck disable=SC2086 # keys, one a word
	ar_node $FROM MIGRATE 127.0.0.1 "$TO_PORT" "" 0 5000 KEYS $keys >/dev/null
	moved=$((moved + $(echo "$keys" | wc -w)))
	sleep 0.02
done
for n in c1 c2 c3; do
	ar_node $n CLUSTER SETSLOT "$SLOT1" NODE "$TO_ID" >/dev/null
done
after=$(count201)
ar_wait_until 600 eval '[ "$(count201)" -ge $((after + 20)) ]'
: >"$AR_TMP/stop"
for p in $pids; do
	ar_stop_pid "$p" 0 900 || echo "# a client did not finish"
done
echo "# c: $moved keys moved in $rounds rounds; the app met $(grep -c 'ASK ' "$AR_TMP/app.log")" \
	"ASK and $(grep -c 'TRYAGAIN' "$AR_TMP/app.log") TRYAGAIN"
check "c: the slot is on $TO now" "$TO" "$(owner "$SLOT1")"
check "c: every order ended 201" "" \
	"$(cat "$AR_TMP"/client-*.log | grep -v '^201$' | sort | uniq -c | tr '\n' ' ')"
check_contains "c: the app went to $TO" "slot $SLOT1 127.0.0.1:$TO_PORT" \
	"$(cat "$AR_TMP/app.log")"
ar_fcgi GET /metrics ""
CREATED=$(ar_metric 'antireplay_submissions_total{outcome="created"}')
check "c: created = the 201s" "$(count201)" $((CREATED - CREATED0))
check "c: stock + created = start" 100000 \
	$(($(ar_node $TO GET "{$TAG1}:stock:A") + CREATED - CREATED0))
check "c: nothing of {$TAG1} left on $FROM" 0 "$(ar_node $FROM CLUSTER COUNTKEYSINSLOT "$SLOT1")"
check "c: the ACL user was never refused" "" "$(ar_node $TO ACL LOG)"
ar_stop_app

# --- d) MOVED -----------------------------------------------------------
# One worker connected to the node of {TAG2}; the slot moved away at once
# (its few keys): its next command meets MOVED and follows it.
ar_write_config "redis=cluster://$SEEDS" "key_prefix={$TAG2}:" redis_user=antireplay \
	"redis_password=$RPW" token_rate=0 bind=header:X-User
ar_start_app 1
ar_token HTTP_X_USER=alice
check "d: a token from the node of {$TAG2}" 201 "$AR_STATUS"
TO=$(for n in c1 c2 c3; do [ $n = "$NODE2" ] || { echo $n; break; }; done)
TO_ID=$(ar_node $TO CLUSTER MYID)
TO_PORT=$(eval echo "\$AR_NODE_PORT_$TO")
ar_node $TO CLUSTER SETSLOT "$SLOT2" IMPORTING "$(ar_node $NODE2 CLUSTER MYID)" >/dev/null
ar_node $NODE2 CLUSTER SETSLOT "$SLOT2" MIGRATING "$TO_ID" >/dev/null
keys=$(ar_node $NODE2 CLUSTER GETKEYSINSLOT "$SLOT2" 1000)
# shellcheck disable=SC2086 # keys, one a word
ar_node $NODE2 MIGRATE 127.0.0.1 "$TO_PORT" "" 0 5000 KEYS $keys >/dev/null
for n in c1 c2 c3; do
	ar_node $n CLUSTER SETSLOT "$SLOT2" NODE "$TO_ID" >/dev/null
done
ar_fcgi POST /orders "{\"items\":[{\"sku\":\"A\",\"qty\":1}],\"token\":\"$AR_TOKEN\"}" \
	HTTP_X_USER=alice
check "d: the order with it, once the slot moved: 201" 201 "$AR_STATUS"
check_contains "d: the worker followed MOVED" "MOVED to 127.0.0.1:$TO_PORT" \
	"$(cat "$AR_TMP/app.log")"
check "d: the order is on $TO" 1 "$(ar_node $TO EXISTS "{$TAG2}:order:$(ar_json_get order_id)")"
ar_stop_app
ar_done
