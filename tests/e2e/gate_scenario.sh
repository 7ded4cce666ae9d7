# tests/e2e/gate_scenario.sh: the gate's contract over HTTP (issue 12 part
# 1), shared by every front: examples/php-checkout under a private php-fpm,
# the front's gate snippet from conf/ in front of checkout.php, the app
# behind it. Sourced after tests/lib.sh, tests/lib/front.sh,
# tests/lib/php.sh, the front's fixture and tests/e2e/http.sh.
#
# The test runs gate_setup (Redis, the app, php-fpm's folders), starts
# the front (with antireplay's own /api/ snippet too: form.php gets its
# token from POST /api/tokens through it) and php-fpm with gate_php_env,
# then runs ar_gate_scenario.
#
#   gate_config               the app's config keys (one key=value a word)
#   gate_php_env              the php-fpm pool's environment (after the
#                             front started: the tokens URL is on it)
#   gate_start_redis          a private Redis that keeps its data across a
#                             restart (conf/redis/antireplay-redis.conf: AOF)
#   gate_start_app [key=value...]  write the config (gate_config and these)
#                             and start 4 workers on $AR_APP_SOCK; a front
#                             that needs them elsewhere defines its own
#                             after sourcing this file
#   gate_setup                gate_start_redis, gate_start_app, php-fpm's
#                             paths and document root
#   ar_gate_scenario          every check below
#
# The test may set:
#   GATE_PATH       the gated URL (default /shop/checkout.php)
#   GATE_DENY_CT    the Content-Type a client gets with a denial (default
#                   application/json)
#   GATE_LOGS       the front's access logs (no whole token may be in them)

GATE_PATH=${GATE_PATH:-/shop/checkout.php}
GATE_DENY_CT=${GATE_DENY_CT:-application/json}
GATE_TOKENS=""

gate_config() {
	echo "base_path=/api bind=none token_rate=1000 redis_timeout_ms=500"
}

gate_php_env() {
	echo "ANTIREPLAY_TOKENS_URL=$AR_URL/api/tokens CHECKOUT_DSN=sqlite:$AR_TMP/data/shop.sqlite"
}

gate_start_redis() {
	ar_start_redis "include $top_srcdir/conf/redis/antireplay-redis.conf"
}

gate_start_app() {
	# shellcheck disable=SC2046 # one key=value per word
	ar_write_config $(gate_config) "$@"
	ar_start_app 4
}

gate_setup() {
	gate_start_redis
	gate_start_app
	ar_php_paths
	ar_php_www
}

# gate_rows [KEY]: how many rows checkout.php stored (for KEY).
gate_rows() {
	# shellcheck disable=SC2016 # PHP's variables, not the shell's
	"$PHP_CLI" -r '
		$db = new PDO($argv[1]);
		$q = $db->query("SELECT name FROM sqlite_master WHERE name = \"orders\"");
		if ($q->fetchColumn() === false) { echo 0; exit; }
		if (isset($argv[2])) {
			$s = $db->prepare("SELECT COUNT(*) FROM orders WHERE antireplay_key = ?");
			$s->execute([$argv[2]]);
		} else {
			$s = $db->query("SELECT COUNT(*) FROM orders");
		}
		echo $s->fetchColumn();' "sqlite:$AR_TMP/data/shop.sqlite" "$@"
}

# gate_post PATH [curl args...]: the form's submission (POST item=book).
gate_post() {
	gp_path=$1
	shift
	ar_http_front POST "$gp_path" --data-urlencode item=book "$@"
}

# gate_form_token: GET /shop/form.php; GT is the token in its action URL.
gate_form_token() {
	ar_http_front GET /shop/form.php
	GT=$(sed -n 's/.*action="checkout\.php?token=\([^"]*\)".*/\1/p' "$AR_TMP/http.body")
	GATE_TOKENS="$GATE_TOKENS $GT"
}

# gate_api_token: POST /api/tokens through the front; GT is the token.
gate_api_token() {
	ar_http_front POST /api/tokens -d ""
	GT=$(h_json .token)
	GATE_TOKENS="$GATE_TOKENS $GT"
}

