# tests/e2e/scenario.sh: the contract, driven over HTTP through a front (web
# server) at $AR_URL, the app mounted at $AR_BASE. Front-agnostic: a test
# starts Redis, the app and its front, then calls ar_scenario_run.
# Sourced after tests/lib.sh and tests/e2e/http.sh.
#
# The app must run with the keys of ar_scenario_config (on a fresh Redis):
#   ar_write_config $(ar_scenario_config) [more keys...]
# max_body must be at least 8192 (the chunked body is about 6 KB).
#
#   ar_scenario_run         the whole suite (about 200 requests)
#   ar_scenario_run_prefix  a lighter pass for a second mount point (e.g.
#                           AR_BASE=/shop/api): stock, tokens (with a query
#                           string), an order, its Location and replay, GET by
#                           Location, 404s inside and outside the prefix. Needs
#                           no fresh Redis; sets the stock it uses.
#
# Optional variables a front test may set before calling them:
#   SC_CHUNKED_STATUS  status the front gives a POST with a chunked body
#                      (default 201: the front passes it on). A front that
#                      refuses chunked bodies sets its exact status (e.g. 411);
#                      the scenario then checks that status and that the
#                      refused request left the token untouched.
#   SC_PADDING_BYTES   size of the X-Padding request header (default 6144)
#   SC_COOKIE_BYTES    size of the Cookie request header (default 4096); the
#                      front must accept both on one request
#   SC_STORM_N         parallel submissions of one token (default 30)
# Requests a front may answer itself (paths outside its location, a refused
# chunked body) go through ar_http_front, so check_every_response only judges
# the app's answers.

: "${SC_CHUNKED_STATUS:=201}"
: "${SC_PADDING_BYTES:=6144}"
: "${SC_COOKIE_BYTES:=4096}"
: "${SC_STORM_N:=30}"

AR_ADMIN_TOKEN=e2e-admin-token-0123456789
SC_UUID_RE='[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}'
SC_ORDER_ID_RE='[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}'
SC_TIME_RE='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z'
# Tokens per client and 60 s; the scenario asks for fewer from 127.0.0.1.
SC_RATE=40

# redis_timeout_ms 1500, not the default 500: on a slow machine (valgrind,
# one shared core) the storm's 30 clients can keep Redis from answering
# within 500 ms, and the app then rightly answers 503. Three such timeouts
# (its worst case) still end below the fronts' 5 s.
ar_scenario_config() {
	echo "base_path=$AR_BASE admin_token=$AR_ADMIN_TOKEN bind=header:X-Client" \
		"token_rate=$SC_RATE redis_timeout_ms=1500"
}

# sc_matches DESC ERE VALUE: VALUE matches ERE as a whole.
sc_matches() {
	if printf '%s\n' "$3" | grep -Eqx "$2"; then
		ok "$1"
	else
		not_ok "$1 ('$3' does not match $2)"
	fi
}

# sc_token [curl args...]: a new token in SC_TOKEN ("" if none was issued).
sc_token() {
	ar_http POST "$AR_BASE/tokens" "$@"
	SC_TOKEN=""
	[ "$H_STATUS" = 201 ] && SC_TOKEN=$(h_json '.token')
}

# sc_order TOKEN JSON [curl args...]: POST /orders, token in Idempotency-Key.
sc_order() {
	sc_key=$1 sc_json=$2
	shift 2
	ar_http POST "$AR_BASE/orders" -H "Idempotency-Key: $sc_key" \
		-H 'Content-Type: application/json' --data-binary "$sc_json" "$@"
}

# sc_stock SKU: prints the available count (or the status when not 200).
sc_stock() {
	ar_http GET "$AR_BASE/stock/$1"
	if [ "$H_STATUS" = 200 ]; then h_json '.available'; else echo "status $H_STATUS"; fi
}

sc_put_stock() {
	ar_http PUT "$AR_BASE/stock/$1" -H "Authorization: Bearer $AR_ADMIN_TOKEN" \
		-H 'Content-Type: application/json' --data-binary "{\"available\":$2}"
}

