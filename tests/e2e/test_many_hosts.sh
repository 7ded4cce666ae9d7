#!/bin/sh
# e2e, many app hosts on one Redis: two pools stand in for two hosts, each
# with its own config file and log: host A on a unix socket (the front's
# own machine), host B on a 127.0.0.1 TCP port (another machine), both
# spawn-fcgi -F 2. One private nginx in front of both:
# conf/nginx/antireplay-upstream.conf (http level) and antireplay.conf
# with "fastcgi_pass antireplay;", as shipped but for the addresses.
#
# a) straight to each host (cgi-fcgi): a token issued on one host is used
#    on the other, its replay and a duplicate are recognised there, one
#    token sent to both hosts at once makes one order, token_rate counts
#    one client across both, the gate's use on one is a duplicate on the
#    other, /metrics is the same on both.
# b) through nginx: round robin over both, the same guarantees.
# c) host B's clock 2 h ahead, for real (libfaketime preloaded into its
#    workers): every token, order and gate request it sends is refused
#    (500 internal_error), its log says "clock skew" with both clocks,
#    Redis holds nothing it wrote, host A goes on working.
# d) a skew within the bound (token_ttl = 600: W = 75 s, 37 s allowed,
#    src/keyspace.c keyspace_max_skew) is accepted both ways, 35 s ahead
#    and behind; 40 s ahead is refused.
# e) host B with FCGI_WEB_SERVER_ADDRS naming another address: our
#    connection dropped. Host B's pool down: one 502, then nginx sends
#    everything to A.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/lib/front.sh"
. "$top_srcdir/tests/e2e/nginx.sh"
. "$top_srcdir/tests/e2e/http.sh"

# FAKETIME_BIN, not FAKETIME: libfaketime reads FAKETIME as the time to fake.
: "${FAKETIME_BIN:=$(command -v faketime || true)}"
ar_require "$NGINX" "$CURL" "$JQ" "$CGI_FCGI" "$FAKETIME_BIN"
ar_setup

# The library faketime preloads, as the faketime program names it
# (/usr/$LIB/faketime/libfaketime.so.1 on Debian: the dynamic linker fills
# in $LIB). The program itself is no wrapper here: it forks and waits, so
# spawn-fcgi's PID would be faketime's and not the worker's; env execs.
# shellcheck disable=SC2016 # expanded by the shell faketime runs
MH_FAKETIME_LIB=$(env -u FAKETIME "$FAKETIME_BIN" -f +0 /bin/sh -c 'printf %s "$LD_PRELOAD"')
[ -n "$MH_FAKETIME_LIB" ] || { echo "# $FAKETIME_BIN sets no LD_PRELOAD"; exit 1; }
echo "# libfaketime: $MH_FAKETIME_LIB"
# A sanitizer build (configure --enable-sanitizers) under libfaketime:
# AddressSanitizer's allocator reads CLOCK_MONOTONIC while it holds its
# lock (the first allocation of each size, to time releasing memory to the
# OS), libfaketime's clock_gettime then looks up the real one with dlsym,
# which allocates: the worker hangs before it serves. With the release to
# the OS off ASan never asks the clock there. verify_asan_link_order=0: a
# gcc build, whose libasan would otherwise refuse to come after
# libfaketime. Ignored by a build without ASan.
MH_ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}allocator_release_to_os_interval_ms=-1:verify_asan_link_order=0"

AR_BASE=/api
# DEBUG DIGEST (a hash of the whole data set) over the private socket.
ar_start_redis "enable-debug-command local"
ar_redis SET ar:stock:SKU-1 100 >/dev/null
ar_redis SET ar:stock:SKU-2 100 >/dev/null
# token_ttl 600 (the default) named here: the skew bound below follows it.
ar_write_config base_path=$AR_BASE bind=header:X-Client token_rate=3 token_ttl=600 \
	redis_timeout_ms=1500
cp "$AR_TMP/antireplay.conf" "$AR_TMP/a.conf"
cp "$AR_TMP/antireplay.conf" "$AR_TMP/b.conf"
MH_SKEW_MAX=37

