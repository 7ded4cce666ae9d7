#!/bin/sh
# e2e: Apache 2.4 with mod_fcgid and conf/apache/antireplay-fcgid.conf as
# shipped (program, config path and prefix substituted): Apache starts and
# supervises the app processes itself. The whole contract driven with curl,
# a process killed with SIGKILL under load, a stuck pool, then a second
# mount point (/shop/api).
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/lib/front.sh"
. "$top_srcdir/tests/e2e/apache.sh"
. "$top_srcdir/tests/e2e/http.sh"
. "$top_srcdir/tests/e2e/scenario.sh"

ar_require "$APACHE2" "$CURL" "$JQ"
ar_require_apache_modules alias fcgid
ar_setup
# At exit, stop Apache first: mod_fcgid then stops the processes it started.
# shellcheck disable=SC2317 # called from the EXIT trap
ar_stop_apache_quietly() {
	[ -z "${AR_APACHE_PID:-}" ] || ar_stop_apache
}
trap 'ar_stop_apache_quietly; ar_cleanup' EXIT

# ar_fcgid_count_ok DESC: mod_fcgid runs between 1 and 4 processes
# (FcgidMaxProcessesPerClass 4).
ar_fcgid_count_ok() {
	n=$(ar_apache_children | wc -w)
	check "$1: 1..4 app processes under mod_fcgid" yes \
		"$([ "$n" -ge 1 ] && [ "$n" -le 4 ] && echo yes || echo "$n")"
}

AR_BASE=/api
ar_start_redis "include $top_srcdir/conf/redis/antireplay-redis.conf"
# max_body below the snippet's FcgidMaxRequestLen (16384) so the app's 413
# and mod_fcgid's 500 both show.
# shellcheck disable=SC2046 # one key=value per word
ar_write_config $(ar_scenario_config) max_body=8192
ar_apache_fcgid_snippet "$AR_BASE" >"$AR_TMP/antireplay-fcgid.conf" || exit 1
ar_start_apache "$AR_TMP/antireplay-fcgid.conf" alias fcgid
echo "# apache2 $AR_APACHE_PORT (pid $AR_APACHE_PID), mod_fcgid starts the app"

check "no app process before the first request (mod_fcgid starts them on demand)" "" \
	"$(ar_apache_children)"

ar_scenario_run

ar_fcgid_count_ok "after the scenario"
# As root Apache runs the app as its User (nobody here, www-data on Debian).
first=$(ar_apache_children | cut -d' ' -f1)
if [ "$(id -u)" -eq 0 ]; then
	check "the app runs as Apache's User" nobody "$(ps -o user= -p "$first" | tr -d ' ')"
fi
# The app's stderr (log = stderr here) lands in Apache's error log.
check_contains "the app's log lines in Apache's error log" "POST orders 201" \
	"$(grep -F 'POST orders 201' "$AR_APACHE_DIR/error.log" | head -n 1)"

# Bodies over max_body: the app's JSON 413; over FcgidMaxRequestLen: a 500
# from mod_fcgid, which never starts the request (with a Content-Length and
# chunked alike). None of them touches the token.
shipped_max=$(sed -n 's/^max_body = //p' "$top_srcdir/conf/antireplay.conf")
fcgid_max=$(sed -n 's/^FcgidMaxRequestLen //p' "$AR_APACHE_FCGID_SRC")
check "FcgidMaxRequestLen ($fcgid_max) at least the shipped max_body ($shipped_max)" yes \
	"$([ "${fcgid_max:-0}" -ge "${shipped_max:-1}" ] && echo yes || echo no)"
sc_token
t=$SC_TOKEN
big=$(printf '%09000d' 0)
sc_order "$t" "{\"items\":[{\"sku\":\"SKU-5\",\"qty\":1}],\"customer\":\"$big\"}"
check_status "a body over max_body: the app's 413" 413 body_too_large
printf '{"items":[{"sku":"SKU-5","qty":1}],"customer":"%020000d"}' 0 >"$AR_TMP/huge.json"
ar_http_front POST "$AR_BASE/orders" -H "Idempotency-Key: $t" \
	-H 'Content-Type: application/json' --data-binary "@$AR_TMP/huge.json"