sc_health_metrics() {
	ar_http GET "$AR_BASE/healthz"
	check_status "GET /healthz" 200
	check "GET /healthz body" '{"status":"ok"}' "$H_BODY"
	check "GET /healthz Content-Type" application/json "$(h_header Content-Type)"
	sc_len=$(h_header Content-Length)
	ar_http HEAD "$AR_BASE/healthz"
	check_status "HEAD /healthz" 200
	check "HEAD /healthz: Content-Length of the GET body" "$sc_len" "$(h_header Content-Length)"
	check "HEAD /healthz: no body" 0 "$H_SIZE"
	ar_http POST "$AR_BASE/healthz"
	check_status "POST /healthz" 405 method_not_allowed
	check "POST /healthz Allow" "GET, HEAD" "$(h_header Allow)"

	ar_http GET "$AR_BASE/metrics"
	check_status "GET /metrics" 200
	check "GET /metrics Content-Type" "text/plain; version=0.0.4" "$(h_header Content-Type)"
	sc_missing=""
	for sc_o in created replayed rejected token_reused invalid_token unknown_sku out_of_stock; do
		printf '%s\n' "$H_BODY" |
			grep -Eq "^antireplay_submissions_total\{outcome=\"$sc_o\"\} [0-9]+\$" ||
			sc_missing="$sc_missing $sc_o"
	done
	check "GET /metrics: all seven outcome lines" "" "$sc_missing"
	check_contains "GET /metrics: tokens issued" "antireplay_tokens_issued_total " "$H_BODY"
	check_contains "GET /metrics: rate limited" "antireplay_rate_limited_total " "$H_BODY"
	check_contains "GET /metrics: # TYPE" "# TYPE antireplay_submissions_total counter" "$H_BODY"
	ar_http HEAD "$AR_BASE/metrics"
	check_status "HEAD /metrics" 200
	check "HEAD /metrics: no body" 0 "$H_SIZE"
	ar_http DELETE "$AR_BASE/metrics"
	check_status "DELETE /metrics" 405 method_not_allowed
	check "DELETE /metrics Allow" "GET, HEAD" "$(h_header Allow)"
}

sc_tokens() {
	sc_token
	check_status "POST /tokens" 201
	sc_matches "POST /tokens: a lowercase UUID v4" "$SC_UUID_RE" "$SC_TOKEN"
	check "POST /tokens: expires_in" 600 "$(h_json '.expires_in')"
	check "POST /tokens Content-Type" application/json "$(h_header Content-Type)"
	ar_http POST "$AR_BASE/tokens?x=1&token=abc"
	check_status "POST /tokens?x=1&token=abc (query ignored)" 201
	sc_matches "POST /tokens with a query string: a token" "$SC_UUID_RE" "$(h_json '.token')"
	ar_http GET "$AR_BASE/tokens"
	check_status "GET /tokens" 405 method_not_allowed
	check "GET /tokens Allow" POST "$(h_header Allow)"
	sc_pre='{"error":"method_not_allowed","message":'
	check "405 body: compact, code then message" "$sc_pre" \
		"$(printf '%s' "$H_BODY" | cut -c1-${#sc_pre})"
}

sc_stock_admin() {
	ar_http PUT "$AR_BASE/stock/SKU-1" -H 'Content-Type: application/json' \
		--data-binary '{"available":10}'
	check_status "PUT /stock without Authorization" 401 unauthorized
	check "401 WWW-Authenticate" Bearer "$(h_header WWW-Authenticate | cut -c1-6)"
	ar_http PUT "$AR_BASE/stock/SKU-1" -H "Authorization: Bearer ${AR_ADMIN_TOKEN}x" \
		-H 'Content-Type: application/json' --data-binary '{"available":10}'
	check_status "PUT /stock with a wrong admin token" 401 unauthorized
	sc_put_stock SKU-1 -1
	check_status "PUT /stock available -1" 400 invalid_stock
	sc_put_stock SKU-1 2147483648
	check_status "PUT /stock available 2147483648" 400 invalid_stock
	sc_put_stock SKU-1 '"10"'
	check_status "PUT /stock available as a string" 400 invalid_stock
	sc_put_stock SKU-1 10
	check_status "PUT /stock/SKU-1" 200
	check "PUT /stock/SKU-1 body" '{"sku":"SKU-1","available":10}' "$H_BODY"
	sc_put_stock SKU-2 5
	sc_put_stock SKU-3 1
	sc_put_stock SKU-4 1
	sc_put_stock SKU-5 100
	check "PUT /stock/SKU-5" 200 "$H_STATUS"
	ar_http GET "$AR_BASE/stock/SKU-1"
	check_status "GET /stock/SKU-1" 200
	check "GET /stock/SKU-1 body" '{"sku":"SKU-1","available":10}' "$H_BODY"
	ar_http HEAD "$AR_BASE/stock/SKU-1"
	check_status "HEAD /stock/SKU-1" 200
	check "HEAD /stock: no body" 0 "$H_SIZE"
	ar_http GET "$AR_BASE/stock/NOPE-9"
	check_status "GET /stock of an unknown SKU" 404 not_found
	ar_http GET "$AR_BASE/stock/bad%21sku"
	check_status "GET /stock with %-escape in the path" 404 not_found
	ar_http DELETE "$AR_BASE/stock/SKU-1"
	check_status "DELETE /stock/SKU-1" 405 method_not_allowed
	check "DELETE /stock Allow" "GET, HEAD, PUT" "$(h_header Allow)"
}