# mh_spawn NAME WRAPPER SPAWN-FCGI-LISTEN-ARGS...: a pool of 2 workers with
# NAME.conf, logging to NAME.log, each worker run as "WRAPPER app"; their
# PIDs in NAME.pid. Fails as spawn-fcgi does (its stderr in NAME.err).
mh_spawn() {
	ms_name=$1 ms_wrap=$2
	shift 2
	rm -f "$AR_TMP/$ms_name.pid"
	"$SPAWN_FCGI" "$@" -F 2 -P "$AR_TMP/$ms_name.pid" \
		-- /bin/sh -c "exec $ms_wrap '$ANTIREPLAY_BIN' -c '$AR_TMP/$ms_name.conf' 2>>'$AR_TMP/$ms_name.log'" \
		>/dev/null 2>"$AR_TMP/$ms_name.err"
}

# mh_started NAME: the pool's workers (in MH_PIDS) tracked, each waiting
# in accept().
mh_started() {
	MH_PIDS=$(tr '\n' ' ' <"$AR_TMP/$1.pid")
	[ -n "$MH_PIDS" ] || { echo "# host $1: no worker PIDs"; exit 1; }
	for pid in $MH_PIDS; do ar_track "$pid"; done
	# shellcheck disable=SC2086 # a list of PIDs
	ar_wait_accepting $MH_PIDS
}

# Host A: a unix socket, as the front's own pool.
: >"$AR_TMP/a.log"
mh_spawn a "" -s "$AR_TMP/a.sock" -M 0666 || {
	echo "# host A: spawn-fcgi failed"
	cat "$AR_TMP/a.err"
	exit 1
}
ar_wait_socket "$AR_TMP/a.sock" || { echo "# host A: no socket"; exit 1; }
mh_started a
MH_PIDS_a=$MH_PIDS
SOCK_A=$AR_TMP/a.sock

# Host B: 127.0.0.1:PORT, libfcgi taking connections from MH_B_PEERS only
# (FCGI_WEB_SERVER_ADDRS, docs/security.md). mh_start_b [OFFSET]:
# (re)starts it on the same port, with a fresh log, under libfaketime when
# OFFSET (FAKETIME, such as +2h, -35) is given. The first call picks a free
# port (at most 20 derived from the PID); spawn-fcgi sets SO_REUSEADDR, so
# a restart gets the same one back.
MH_PORT_B=""
MH_B_PEERS=127.0.0.1
mh_start_b() {
	sb_wrap="env FCGI_WEB_SERVER_ADDRS=$MH_B_PEERS"
	[ -z "${1:-}" ] ||
		sb_wrap="$sb_wrap ASAN_OPTIONS='$MH_ASAN_OPTIONS' LD_PRELOAD='$MH_FAKETIME_LIB' FAKETIME='$1' FAKETIME_DONT_FAKE_MONOTONIC=1"
	: >"$AR_TMP/b.log"
	if [ -n "$MH_PORT_B" ]; then
		mh_spawn b "$sb_wrap" -a 127.0.0.1 -p "$MH_PORT_B" || {
			echo "# host B: spawn-fcgi on port $MH_PORT_B failed again:"
			sed 's/^/#   /' "$AR_TMP/b.err"
			exit 1
		}
	else
		sb_try=0
		while :; do
			MH_PORT_B=$((20000 + ($$ * 31 + sb_try * 997 + 700) % 30000))
			sb_try=$((sb_try + 1))
			mh_spawn b "$sb_wrap" -a 127.0.0.1 -p "$MH_PORT_B" && break
			if [ $sb_try -ge 20 ] || ! grep -q 'Address already in use' "$AR_TMP/b.err"; then
				echo "# host B: spawn-fcgi on 127.0.0.1 failed:"
				sed 's/^/#   /' "$AR_TMP/b.err"
				exit 1
			fi
		done
	fi
	mh_started b
	MH_PIDS_b=$MH_PIDS
	SOCK_B=127.0.0.1:$MH_PORT_B
}