# check_gate_denied DESC STATUS CODE: the last response is STATUS with our
# JSON error body {"error":"CODE","message":"..."}, Content-Type
# $GATE_DENY_CT, Cache-Control: no-store, and no X-Antireplay-* header.
check_gate_denied() {
	gd_pat="^[{]\"error\":\"$3\",\"message\":\"([^\"\\]|\\\\.)+\"[}]\$"
	gd_why=""
	[ "$H_STATUS" = "$2" ] || gd_why="$gd_why status $H_STATUS;"
	printf '%s' "$H_BODY" | grep -Eq -- "$gd_pat" || gd_why="$gd_why body '$H_BODY';"
	[ "$(h_header Content-Type)" = "$GATE_DENY_CT" ] ||
		gd_why="$gd_why Content-Type '$(h_header Content-Type)';"
	[ "$(h_header Cache-Control)" = no-store ] ||
		gd_why="$gd_why Cache-Control '$(h_header Cache-Control)';"
	[ "$(h_header_count X-Antireplay-Status)" = 0 ] || gd_why="$gd_why X-Antireplay-* leaked;"
	if [ -z "$gd_why" ]; then
		ok "$1: $2 $3"
	else
		not_ok "$1: expected $2 $3:$gd_why"
	fi
}

# check_gate_allowed DESC KEY: the last response is checkout.php's 201, and
# the script stored exactly one row with KEY (the ANTIREPLAY_KEY it saw).
check_gate_allowed() {
	check "$1: checkout.php's 201" "201 ordered" "$H_STATUS $(h_json .status)"
	check "$1: the script ran once and saw ANTIREPLAY_KEY = the key" 1 "$(gate_rows "$2")"
}