sc_orders() {
	sc_token
	sc_t1=$SC_TOKEN
	sc_x0=$(ar_xlen)
	sc_json='{"items":[{"sku":"SKU-1","qty":2}],"customer":"Ann"}'
	sc_order "$sc_t1" "$sc_json"
	check_status "POST /orders" 201
	cp "$AR_TMP/http.body" "$AR_TMP/order1.body"
	SC_ORDER1=$(h_json '.order_id')
	sc_matches "POST /orders: order_id a UUID v5 (derived from the token)" "$SC_ORDER_ID_RE" \
		"$SC_ORDER1"
	check "POST /orders Location carries base_path" "$AR_BASE/orders/$SC_ORDER1" \
		"$(h_header Location)"
	check "POST /orders: status created" created "$(h_json '.status')"
	check "POST /orders: items" '[{"sku":"SKU-1","qty":2}]' "$(h_json '.items|tojson')"
	check "POST /orders: customer" Ann "$(h_json '.customer')"
	sc_matches "POST /orders: created_at RFC 3339 ms UTC" "$SC_TIME_RE" "$(h_json '.created_at')"
	check "POST /orders: no Idempotent-Replayed on the first" "" \
		"$(h_header Idempotent-Replayed)"
	check "POST /orders: one stream entry" $((sc_x0 + 1)) "$(ar_xlen)"
	check "POST /orders: stock decremented" 8 "$(sc_stock SKU-1)"

	sc_order "$sc_t1" "$sc_json"
	check_status "replay: same status" 201
	check "replay: Idempotent-Replayed" true "$(h_header Idempotent-Replayed)"
	if cmp -s "$AR_TMP/http.body" "$AR_TMP/order1.body"; then
		ok "replay: same body byte for byte"
	else
		not_ok "replay: body differs: $H_BODY"
	fi
	check "replay: same Location" "$AR_BASE/orders/$SC_ORDER1" "$(h_header Location)"
	sc_loc=$(h_header Location)
	check "replay: no second stream entry" $((sc_x0 + 1)) "$(ar_xlen)"
	check "replay: stock moved once" 8 "$(sc_stock SKU-1)"

	sc_order "$sc_t1" '{"items":[{"sku":"SKU-1","qty":3}],"customer":"Ann"}'
	check_status "same token, other payload" 422 token_reused
	check "token_reused: stock untouched" 8 "$(sc_stock SKU-1)"

	ar_http GET "$AR_BASE/orders/$SC_ORDER1"
	check_status "GET /orders/{id}" 200
	check "GET /orders/{id}: the order as created" \
		"$("$JQ" -cS . "$AR_TMP/order1.body")" "$(h_json '.' | "$JQ" -cS .)"
	ar_http GET "$sc_loc"
	check_status "GET the Location" 200
	check "GET the Location: the order" "$SC_ORDER1" "$(h_json '.order_id')"
	ar_http GET "$AR_BASE/orders/$SC_ORDER1?token=x"
	check "GET /orders/{id} with a query string" "200 $SC_ORDER1" \
		"$H_STATUS $(h_json '.order_id')"
	ar_http HEAD "$AR_BASE/orders/$SC_ORDER1"
	check_status "HEAD /orders/{id}" 200
	check "HEAD /orders/{id}: no body" 0 "$H_SIZE"
	ar_http GET "$AR_BASE/orders/3b241101-e2bb-4255-8caf-4136c566a963"
	check_status "GET /orders of an unknown id" 404 not_found
	ar_http GET "$AR_BASE/orders/not-an-order-id"
	check_status "GET /orders with a malformed id" 404 not_found
	ar_http PUT "$AR_BASE/orders/$SC_ORDER1"
	check_status "PUT /orders/{id}" 405 method_not_allowed
	check "PUT /orders/{id} Allow" "GET, HEAD" "$(h_header Allow)"
	ar_http GET "$AR_BASE/orders"
	check_status "GET /orders" 405 method_not_allowed
	check "GET /orders Allow" POST "$(h_header Allow)"

	sc_token
	ar_http POST "$AR_BASE/orders?x=1" -H "Idempotency-Key: $SC_TOKEN" \
		-H 'Content-Type: application/json' --data-binary '{"items":[{"sku":"SKU-5","qty":1}]}'
	check_status "POST /orders?x=1 (query ignored)" 201
	check "POST /orders?x=1: Location without the query" \
		"$AR_BASE/orders/$(h_json '.order_id')" "$(h_header Location)"
}