mh_stop_b() {
	for pid in $MH_PIDS_b; do kill "$pid" 2>/dev/null; done
	for pid in $MH_PIDS_b; do ar_stop_pid "$pid" 0 600; done
	MH_PIDS_b=""
}

mh_start_b
echo "# host A: $SOCK_A (pids $MH_PIDS_a), host B: $SOCK_B (pids $MH_PIDS_b)"

# on_a / on_b: the requests that follow go straight to that host.
on_a() { AR_APP_SOCK=$SOCK_A; }
on_b() { AR_APP_SOCK=$SOCK_B; }

# mh_order TOKEN CLIENT [BODY]: POST /orders on the current host.
MH_ORDER='{"items":[{"sku":"SKU-1","qty":2}],"customer":"Ada"}'
mh_order() {
	ar_fcgi POST "$AR_BASE/orders" "${3:-$MH_ORDER}" HTTP_X_CLIENT="$2" HTTP_IDEMPOTENCY_KEY="$1"
}

# mh_gate URI CLIENT TOKEN: the gate request as nginx's auth_request sends
# it (conf/nginx/antireplay-gate.conf: ANTIREPLAY_GATE 1, no body).
mh_gate() {
	ar_fcgi POST "$1" "" ANTIREPLAY_GATE=1 HTTP_X_CLIENT="$2" HTTP_IDEMPOTENCY_KEY="$3"
}

# mh_token CLIENT: POST /tokens on the current host; MH_ISSUED counts the
# tokens issued (201) for the /metrics check.
MH_ISSUED=0
mh_token() {
	ar_token HTTP_X_CLIENT="$1"
	[ "$AR_STATUS" != 201 ] || MH_ISSUED=$((MH_ISSUED + 1))
}

#### a) straight to each host ################################################
on_a
mh_token alice
T1=$AR_TOKEN
check "host A issues a token" 201 "$AR_STATUS"
on_b
mh_order "$T1" alice
check "host A's token, used on host B: 201" 201 "$AR_STATUS"
ORDER1=$(ar_json_get order_id)
check_match "... an order id derived from the token (v5)" "$AR_UUID5_RE" "$ORDER1"
check "... its Location" "$AR_BASE/orders/$ORDER1" "$(ar_header Location)"
cp "$AR_BODY_FILE" "$AR_TMP/order1.body"
check "the stock moved" 98 "$(ar_stock SKU-1)"
on_a
mh_order "$T1" alice
check "the same order again, on host A: replayed, 201" "201 true" \
	"$AR_STATUS $(ar_header Idempotent-Replayed)"
if cmp -s "$AR_TMP/order1.body" "$AR_BODY_FILE"; then
	ok "... host A's replay is host B's body, byte for byte"
else
	not_ok "... host A's replay differs: '$AR_BODY' vs '$(cat "$AR_TMP/order1.body")'"
fi
check "... with the same Location" "$AR_BASE/orders/$ORDER1" "$(ar_header Location)"
ar_fcgi GET "$AR_BASE/orders/$ORDER1" "" HTTP_X_CLIENT=alice
if [ "$AR_STATUS" = 200 ] && cmp -s "$AR_TMP/order1.body" "$AR_BODY_FILE"; then
	ok "GET /orders/{id} on host A: the order host B made"
else
	not_ok "GET /orders/$ORDER1 on host A: $AR_STATUS $AR_BODY"
fi
mh_order "$T1" alice '{"items":[{"sku":"SKU-1","qty":5}]}'
check_error "the token with another payload, on host A" 422 token_reused
on_b
mh_order "$T1" bob
check_error "the token from another client, on host B" 422 invalid_token
check "the stock moved once" 98 "$(ar_stock SKU-1)"
check "one order in the stream" 1 "$(ar_xlen)"