check "a body over FcgidMaxRequestLen: mod_fcgid's 500" 500 "$H_STATUS"
ar_http_front POST "$AR_BASE/orders" -H "Idempotency-Key: $t" \
	-H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' \
	--data-binary "@$AR_TMP/huge.json"
check "a chunked body over FcgidMaxRequestLen: mod_fcgid's 500" 500 "$H_STATUS"
check_contains "mod_fcgid logs why" "exceeds MaxRequestLen" \
	"$(grep -F 'exceeds MaxRequestLen' "$AR_APACHE_DIR/error.log" | head -n 1)"
sc_order "$t" '{"items":[{"sku":"SKU-5","qty":1}]}'
check_status "the token still works after the 413 and the 500s" 201

check_every_response
check "no mod_fcgid errors in Apache's error log" "" \
	"$(grep -E '\[fcgid:(error|crit|alert)\]' "$AR_APACHE_DIR/error.log" | head -n 3)"

# SIGKILL under load (6 clients in a loop): first one app process, then all
# that are left. mod_fcgid only starts processes on demand: after the first
# kill the others may carry the load alone; after the second it must start
# new ones. Each time only a request in flight on a killed process may fail
# (mod_fcgid retries a request whose connect to a dead process fails).
load_dir=$AR_TMP/load
mkdir -p "$load_dir"
rm -f "$load_dir/stop"
load_pids=""
for c in 1 2 3 4 5 6; do
	(
		n=0
		while [ ! -f "$load_dir/stop" ] && [ $n -lt 5000 ]; do
			"$CURL" -s -o /dev/null -m 20 -w '%{http_code}\n' "$AR_URL$AR_BASE/healthz"
			n=$((n + 1))
		done
	) >"$load_dir/$c.codes" 2>/dev/null &
	load_pids="$load_pids $!"
done
# ar_load_mark: the number of answers so far, per client.
ar_load_mark() {
	for c in 1 2 3 4 5 6; do wc -l <"$load_dir/$c.codes"; done | tr '\n' ' '
}
# ar_load_failed [MARK]: failed answers (after MARK).
ar_load_failed() {
	c=1
	for m in ${1:-0 0 0 0 0 0}; do
		tail -n +"$((m + 1))" "$load_dir/$c.codes"
		c=$((c + 1))
	done | grep -cv '^200$'
}
# ar_load_grown MARK N: every client has N answers more than MARK.
ar_load_grown() {
	c=1
	for m in $1; do
		[ "$(wc -l <"$load_dir/$c.codes")" -ge $((m + $2)) ] || return 1
		c=$((c + 1))
	done
}
# shellcheck disable=SC2317 # called through ar_wait_until
ar_fcgid_at_least() {
	[ "$(ar_apache_children | wc -w)" -ge "$1" ]
}
# mod_fcgid starts processes one by one as the load asks for them: wait
# (up to 60 s, a slow machine) for a second one.
ar_wait_until 600 ar_fcgid_at_least 2
sleep 0.5
before=$(ar_apache_children)
victim=$(echo "$before" | cut -d' ' -f1)
kill -9 "$victim"
sleep 1
failed1=$(ar_load_failed)
rest=""
for pid in $(ar_apache_children); do
	[ "$pid" = "$victim" ] || rest="$rest${rest:+ }$pid"
done
check "kill -9 one process: service goes on ($(echo "$rest" | wc -w) left)" yes \
	"$([ -n "$rest" ] && echo yes || echo no)"
check "kill -9 one process: at most its request in flight failed" yes \
	"$([ "$failed1" -le 1 ] && echo yes || echo "$failed1 failed")"

# A request in flight at this kill is the first answer after mark0 of its
# client; it may fail (counted below against the killed processes).
mark0=$(ar_load_mark)
# shellcheck disable=SC2086 # a list of PIDs
kill -9 $rest
t_kill=$(ar_now_ms)
new=""
i=0
while [ -z "$new" ] && [ $i -lt 600 ]; do
	for pid in $(ar_apache_children); do
		case " $before $rest " in *" $pid "*) ;; *) new=$pid ;; esac
	done
	[ -n "$new" ] || sleep 0.1
	i=$((i + 1))