sc_token_errors() {
	sc_json='{"items":[{"sku":"SKU-5","qty":1}]}'
	sc_order 3b241101-e2bb-4255-8caf-4136c566a962 "$sc_json"
	check_status "a token never issued" 422 invalid_token
	sc_order not-a-token "$sc_json"
	check_status "Idempotency-Key not a UUID" 400 malformed_token
	ar_http POST "$AR_BASE/orders" -H 'Content-Type: application/json' --data-binary "$sc_json"
	check_status "no token at all" 400 missing_token
	ar_http POST "$AR_BASE/orders" -H 'Content-Type: application/json' \
		--data-binary '{"items":[{"sku":"SKU-5","qty":1}],"token":null}'
	check_status "token null in the body" 400 missing_token
	ar_http POST "$AR_BASE/orders" -H 'Content-Type: application/json' \
		--data-binary '{"items":[{"sku":"SKU-5","qty":1}],"token":42}'
	check_status "a non-string token" 400 malformed_token

	sc_token
	sc_order "\"$SC_TOKEN\"" "$sc_json"
	check_status "Idempotency-Key as a quoted string" 201
	sc_order "$SC_TOKEN" "$sc_json"
	check "the same token bare replays" "201 true" "$H_STATUS $(h_header Idempotent-Replayed)"

	sc_token
	sc_order "$(echo "$SC_TOKEN" | tr a-f A-F)" "$sc_json"
	check_status "an uppercase token" 201

	sc_token
	sc_t=$SC_TOKEN
	sc_order "$sc_t" "$sc_json" -H "Idempotency-Key: $sc_t"
	check_status "Idempotency-Key twice" 400 malformed_token
	sc_order "$sc_t, $sc_t" "$sc_json"
	check_status "Idempotency-Key with a comma" 400 malformed_token
	sc_order "$sc_t" "$sc_json"
	check_status "the token is untouched by malformed_token" 201

	sc_token
	ar_http POST "$AR_BASE/orders" -H 'Content-Type: application/json' \
		--data-binary "{\"items\":[{\"sku\":\"SKU-5\",\"qty\":1}],\"token\":\"$SC_TOKEN\"}"
	check_status "token as a JSON member" 201
	check "token member: Location" "$AR_BASE/orders/$(h_json '.order_id')" "$(h_header Location)"
}