# One token, 10 submissions at once, 5 to each host: one order, 10 equal
# bodies, one of them not a replay.
on_b
mh_token carol
T2=$AR_TOKEN
pids=""
i=0
while [ $i -lt 10 ]; do
	if [ $((i % 2)) -eq 0 ]; then sock=$SOCK_A; else sock=$SOCK_B; fi
	(
		AR_APP_SOCK=$sock
		ar_fcgi_to "$AR_TMP/storm.$i" POST "$AR_BASE/orders" "$MH_ORDER" \
			HTTP_X_CLIENT=carol HTTP_IDEMPOTENCY_KEY="$T2"
	) &
	pids="$pids $!"
	i=$((i + 1))
done
for p in $pids; do wait "$p"; done
statuses="" fresh=0 differ=0
i=0
while [ $i -lt 10 ]; do
	ar_parse "$AR_TMP/storm.$i"
	statuses="$statuses $AR_STATUS"
	[ -n "$(ar_header Idempotent-Replayed)" ] || fresh=$((fresh + 1))
	cmp -s "$AR_TMP/storm.0.body" "$AR_TMP/storm.$i.body" || differ=$((differ + 1))
	i=$((i + 1))
done
check "one token sent 5 times to each host at once: 10 x 201" \
	" 201 201 201 201 201 201 201 201 201 201" "$statuses"
check "... one made the order, 9 replayed it" 1 "$fresh"
check "... all 10 bodies the same" 0 "$differ"
check "... the stock moved once" 96 "$(ar_stock SKU-1)"
check "... one more order in the stream" 2 "$(ar_xlen)"

# token_rate = 3 for one client, counted across both hosts.
on_a
mh_token rl
r1=$AR_STATUS
mh_token rl
r2=$AR_STATUS
on_b
mh_token rl
check "token_rate 3: two tokens on host A and one on host B" "201 201 201" "$r1 $r2 $AR_STATUS"
mh_token rl
check_error "the fourth, on host B" 429 rate_limited
check_match "... with Retry-After" '^[1-9][0-9]?$' "$(ar_header Retry-After)"
on_a
mh_token rl
check_error "the fifth, on host A" 429 rate_limited
check "one counter in Redis for the client, both hosts' requests in it" 5 \
	"$(ar_redis GET ar:rate:i:rl)"
mh_token rl2
check "another client, on host A: still 201" 201 "$AR_STATUS"

# The gate: a token issued on B, used at the gate on A, is a duplicate on
# B; on another path it is token_reused; as an order, token_reused.
on_b
mh_token gary
T3=$AR_TOKEN
on_a
mh_gate /shop/checkout.php gary "$T3"
check "gate on host A, host B's token: allowed" "200 $T3" \
	"$AR_STATUS $(ar_header X-Antireplay-Key)"
on_b
mh_gate /shop/checkout.php gary "$T3"
check "the same request at the gate on host B: 403 with 409 duplicate_request" \
	"403 409 duplicate_request" \
	"$AR_STATUS $(ar_header X-Antireplay-Status) $(ar_header X-Antireplay-Error)"
mh_gate /shop/other.php gary "$T3"
check "another path at the gate on host B: 403 with 422 token_reused" \
	"403 422 token_reused" \
	"$AR_STATUS $(ar_header X-Antireplay-Status) $(ar_header X-Antireplay-Error)"
mh_order "$T3" gary
check_error "the gate's token as an order on host B" 422 token_reused

# /metrics: the counters live in Redis, so both hosts show the same, and
# they count what both hosts did.
on_a
ar_fcgi GET "$AR_BASE/metrics"
cp "$AR_BODY_FILE" "$AR_TMP/metrics.a"
on_b
ar_fcgi GET "$AR_BASE/metrics"
if [ "$AR_STATUS" = 200 ] && cmp -s "$AR_TMP/metrics.a" "$AR_BODY_FILE"; then
	ok "/metrics: the same body on host A and host B"
else
	not_ok "/metrics differs between the hosts: $(diff "$AR_TMP/metrics.a" "$AR_BODY_FILE" | tr '\n' ' ')"