ar_gate_scenario() {
	# The form page: a fresh token in the action URL, no Referer leaks.
	gate_form_token
	check "form.php: 200" 200 "$H_STATUS"
	check "form.php: Referrer-Policy: no-referrer" no-referrer "$(h_header Referrer-Policy)"
	check_match "form.php: the action URL carries an issued token" "$AR_UUID4_RE" "$GT"
	t1=$GT

	# The double submit, sequential: the script runs once.
	gate_post "$GATE_PATH?token=$t1"
	check_gate_allowed "first submit (?token=)" "$t1"
	gate_post "$GATE_PATH?token=$t1"
	check_gate_denied "second submit, same key, method and path" 409 duplicate_request
	check "the second submit did not run the script" 1 "$(gate_rows "$t1")"

	# The same key elsewhere: another path running the same script (path
	# info), another method.
	gate_post "$GATE_PATH/express?token=$t1"
	check_gate_denied "the key on another path" 422 token_reused
	ar_http_front GET "$GATE_PATH?token=$t1"
	check_gate_denied "the key with another method" 422 token_reused
	check "neither ran the script" 1 "$(gate_rows "$t1")"

	# The key in Idempotency-Key.
	gate_api_token
	t2=$GT
	gate_post "$GATE_PATH" -H "Idempotency-Key: $t2"
	check_gate_allowed "first submit (Idempotency-Key)" "$t2"
	gate_post "$GATE_PATH" -H "Idempotency-Key: $t2"
	check_gate_denied "second submit (Idempotency-Key)" 409 duplicate_request

	# Keys that are not there, not UUIDs, or never issued.
	gate_post "$GATE_PATH"
	check_gate_denied "no key" 400 missing_token
	gate_post "$GATE_PATH?token=not-a-uuid"
	check_gate_denied "a malformed key" 400 malformed_token
	unknown=$(cat /proc/sys/kernel/random/uuid)
	gate_post "$GATE_PATH?token=$unknown"
	check_gate_denied "a UUID never issued" 422 invalid_token
	GATE_TOKENS="$GATE_TOKENS $unknown"
	check "no denied request ran the script" 2 "$(gate_rows)"

	# 30 concurrent submits of one fresh key: one 201, 29 x 409, one row.
	gate_form_token
	t4=$GT
	gc_pids=""
	gc_i=0
	while [ $gc_i -lt 30 ]; do
		"$CURL" -s -m 60 -o "$AR_TMP/gc.$gc_i.body" -w '%{http_code}' \
			--data-urlencode item=book "$AR_URL$GATE_PATH?token=$t4" \
			>"$AR_TMP/gc.$gc_i.code" 2>/dev/null &
		gc_pids="$gc_pids $!"
		gc_i=$((gc_i + 1))
	done
	for gc_pid in $gc_pids; do wait "$gc_pid"; done
	gc_201=0 gc_409=0 gc_other=""
	gc_i=0
	while [ $gc_i -lt 30 ]; do
		gc_code=$(cat "$AR_TMP/gc.$gc_i.code")
		case $gc_code in
		201) gc_201=$((gc_201 + 1)) ;;
		409) if grep -q '"error":"duplicate_request"' "$AR_TMP/gc.$gc_i.body"; then
			gc_409=$((gc_409 + 1))
		else
			gc_other="$gc_other 409:$(cat "$AR_TMP/gc.$gc_i.body")"
		fi ;;
		*) gc_other="$gc_other $gc_code" ;;
		esac
		gc_i=$((gc_i + 1))
	done
	check "30 concurrent submits: one 201, 29 duplicate_request" "1 29 " \
		"$gc_201 $gc_409 $gc_other"
	check "30 concurrent submits: the script ran once" 1 "$(gate_rows "$t4")"

	# Redis down: 503 with Retry-After at the client, the script did not
	# run, and the key stays usable once Redis is back.
	gate_form_token
	t5=$GT
	ar_stop_redis
	gate_post "$GATE_PATH?token=$t5"
	check_gate_denied "Redis down" 503 unavailable
	check_match "Redis down: Retry-After" '^[0-9]+$' "$(h_header Retry-After)"
	check "Redis down: the script did not run" 0 "$(gate_rows "$t5")"
	ar_launch_redis
	# Every worker still holds its connection from before the restart: it
	# finds it closed before it sends anything and connects again, so the
	# client's first retry is allowed.
	gate_post "$GATE_PATH?token=$t5"
	check_gate_allowed "Redis back: the same key is allowed at the first retry" "$t5"
	gate_post "$GATE_PATH?token=$t5"
	check_gate_denied "Redis back: then once only" 409 duplicate_request

	# An expired token: the app again with token_ttl = 2.
	ar_stop_app
	gate_start_app token_ttl=2
	gate_form_token
	t6=$GT
	sleep 3
	gate_post "$GATE_PATH?token=$t6"
	check_gate_denied "an expired token" 422 invalid_token
	check "the expired token did not run the script" 0 "$(gate_rows "$t6")"
	check "the script ran once per allowed key" 4 "$(gate_rows)"

	# The gate's counters, through the app's own route.
	ar_http_front GET /api/metrics
	# shellcheck disable=SC2034 # ar_metric reads it
	AR_BODY=$H_BODY
	for gm in allowed:4 duplicate:32 token_reused:2 invalid_token:2 missing_token:1 \
		malformed_token:1; do
		check "metrics: gate outcome ${gm%%:*}" "${gm#*:}" \
			"$(ar_metric "antireplay_gate_total{outcome=\"${gm%%:*}\"}")"
	done
	# Counted while Redis was down: the app may keep that one elsewhere.
	echo "# metrics: gate outcome unavailable =" \
		"$(ar_metric 'antireplay_gate_total{outcome="unavailable"}')"
	check_match "metrics: gate outcome unavailable is exported" '^[0-9]+$' \
		"$(ar_metric 'antireplay_gate_total{outcome="unavailable"}')"

	# The access logs: the gated path is there, no whole token is.
	gl_seen="" gl_leak=""
	for gl_log in $GATE_LOGS; do
		grep -qF "$GATE_PATH" "$gl_log" && gl_seen=yes
		for gl_t in $GATE_TOKENS; do
			grep -qF -- "$gl_t" "$gl_log" && gl_leak="$gl_leak $gl_t in $gl_log;"
		done
	done
	check "the access log has the gated requests" yes "$gl_seen"
	check "the access log holds no whole token" "" "$gl_leak"
}
