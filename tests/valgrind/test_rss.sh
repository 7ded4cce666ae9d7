#!/bin/sh
# Memory flatness (no valgrind): one worker (spawn-fcgi -F 1) against a
# private Redis serves 100 requests of a mix (stock PUT and GET, token,
# order, replay, GET order, healthz, a 404, a broken body, metrics), then
# 10,000 more of the same mix. Its VmRSS after the 10,100 must be within 5%
# of its VmRSS after the first 100: nothing that a request allocates stays
# behind, reachable or not. Prints both numbers (KiB), RssAnon and the
# request rate. Run by make check-valgrind.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/lib.sh"

: "${PERL:=$(command -v perl || true)}"
: "${AR_RSS_WARMUP:=100}"
: "${AR_RSS_REQUESTS:=10000}"
ar_require "$PERL"
ar_setup
# Whatever make check-valgrind set, this worker runs bare.
AR_APP_WRAPPER="" # read by ar_start_app
export AR_APP_WRAPPER
MIX=$top_srcdir/tests/valgrind/fcgi-mix.pl
ADMIN=rss-admin-token-0123456789

ar_start_redis
# No rate limit (10,000 tokens from one address), no per-request log line.
ar_write_config admin_token=$ADMIN token_rate=0 log_level=warn
ar_start_app 1
pid=$AR_APP_PIDS
case "$pid" in
'' | *[!0-9]*)
	not_ok "one worker PID from spawn-fcgi -P (got '$pid')"
	ar_done
	;;
esac

# rss_kib FIELD: a field of /proc/PID/status in KiB (VmRSS, RssAnon).
rss_kib() {
	awk -v f="$1:" '$1 == f { print $2 }' "/proc/$pid/status"
}

# mix N DESC: N requests of the mix; every answer as expected.
mix() {
	_t0=$(ar_now_ms)
	"$PERL" "$MIX" "$AR_APP_SOCK" mix "$1" "$ADMIN" >"$AR_TMP/mix.out" 2>"$AR_TMP/mix.err"
	_t1=$(ar_now_ms)
	check "$2: every answer as expected" "requests $1 unexpected 0 unanswered 0" \
		"$(cat "$AR_TMP/mix.out")"
	sed 's/^/# /' "$AR_TMP/mix.err" | head -n 5
	MIX_MS=$((_t1 - _t0))
}

mix "$AR_RSS_WARMUP" "the first $AR_RSS_WARMUP requests"
rss1=$(rss_kib VmRSS)
anon1=$(rss_kib RssAnon)
mix "$AR_RSS_REQUESTS" "$AR_RSS_REQUESTS more requests"
rss2=$(rss_kib VmRSS)
anon2=$(rss_kib RssAnon)
total=$((AR_RSS_WARMUP + AR_RSS_REQUESTS))
rate=$((AR_RSS_REQUESTS * 1000 / (MIX_MS > 0 ? MIX_MS : 1)))
echo "# worker $pid: VmRSS ${rss1} KiB after $AR_RSS_WARMUP requests, ${rss2} KiB after $total" \
	"(RssAnon ${anon1} -> ${anon2} KiB)"
echo "# $AR_RSS_REQUESTS requests in $MIX_MS ms ($rate requests/s, one connection each);" \
	"RssAnon growth $(((${anon2:-0} - ${anon1:-0}) * 1024 / AR_RSS_REQUESTS)) bytes per request"

if ar_alive "$pid"; then
	ok "the worker served all $total requests and still runs"
else
	not_ok "the worker $pid died"
fi
if [ -n "$rss1" ] && [ -n "$rss2" ]; then
	diff=$((rss2 - rss1))
	[ "$diff" -ge 0 ] || diff=$((-diff))
	if [ $((diff * 100)) -le $((rss1 * 5)) ]; then
		ok "VmRSS after $total requests (${rss2} KiB) within 5% of after $AR_RSS_WARMUP (${rss1} KiB)"
	else
		not_ok "VmRSS after $total requests (${rss2} KiB) not within 5% of after $AR_RSS_WARMUP (${rss1} KiB)"
	fi
else
	not_ok "no VmRSS in /proc/$pid/status ('$rss1', '$rss2')"
fi
ar_stop_app
ar_done
