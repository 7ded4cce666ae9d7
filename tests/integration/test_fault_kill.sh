#!/bin/sh
# test_fault_kill: Redis killed with SIGKILL, twice, while 8 clients order.
# Each client takes a fresh token per order and retries every 503 or
# missing answer with the same token until it gets a final answer (bounded
# retries). Redis comes back on the same AOF (appendfsync always). Then the
# exact accounting: every order a client saw exists in Redis and is in the
# stream exactly once, stock + ordered quantities = the starting stock, no
# token produced two orders, the created counter agrees; the workers (same
# PIDs) survived both crashes.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/lib/faults.sh"

ar_require "$CGI_FCGI"
ar_setup
ar_start_redis "appendonly yes" "appendfsync always"
check "redis: appendfsync always" "appendfsync always" \
	"$(ar_redis CONFIG GET appendfsync | tr '\n' ' ' | sed 's/ $//')"
ar_write_config redis_timeout_ms=300 token_rate=0 log_level=info
ar_start_app 4
PIDS0=$AR_APP_PIDS

FA0=100000
FB0=50000
ar_fault_stock $FA0 $FB0

D=$AR_TMP/kill
mkdir -p "$D"
CLIENTS=8
pids=""
c=1
while [ $c -le $CLIENTS ]; do
	ar_order_client "$D" $c 200 &
	pids="$pids $!"
	c=$((c + 1))
done

# How many 503s the clients got.
outage_answers() {
	cat "$D"/*.log | awk '$4 == 503' | wc -l
}
# shellcheck disable=SC2317 # called through ar_wait_until
outage_seen() { # a client met the outage: more 503s than $1
	[ "$(outage_answers)" -gt "$1" ]
}

# Two crashes, each a short outage, under load: each comes once the clients
# have placed a few more orders (load is flowing), and Redis comes back once
# a client has met the outage (a 503). Each wait is bounded (60 s), far more
# than a slow machine needs.
n=0
for crash in 1 2; do
	ar_wait_until 600 ar_orders_beyond $((n + 4)) ||
		echo "# crash $crash: the stream did not grow past $((n + 4)) orders in 60 s"
	n=$(ar_xlen)
	seen=$(outage_answers)
	t0=$(ar_now_ms)
	ar_kill_redis
	ar_wait_until 600 outage_seen "$seen" || echo "# crash $crash: no client met the outage in 60 s"
	ar_launch_redis
	dt=$(($(ar_now_ms) - t0))
	echo "# crash $crash: SIGKILL with $n orders in the stream, Redis answering again after $dt ms"
	n=$(ar_xlen)
done
# Orders flow again after the second crash before the clients stop.
ar_wait_until 600 ar_orders_beyond $((n + 4)) ||
	echo "# after the crashes: the stream did not grow past $((n + 4)) orders in 60 s"
: >"$D/stop"
t0=$(ar_now_ms)
wait $pids
echo "# clients finished $(($(ar_now_ms) - t0)) ms after the stop"

ar_fault_account "$D" $FA0 $FB0 "SIGKILL x2"
if [ "$_s503" -gt 0 ]; then ok "the crashes hit the clients ($_s503 answers 503, retried)"; else not_ok "no client met a 503: the crashes missed the load"; fi

check_alive "the 4 workers survived both crashes (same PIDs)" $PIDS0
ar_fcgi GET /healthz
check "healthz after the crashes" 200 "$AR_STATUS"
echo "# 503 lines in the app log: $(grep -c ' 503 ' "$AR_TMP/app.log")"
ar_done