done
t_new=$(ar_now_ms)
# Per client: the answers so far, and at least the one in flight at the kill.
mark=$(printf '%s|%s\n' "$mark0" "$(ar_load_mark)" | awk -F'|' '{
	n = split($1, a, " "); split($2, b, " ")
	for (i = 1; i <= n; i++) printf "%d ", (b[i] > a[i] + 1 ? b[i] : a[i] + 1) }')
# Then 5 more answers from every client (up to 60 s on a slow machine).
ar_wait_until 600 ar_load_grown "$mark" 5
grown=$(ar_load_grown "$mark" 5 && echo yes || echo "no: $(ar_load_mark), mark $mark")
touch "$load_dir/stop"
for p in $load_pids; do wait "$p"; done
total=$(cat "$load_dir"/[1-6].codes | wc -l)
failed=$(ar_load_failed)
late_failed=$(ar_load_failed "$mark")
killed=$(echo "$victim $rest" | wc -w)
killed_ps=$(echo "$victim $rest" | tr ' ' ',')
echo "# killed $victim, then $rest; new process ${new:-none} after" \
	"$((t_new - t_kill)) ms; $failed of $total requests failed:" \
	"$(cat "$load_dir"/[1-6].codes | sort | uniq -c | tr '\n' ' ')"
check "kill -9 all: mod_fcgid started a new process (within 60 s)" yes \
	"$([ -n "$new" ] && echo yes || echo no)"
check "kill -9: every client got 5 answers after the new process came" yes "$grown"
check "kill -9: at most one request per killed process failed ($killed)" yes \
	"$([ "$failed" -le "$killed" ] && echo yes || echo "$failed failed")"
check "kill -9: every request after the new process came served" 0 "$late_failed"
# mod_fcgid reaps what it lost (its error scan runs every 3 s; up to 30 s
# on a slow machine).
# shellcheck disable=SC2317 # called through ar_wait_until
fcgid_reaped() {
	! ps -o stat= -p "$killed_ps" >/dev/null 2>&1
}
ar_wait_until 300 fcgid_reaped
check "kill -9: mod_fcgid reaped the killed processes" "" \
	"$(ps -o pid=,stat= -p "$killed_ps" 2>/dev/null)"
ar_http GET "$AR_BASE/healthz"
check_status "kill -9: served afterwards" 200
ar_fcgid_count_ok "after kill -9"

# A stuck pool (every process stopped): Apache gives up after FcgidIOTimeout
# (5 s) instead of hanging; once the processes run again the service is
# back. The answer must have waited for FcgidIOTimeout, and come well before
# mod_fcgid's default (40 s) would have ended it: under 30 s, whatever the
# machine.
stopped=$(ar_apache_children)
for pid in $stopped; do kill -STOP "$pid"; done
t0=$(ar_now_ms)
ar_http_front GET "$AR_BASE/healthz"
t1=$(ar_now_ms)
for pid in $stopped; do kill -CONT "$pid"; done
echo "# a stuck pool: $H_STATUS after $((t1 - t0)) ms"
check "a stuck pool: 500 from mod_fcgid" 500 "$H_STATUS"
check "a stuck pool: the answer after 4..30 s (FcgidIOTimeout 5)" yes \
	"$([ $((t1 - t0)) -ge 4000 ] && [ $((t1 - t0)) -lt 30000 ] && echo yes || echo "$((t1 - t0)) ms")"
ar_http GET "$AR_BASE/healthz"
check_status "the pool serves again after the stall" 200

# The same snippet under a second mount point, /shop/api: Alias, <Location>
# and base_path change together; Location headers carry the prefix. Apache
# starts the processes again, so they read the new config.
ar_stop_apache
check "Apache stopped: mod_fcgid stopped its processes" "" "$(ar_apache_children)"
AR_BASE=/shop/api
# shellcheck disable=SC2046 # one key=value per word
ar_write_config $(ar_scenario_config) max_body=8192
ar_apache_fcgid_snippet "$AR_BASE" >"$AR_TMP/antireplay-fcgid.conf" || exit 1
ar_start_apache "$AR_TMP/antireplay-fcgid.conf" alias fcgid
ar_scenario_run_prefix

ar_done