fi
check "/metrics: tokens issued on both hosts" "$MH_ISSUED" "$(ar_metric antireplay_tokens_issued_total)"
check "/metrics: rate limited on both hosts" 2 "$(ar_metric antireplay_rate_limited_total)"
check "/metrics: submissions created, replayed, token_reused, invalid_token" "2 10 2 1" \
	"$(ar_metric 'antireplay_submissions_total{outcome="created"}') $(
		ar_metric 'antireplay_submissions_total{outcome="replayed"}') $(
		ar_metric 'antireplay_submissions_total{outcome="token_reused"}') $(
		ar_metric 'antireplay_submissions_total{outcome="invalid_token"}')"
check "/metrics: gate allowed, duplicate, token_reused" "1 1 1" \
	"$(ar_metric 'antireplay_gate_total{outcome="allowed"}') $(
		ar_metric 'antireplay_gate_total{outcome="duplicate"}') $(
		ar_metric 'antireplay_gate_total{outcome="token_reused"}')"

#### b) through nginx ########################################################
# The upstream as shipped, its two servers replaced by the two hosts; the
# access log names the host (upstream address) that answered each request.
ar_snippet "$top_srcdir/conf/nginx/antireplay-upstream.conf" \
	unix:/run/antireplay/antireplay.sock "unix:$SOCK_A" \
	10.0.0.22:9000 "$SOCK_B" >"$AR_TMP/upstream.conf" || exit 1
cat >>"$AR_TMP/upstream.conf" <<EOF
log_format antireplay_hosts '\$upstream_addr \$status \$request_method \$uri';
access_log $AR_TMP/hosts.log antireplay_hosts;
EOF
AR_NGINX_HTTP_EXTRA=$AR_TMP/upstream.conf
AR_NGINX_PASS=antireplay
ar_start_nginx "$AR_BASE"
echo "# nginx $AR_NGINX_PORT (pid $AR_NGINX_PID)"
check "the snippet's fastcgi_pass lines (/api/ and /api/order-form) name the upstream" 2 \
	"$(grep -c '^ *fastcgi_pass antireplay;$' "$AR_NGINX_DIR/antireplay.conf")"
HOST_A="unix:$SOCK_A"
HOST_B=$SOCK_B

# mh_served FROM: the hosts that answered the requests logged from line
# FROM of hosts.log on, as "A B A ..." (? for any other address).
mh_served() {
	tail -n "+$1" "$AR_TMP/hosts.log" | while read -r addr _rest; do
		case $addr in
		"$HOST_A") echo A ;;
		"$HOST_B") echo B ;;
		*) echo '?' ;;
		esac
	done | tr '\n' ' ' | sed 's/ $//'
}
mh_log_next() {
	echo $(($(wc -l <"$AR_TMP/hosts.log") + 1))
}

# nginx writes its access log line after the response: wait until it has
# N lines (at most 10 s).
mh_log_lines() {
	[ "$(wc -l <"$AR_TMP/hosts.log" 2>/dev/null || echo 0)" -ge "$1" ]
}

# token_rate across the hosts, through nginx.
: >"$AR_TMP/hosts.log"
codes=""
i=0
while [ $i -lt 4 ]; do
	ar_http POST "$AR_BASE/tokens" -H 'X-Client: nina'
	codes="$codes $H_STATUS"
	[ "$H_STATUS" != 201 ] || NT=$(h_json .token)
	i=$((i + 1))
done
ar_wait_until 100 mh_log_lines 4
check "through nginx: 3 tokens for one client, the 4th 429" " 201 201 201 429" "$codes"
served=$(mh_served 1)
check "... nginx took turns between the hosts" "A B A B" "$served"

# A token through nginx, the order through nginx, its replay through nginx:
# the order and the replay land on different hosts.
from=$(mh_log_next)
ar_http POST "$AR_BASE/orders" -H 'X-Client: nina' -H "Idempotency-Key: $NT" \
	-H 'Content-Type: application/json' --data-binary "$MH_ORDER"