sc_form() {
	sc_put_stock SKU-2 5
	sc_put_stock SKU-3 1
	sc_token
	sc_t=$SC_TOKEN
	ar_http POST "$AR_BASE/orders" --data-urlencode "token=$sc_t" \
		--data-urlencode sku=SKU-3 --data-urlencode qty=1 \
		--data-urlencode sku=SKU-2 --data-urlencode qty=2
	check_status "form-encoded order" 201
	check "form: lines in request order" \
		'[{"sku":"SKU-3","qty":1},{"sku":"SKU-2","qty":2}]' "$(h_json '.items|tojson')"
	cp "$AR_TMP/http.body" "$AR_TMP/form.body"
	sc_order "$sc_t" '{"items":[{"sku":"SKU-2","qty":2},{"sku":"SKU-3","qty":1}]}'
	check "the JSON of the same order (reordered) replays the form's" "201 true" \
		"$H_STATUS $(h_header Idempotent-Replayed)"
	if cmp -s "$AR_TMP/http.body" "$AR_TMP/form.body"; then
		ok "form/JSON replay: same body"
	else
		not_ok "form/JSON replay: body differs: $H_BODY"
	fi
	check "form: stock moved once" 3 "$(sc_stock SKU-2)"

	sc_token
	ar_http POST "$AR_BASE/orders" --data-binary "token=$SC_TOKEN&sku=SKU-2&qty=%zz"
	check_status "form with a bad %-escape" 400 invalid_order
	ar_http POST "$AR_BASE/orders" --data-binary "token=$SC_TOKEN&sku=SKU-2&qty=1x"
	check_status "form with a non-decimal qty" 400 invalid_order
	ar_http POST "$AR_BASE/orders" --data-binary "token=$SC_TOKEN&token=$SC_TOKEN&sku=SKU-2&qty=1"
	check_status "form with token twice" 400 malformed_token
	ar_http POST "$AR_BASE/orders" --data-binary "token=$SC_TOKEN&sku=SKU-2&qty=1"
	check_status "form after the errors, token untouched" 201
}

sc_outcomes() {
	sc_token
	sc_t=$SC_TOKEN
	sc_order "$sc_t" '{"items":[{"sku":"SKU-1","qty":1},{"sku":"NOPE-1","qty":1},{"sku":"NOPE-2","qty":1}]}'
	check_status "a SKU without stock record" 422 unknown_sku
	check "unknown_sku: sku member names the first" NOPE-1 "$(h_json '.sku')"
	sc_order "$sc_t" '{"items":[{"sku":"SKU-1","qty":1},{"sku":"NOPE-1","qty":1},{"sku":"NOPE-2","qty":1}]}'
	check "unknown_sku replayed" "422 true" "$H_STATUS $(h_header Idempotent-Replayed)"

	sc_token
	sc_t=$SC_TOKEN
	sc_json='{"items":[{"sku":"SKU-1","qty":1},{"sku":"SKU-3","qty":1},{"sku":"NOPE-3","qty":1}]}'
	sc_json2='{"items":[{"sku":"SKU-1","qty":1},{"sku":"SKU-3","qty":1}]}'
	sc_order "$sc_t" "$sc_json"
	check_status "unknown_sku wins over out_of_stock" 422 unknown_sku
	check "unknown_sku over out_of_stock: sku" NOPE-3 "$(h_json '.sku')"
	sc_token
	sc_t=$SC_TOKEN
	sc_order "$sc_t" "$sc_json2"
	check_status "a line over its stock" 409 out_of_stock
	check "out_of_stock: sku" SKU-3 "$(h_json '.sku')"
	check "out_of_stock: available" 0 "$(h_json '.available')"
	check "out_of_stock: nothing decremented" 8 "$(sc_stock SKU-1)"
	sc_order "$sc_t" "$sc_json2"
	check "out_of_stock replayed" "409 true" "$H_STATUS $(h_header Idempotent-Replayed)"
}