check_status "through nginx: an order" 201
cp "$AR_TMP/http.body" "$AR_TMP/order2.body"
ar_http POST "$AR_BASE/orders" -H 'X-Client: nina' -H "Idempotency-Key: $NT" \
	-H 'Content-Type: application/json' --data-binary "$MH_ORDER"
if [ "$H_STATUS" = 201 ] && [ "$(h_header Idempotent-Replayed)" = true ] &&
	cmp -s "$AR_TMP/order2.body" "$AR_TMP/http.body"; then
	ok "through nginx: its replay, the same body"
else
	not_ok "through nginx: the replay: $H_STATUS $H_BODY"
fi
ar_wait_until 100 mh_log_lines $((from + 1))
served=$(mh_served "$from")
case $served in
"A B" | "B A") ok "... the order and its replay came from different hosts ($served)" ;;
*) not_ok "... the order and its replay came from: '$served'" ;;
esac

# A storm of one token through nginx: one order.
on_a
mh_token olga
T4=$AR_TOKEN
stock=$(ar_stock SKU-1)
from=$(mh_log_next)
pids=""
i=0
while [ $i -lt 10 ]; do
	"$CURL" -s -m 60 -o "$AR_TMP/nstorm.$i.body" -D "$AR_TMP/nstorm.$i.head" -w '%{http_code}' \
		-H 'X-Client: olga' -H "Idempotency-Key: $T4" -H 'Content-Type: application/json' \
		--data-binary "$MH_ORDER" "$AR_URL$AR_BASE/orders" >"$AR_TMP/nstorm.$i.code" 2>/dev/null &
	pids="$pids $!"
	i=$((i + 1))
done
for p in $pids; do wait "$p"; done
codes="" fresh=0 differ=0
i=0
while [ $i -lt 10 ]; do
	codes="$codes $(cat "$AR_TMP/nstorm.$i.code")"
	tr -d '\r' <"$AR_TMP/nstorm.$i.head" | grep -qix 'Idempotent-Replayed: true' || fresh=$((fresh + 1))
	cmp -s "$AR_TMP/nstorm.0.body" "$AR_TMP/nstorm.$i.body" || differ=$((differ + 1))
	i=$((i + 1))
done
check "through nginx: one token 10 times at once, 10 x 201" \
	" 201 201 201 201 201 201 201 201 201 201" "$codes"
check "... one order, 9 replays, all the same body" "1 0" "$fresh $differ"
check "... the stock moved once" $((stock - 2)) "$(ar_stock SKU-1)"
ar_wait_until 100 mh_log_lines $((from + 9))
served=$(mh_served "$from")
check "... both hosts answered: 5 each" "5 5" \
	"$(echo "$served" | tr ' ' '\n' | grep -c '^A$') $(echo "$served" | tr ' ' '\n' | grep -c '^B$')"

#### c) host B's clock 2 h ahead ##############################################
mh_stop_b
mh_start_b +2h
echo "# host B again, under libfaketime +2h: pids $MH_PIDS_b"
# A fresh Redis state, so nothing expires while it is compared.
ar_redis FLUSHALL >/dev/null
ar_redis SET ar:stock:SKU-1 100 >/dev/null
on_a
mh_token sam
T5=$AR_TOKEN
check "host A issues a token" 201 "$AR_STATUS"
before_digest=$(ar_redis DEBUG DIGEST)
before_keys=$(ar_redis DBSIZE)
check_match "Redis's digest is taken" '^[0-9a-f]{40}$' "$before_digest"

on_b
mh_token sam
check_error "host B (2 h ahead): POST /tokens" 500 internal_error
mh_token sam
check_error "host B: POST /tokens again" 500 internal_error
mh_order "$T5" sam
check_error "host B: POST /orders with host A's token" 500 internal_error
mh_gate /shop/checkout.php sam "$T5"
check "host B: the gate, 403 carrying the 500" "403 500 internal_error" \
	"$AR_STATUS $(ar_header X-Antireplay-Status) $(ar_header X-Antireplay-Error)"