sc_validation() {
	sc_token
	sc_t=$SC_TOKEN
	ar_http POST "$AR_BASE/orders" -H "Idempotency-Key: $sc_t" -H 'Content-Type: text/plain' \
		--data-binary '{"items":[{"sku":"SKU-5","qty":1}]}'
	check_status "Content-Type text/plain" 415 unsupported_media_type
	ar_http POST "$AR_BASE/orders" -H "Idempotency-Key: $sc_t" --data-binary '{}' \
		-H 'Content-Type:'
	check_status "no Content-Type" 415 unsupported_media_type
	sc_order "$sc_t" '{"items":[{"sku":"SKU-5","qty":1}'
	check_status "unparseable JSON" 400 invalid_json
	sc_order "$sc_t" '[1,2]'
	check_status "JSON that is not an order object" 400 invalid_order
	sc_order "$sc_t" '{"items":[{"sku":"SKU-5","qty":0}]}'
	check_status "qty 0" 400 invalid_order
	sc_order "$sc_t" '{"items":[{"sku":"SKU-5","qty":1.5}]}'
	check_status "qty with a fraction" 400 invalid_order
	sc_order "$sc_t" '{"items":[{"sku":"SKU 5","qty":1}]}'
	check_status "sku with a space" 400 invalid_order
	sc_order "$sc_t" '{"items":[{"sku":"SKU-5","qty":1},{"sku":"SKU-5","qty":2}]}'
	check_status "a SKU twice" 400 invalid_order
	sc_order "$sc_t" '{"items":[]}'
	check_status "no items" 400 invalid_order
	# One Content-Type header: curl would send a second one after sc_order's,
	# which Apache joins with ", " and lighttpd refuses (400).
	ar_http POST "$AR_BASE/orders" -H "Idempotency-Key: $sc_t" \
		-H 'Content-Type: application/json; charset=utf-8' \
		--data-binary '{"items":[{"sku":"SKU-5","qty":1}]}'
	check_status "after the errors the token still works (charset allowed)" 201
}

sc_identity() {
	sc_token -H 'X-Client: alice'
	sc_t=$SC_TOKEN
	sc_json='{"items":[{"sku":"SKU-5","qty":1}]}'
	sc_order "$sc_t" "$sc_json" -H 'X-Client: bob'
	check_status "a token used by another identity" 422 invalid_token
	sc_order "$sc_t" "$sc_json"
	check_status "a bound token used without identity" 422 invalid_token
	sc_order "$sc_t" "$sc_json" -H 'X-Client: alice'
	check_status "a bound token used by its identity" 201
	sc_id=$(h_json '.order_id')
	ar_http GET "$AR_BASE/orders/$sc_id" -H 'X-Client: bob'
	check_status "GET another identity's order" 404 not_found
	ar_http GET "$AR_BASE/orders/$sc_id" -H 'X-Client: alice'
	check_status "GET one's own order" 200
	ar_http POST "$AR_BASE/tokens" -H "X-Client: $(printf '%0300d' 0)"
	check_status "an identity over 256 bytes" 400 invalid_identity
}

# The window is 60 s from a client's first token, so the SC_RATE + 1
# requests must fit in one: the first SC_RATE go through one curl (one
# connection; a shell and a few processes per request would take over a
# minute on a slow machine). The client's counter in Redis
# (ar:rate:i:IDENTITY) tells whether all of them fell in one window; if not,
# a new identity tries again (3 times at most).
sc_rate_limit() {
	sc_try=0
	while :; do
		sc_try=$((sc_try + 1))
		sc_who="rl-$$-$sc_try"
		set --
		sc_n=0
		while [ $sc_n -lt $SC_RATE ]; do
			set -- "$@" -o /dev/null "$AR_URL$AR_BASE/tokens"
			sc_n=$((sc_n + 1))
		done
		sc_issued=$("$CURL" -s -m 60 -X POST -H "X-Client: $sc_who" -w '%{http_code}\n' "$@" |
			grep -cx 201)
		ar_http POST "$AR_BASE/tokens" -H "X-Client: $sc_who"
		sc_count=$(ar_redis GET "ar:rate:i:$sc_who")
		if [ "$sc_count" = $((SC_RATE + 1)) ] || [ $sc_try -ge 3 ]; then
			break
		fi
		echo "# rate limit: $sc_who's window held ${sc_count:-none} of $((SC_RATE + 1)) requests; again"
	done
	check "token_rate tokens in a window" "$SC_RATE" "$sc_issued"
	check "token_rate + 1 requests counted in one window" $((SC_RATE + 1)) "$sc_count"
	check_status "one token over token_rate" 429 rate_limited
	sc_matches "429 Retry-After in 1..60" '[1-9]|[1-5][0-9]|60' "$(h_header Retry-After)"
	ar_http POST "$AR_BASE/tokens" -H "X-Client: $sc_who-other"
	check_status "another identity has its own window" 201
}