ar_fcgi GET "$AR_BASE/stock/SKU-1"
check "host B: reading the stock still works (no clock in it)" "200 100" \
	"$AR_STATUS $(ar_json_get available)"
# What conf/nginx/antireplay-upstream.conf warns of: the health check does
# not look at the clock, so nothing takes such a host out of the rotation.
ar_fcgi GET "$AR_BASE/healthz"
check "host B: /healthz still 200 (it checks Redis, not the clock)" 200 "$AR_STATUS"
check "Redis: the same data set (DEBUG DIGEST) after host B's refused requests" \
	"$before_digest $before_keys" "$(ar_redis DEBUG DIGEST) $(ar_redis DBSIZE)"
check "Redis: the stock as it was, no order" "100 0" "$(ar_stock SKU-1) $(ar_xlen)"
check "Redis: host A's token still unused, the only one" "1 1" \
	"$(ar_pending "$T5" | wc -l | tr -d ' ') $(ar_pending_count)"

# Host B's log: one line per refusal, with both clocks, 2 h apart.
skew_lines=$(grep -c 'clock skew: this host says [0-9]*, Redis says [0-9]* (more than '"$MH_SKEW_MAX"' s apart); fix NTP' \
	"$AR_TMP/b.log")
check "host B's log: a clock skew error for each of the 4 refusals" 4 "$skew_lines"
check "... naming issue_token, submit_order and the gate" "2 1 1" \
	"$(grep -c 'issue_token failed: ERR clock skew' "$AR_TMP/b.log") $(
		grep -c 'submit_order failed: ERR clock skew' "$AR_TMP/b.log") $(
		grep 'clock skew' "$AR_TMP/b.log" | grep -vc 'issue_token\|submit_order')"
line=$(grep -m 1 'clock skew' "$AR_TMP/b.log")
echo "# host B's log: $line"
host_says=$(printf '%s' "$line" | sed -n 's/.*this host says \([0-9]*\), Redis says \([0-9]*\) .*/\1/p')
redis_says=$(printf '%s' "$line" | sed -n 's/.*this host says \([0-9]*\), Redis says \([0-9]*\) .*/\2/p')
diff_s=$((${host_says:-0} - ${redis_says:-0}))
if [ "$diff_s" -ge 7199 ] && [ "$diff_s" -le 7201 ]; then
	ok "... host B's clock 2 h ahead of Redis's ($diff_s s)"
else
	not_ok "... the clocks in the line are $diff_s s apart, not 7200: $line"
fi
check "... and host A's log has none" 0 "$(grep -c 'clock skew' "$AR_TMP/a.log")"

# Host A goes on: the token host B could not use makes its order there, and
# B's refusals spent none of the client's token_rate (3: 1 + 2 more).
on_a
mh_order "$T5" sam
check "host A: the token host B failed on makes the order" 201 "$AR_STATUS"
check "... the stock moved once" 98 "$(ar_stock SKU-1)"
mh_token sam
r1=$AR_STATUS
mh_token sam
check "host A: the client's two other tokens (B spent none of its budget)" "201 201" \
	"$r1 $AR_STATUS"

# Through nginx: host B's share is 500, host A's 201.
from=$(mh_log_next)
body500=""
i=0
while [ $i -lt 4 ]; do
	ar_http POST "$AR_BASE/tokens" -H "X-Client: skew$i"
	[ "$H_STATUS" != 500 ] || body500=$H_BODY
	i=$((i + 1))
done
ar_wait_until 100 mh_log_lines $((from + 3))
pairs=$(tail -n "+$from" "$AR_TMP/hosts.log" | while read -r addr st _rest; do
	case $addr in
	"$HOST_A") echo "A$st" ;;
	"$HOST_B") echo "B$st" ;;
	*) echo "?$st" ;;
	esac
done | sort | tr '\n' ' ')
check "through nginx, 4 token requests: host A's 2 answers 201, host B's 2 500" \
	"A201 A201 B500 B500 " "$pairs"
check "... the client gets the JSON error" '{"error":"internal_error","message":"internal error"}' \
	"$body500"