sc_not_found() {
	ar_http GET "$AR_BASE/nope"
	check_status "an unknown path" 404 not_found
	ar_http GET "$AR_BASE/"
	check_status "the prefix itself" 404 not_found
	ar_http GET "$AR_BASE/tokens/x"
	check_status "a path below /tokens" 404 not_found
	ar_http GET "$AR_BASE/healthz/"
	check_status "a trailing slash" 404 not_found
	ar_http GET "$AR_BASE//healthz"
	check_status "a // in the path" 404 not_found
	ar_http GET "$AR_BASE/x/../healthz" --path-as-is
	check_status "a /../ in the path" 404 not_found
	ar_http GET "$AR_BASE/stock/a%2Fb"
	check_status "a %2F in the path" 404 not_found
}

# sc_outside: paths outside the mount point never reach a route: 404 from
# the front (its own page) or from the app (base_path does not match).
sc_outside() {
	[ -n "$AR_BASE" ] || return 0
	sc_paths="/healthz ${AR_BASE}x/healthz"
	# Under /shop/api, /api/... is outside too.
	[ "${AR_BASE#/*/}" = "$AR_BASE" ] || sc_paths="$sc_paths /${AR_BASE##*/}/healthz"
	for sc_p in $sc_paths; do
		ar_http_front GET "$sc_p"
		check "GET $sc_p, outside $AR_BASE: 404" 404 "$H_STATUS"
	done
	ar_http_front POST "${AR_BASE%/*}/tokens"
	check "POST ${AR_BASE%/*}/tokens, outside $AR_BASE: not 201" yes \
		"$([ "$H_STATUS" != 201 ] && echo yes || echo "$H_STATUS")"
}

# sc_chunked: POST /orders with Transfer-Encoding: chunked (JSON of about
# 6 KB, then a form); SC_CHUNKED_STATUS when the front refuses such bodies.
sc_chunked() {
	sc_put_stock SKU-6 10
	sc_token
	sc_t=$SC_TOKEN
	sc_pad=$(printf '%06000d' 0)
	printf '{"items":[{"sku":"SKU-6","qty":2}],"note":"%s"}' "$sc_pad" >"$AR_TMP/chunked.json"
	set -- -H "Idempotency-Key: $sc_t" -H 'Content-Type: application/json' \
		-H 'Transfer-Encoding: chunked' --data-binary "@$AR_TMP/chunked.json"
	if [ "$SC_CHUNKED_STATUS" != 201 ]; then
		ar_http_front POST "$AR_BASE/orders" "$@"
		check "a chunked body: the front's own answer" "$SC_CHUNKED_STATUS" "$H_STATUS"
		sc_order "$sc_t" "$(cat "$AR_TMP/chunked.json")"
		check "the token is untouched by the refused chunked body (201, not replayed)" \
			"201 " "$H_STATUS $(h_header Idempotent-Replayed)"
		check "stock moved once" 8 "$(sc_stock SKU-6)"
		return 0
	fi
	ar_http POST "$AR_BASE/orders" "$@"
	check_status "a chunked JSON body (6 KB)" 201
	check "chunked: Location" "$AR_BASE/orders/$(h_json '.order_id')" "$(h_header Location)"
	cp "$AR_TMP/http.body" "$AR_TMP/chunked.body"
	check "chunked: stock decremented" 8 "$(sc_stock SKU-6)"
	ar_http POST "$AR_BASE/orders" "$@"
	check "chunked, sent again: replayed" "201 true" "$H_STATUS $(h_header Idempotent-Replayed)"
	sc_order "$sc_t" "$(cat "$AR_TMP/chunked.json")"
	check "the same body not chunked: replayed" "201 true" \
		"$H_STATUS $(h_header Idempotent-Replayed)"
	if cmp -s "$AR_TMP/http.body" "$AR_TMP/chunked.body"; then
		ok "chunked/plain replay: same body"
	else
		not_ok "chunked/plain replay: body differs: $H_BODY"
	fi
	sc_token
	ar_http POST "$AR_BASE/orders" -H 'Transfer-Encoding: chunked' \
		--data-binary "token=$SC_TOKEN&sku=SKU-6&qty=3"
	check_status "a chunked form body" 201
	check "chunked form: stock" 5 "$(sc_stock SKU-6)"
}

# sc_large_headers: a large X-Padding header and a large Cookie on the token
# request, the order and the GET still give the normal answers.
sc_large_headers() {
	sc_pad="X-Padding: $(printf "%0${SC_PADDING_BYTES}d" 0)"
	sc_cookie="Cookie: c=$(printf "%0$((SC_COOKIE_BYTES - 2))d" 0)"
	sc_token -H "$sc_pad" -H "$sc_cookie"
	check_status "POST /tokens with a ${SC_PADDING_BYTES}-byte header and a ${SC_COOKIE_BYTES}-byte Cookie" 201
	sc_order "$SC_TOKEN" '{"items":[{"sku":"SKU-5","qty":1}]}' -H "$sc_pad" -H "$sc_cookie"
	check_status "POST /orders with large headers" 201
	sc_id=$(h_json '.order_id')
	ar_http GET "$AR_BASE/orders/$sc_id" -H "$sc_pad" -H "$sc_cookie"
	check "GET /orders/{id} with large headers" "200 $sc_id" "$H_STATUS $(h_json '.order_id')"
}

# sc_storm N: N parallel submissions of one token make exactly one order.
sc_storm() {
	sc_n=$1
	sc_put_stock SKU-4 1
	sc_token
	sc_t=$SC_TOKEN
	sc_x0=$(ar_xlen)
	sc_dir=$AR_TMP/storm
	rm -rf "$sc_dir"
	mkdir "$sc_dir"
	sc_pids=""
	sc_i=0
	while [ $sc_i -lt "$sc_n" ]; do
		"$CURL" -s -m 60 -o "$sc_dir/$sc_i.body" -D "$sc_dir/$sc_i.head" \
			-w '%{http_code}' -H "Idempotency-Key: $sc_t" \
			-H 'Content-Type: application/json' \
			--data-binary '{"items":[{"sku":"SKU-4","qty":1}]}' \
			"$AR_URL$AR_BASE/orders" >"$sc_dir/$sc_i.code" 2>/dev/null &
		sc_pids="$sc_pids $!"
		sc_i=$((sc_i + 1))
	done
	for sc_p in $sc_pids; do wait "$sc_p"; done
	sc_created=0 sc_replayed=0 sc_other=""
	sc_i=0
	while [ $sc_i -lt "$sc_n" ]; do
		sc_code=$(cat "$sc_dir/$sc_i.code")
		if [ "$sc_code" != 201 ]; then
			sc_other="$sc_other $sc_code"
		elif tr -d '\r' <"$sc_dir/$sc_i.head" | grep -qix 'Idempotent-Replayed: true'; then
			sc_replayed=$((sc_replayed + 1))
		else
			sc_created=$((sc_created + 1))
		fi
		sc_i=$((sc_i + 1))
	done
	sc_bodies=$(cat "$sc_dir"/*.body | "$JQ" -r .order_id 2>/dev/null | sort -u | wc -l)
	check "storm: $sc_n requests, all 201" "" "$sc_other"
	check "storm: exactly one 201 without Idempotent-Replayed" 1 "$sc_created"
	check "storm: the others replayed" $((sc_n - 1)) "$sc_replayed"
	check "storm: one order id in all answers" 1 "$sc_bodies"
	check "storm: one stream entry" $((sc_x0 + 1)) "$(ar_xlen)"
	check "storm: stock moved once" 0 "$(sc_stock SKU-4)"
}

sc_metrics_totals() {
	ar_http GET "$AR_BASE/metrics"
	sc_created=$(printf '%s\n' "$H_BODY" |
		sed -n 's/^antireplay_submissions_total{outcome="created"} //p')
	check "metrics: created equals the stream length" "$(ar_xlen)" "$sc_created"
	sc_limited=$(printf '%s\n' "$H_BODY" | sed -n 's/^antireplay_rate_limited_total //p')
	check "metrics: one rate-limited request" 1 "$sc_limited"
}

ar_scenario_run() {
	sc_health_metrics
	sc_tokens
	sc_stock_admin
	sc_orders
	sc_token_errors
	sc_form
	sc_chunked
	sc_large_headers
	sc_outcomes
	sc_validation
	sc_identity
	sc_rate_limit
	sc_not_found
	sc_outside
	sc_storm "$SC_STORM_N"
	sc_metrics_totals
}

ar_scenario_run_prefix() {
	sc_put_stock SKU-1 10
	sc_put_stock SKU-5 100
	check_status "PUT /stock under $AR_BASE" 200
	sc_tokens
	sc_orders
	sc_not_found
	sc_outside
}