#### d) a skew within the bound ##############################################
# 35 s is as near 37 as is safe: the script compares whole seconds of the
# host's clock, read just before the call, with Redis's, read as it runs,
# less than redis_timeout_ms (1.5 s) later: 35 s apart is seen as 33 to 37.
# 40 s is seen as 38 to 40.
# mh_skew_ok OFFSET: host B restarted OFFSET off; a token from each host
# used on the other.
mh_skew_ok() {
	mh_stop_b
	mh_start_b "$1"
	on_b
	mh_token "k$1"
	tb=$AR_TOKEN sb=$AR_STATUS
	on_a
	mh_order "$tb" "k$1" '{"items":[{"sku":"SKU-2","qty":1}]}'
	ob=$AR_STATUS
	mh_token "k$1"
	ta=$AR_TOKEN sa=$AR_STATUS
	on_b
	mh_order "$ta" "k$1" '{"items":[{"sku":"SKU-2","qty":1}]}'
	now=$(date +%s)
	check "host B $1 s off (within $MH_SKEW_MAX s): its token, used on A; A's, used on B" \
		"201 201 201 201" "$sb $ob $sa $AR_STATUS"
	check "... no clock skew in host B's log" 0 "$(grep -c 'clock skew' "$AR_TMP/b.log")"
	# created_at is the host's clock: B's is off by OFFSET (less the
	# seconds since the order was made).
	stamp=$(date -u -d "$(ar_json_get created_at)" +%s 2>/dev/null || echo 0)
	off=$((stamp - now))
	if [ "$off" -ge $(($1 - 5)) ] && [ "$off" -le $(($1 + 1)) ]; then
		ok "... host B's order is stamped by its clock, ${off} s off"
	else
		not_ok "... host B's order is stamped $off s from now, not about $1: $AR_BODY"
	fi
}
ar_redis SET ar:stock:SKU-2 100 >/dev/null
mh_skew_ok +35
mh_skew_ok -35
check "the stock moved 4 times" 96 "$(ar_stock SKU-2)"

mh_stop_b
mh_start_b +40
on_b
mh_token k40
check_error "host B 40 s ahead (beyond $MH_SKEW_MAX s): POST /tokens" 500 internal_error
check_match "... its log says so" "clock skew: this host says [0-9]+, Redis says [0-9]+ \(more than $MH_SKEW_MAX s apart\)" \
	"$(grep 'clock skew' "$AR_TMP/b.log")"

#### e) host B refusing the front, then down ###############################
# FCGI_WEB_SERVER_ADDRS naming another address (what the upstream snippet
# has a remote pool set to its front's): libfcgi drops our connection.
mh_stop_b
MH_B_PEERS=127.0.0.2
mh_start_b
on_b
ar_fcgi GET "$AR_BASE/healthz"
check "host B taking 127.0.0.2 only (FCGI_WEB_SERVER_ADDRS): a request from 127.0.0.1 gets nothing" \
	000 "$AR_STATUS"
# shellcheck disable=SC2086 # a list of PIDs
check_alive "... and its workers go on" $MH_PIDS_b

mh_stop_b
from=$(mh_log_next)
codes=""
i=0
while [ $i -lt 6 ]; do
	ar_http_front GET "$AR_BASE/healthz"
	codes="$codes $H_STATUS"
	i=$((i + 1))
done
ar_wait_until 100 mh_log_lines $((from + 5))
n502=$(echo "$codes" | tr ' ' '\n' | grep -c '^502$')
check "host B down: one 502 (the request sent to it), then 200s" "1 5" \
	"$n502 $(echo "$codes" | tr ' ' '\n' | grep -c '^200$')"
check "... every 200 from host A" 5 "$(tail -n "+$from" "$AR_TMP/hosts.log" | grep -c "^$HOST_A 200 ")"
# shellcheck disable=SC2086 # a list of PIDs
check_alive "host A's workers all ran throughout" $MH_PIDS_a
check_every_response

ar_done
