#!/bin/sh
# The gate at the FastCGI level (the real binary under spawn-fcgi, a
# private Redis, no web server: tests/e2e/test_gate_*.sh put each front in
# between). A gate request is a FastCGI authorizer's (role 2, as lighttpd
# and Apache send it: no end of stdin ever comes) or carries
# ANTIREPLAY_GATE=1 (nginx's auth_request).
#   a) authorizer: first use 200 with Variable-ANTIREPLAY_KEY and no body
#      read (CONTENT_LENGTH ignored); the same method and path 409
#      duplicate_request; another path or method 422 token_reused;
#      missing, malformed, unknown, expired, another identity's; the key
#      from the URL's token parameter; the header wins over it; a token
#      parameter given twice is malformed;
#   b) auth_request (ANTIREPLAY_GATE=1): 200 with X-Antireplay-Key, every
#      refusal a 403 carrying the authorizer's status, code and exact body
#      in X-Antireplay-* headers; without the mark the URL is routed;
#   c) gate and orders share the key space: a key used at the gate is
#      token_reused at POST /orders and the other way round;
#   d) 30 concurrent uses of one token: one allowed, 29 duplicates;
#   e) Redis down: 503 with Retry-After, and after it returns the SAME
#      key is allowed once; counted as unavailable once Redis is back;
#   f) a reply lost (Redis stalled past redis_timeout_ms with SIGSTOP,
#      the reserve runs when it wakes up): 503, then the same key is
#      allowed once on any of 4 workers, never 409; the two steps from
#      lua/gate.lua: a hold goes by itself, a late confirm does nothing, a
#      confirm asked again says allowed again;
#   f2) a confirm that ran while Redis then held its replies past
#      redis_timeout_ms (a loopback proxy): asked again, allowed;
#   g) keys = client at the gate: a key the client made, scoped by the
#      identity; submit_rate;
#   h) /metrics counts each outcome; the log never holds a whole token;
#   i) bind = remote_user at a gate that runs before any user is known:
#      refused as invalid_token, and logged once.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/lib/probe.sh"

ar_require "$REDIS_SERVER" "$SPAWN_FCGI" "$CGI_FCGI" "$(command -v perl)"
ar_setup
# Redis keeps its data over the restart in e) (tokens and counters).
ar_start_redis "appendonly yes" "appendfsync always"
ar_write_config bind=header:X-User token_rate=0 redis_timeout_ms=300
ar_start_app 1
ar_redis SET ar:stock:A 1000 >/dev/null
PAGE=/shop/checkout.php

# authz METHOD URI [NAME=VALUE...]: one authorizer request as lighttpd and
# Apache send it (no stdin at all), as alice unless HTTP_X_USER is given.
authz() {
	_m=$1 _u=$2
	shift 2
	_args=" --param HTTP_X_USER=alice"
	for _p in "$@"; do
		case $_p in HTTP_X_USER=*) _args="" ;; esac
	done
	for _p in "$@"; do
		_args="$_args --param $_p"
	done
	# shellcheck disable=SC2086 # options, one a word
	ar_probe "$AR_TMP/authz.out" --role 2 --send-stdin 0 --timeout 10 \
		--param REQUEST_METHOD="$_m" --param REQUEST_URI="$_u" \
		--param REMOTE_ADDR=127.0.0.1 --param SERVER_PROTOCOL=HTTP/1.1 $_args
}

# nginx_gate METHOD URI [VAR=VALUE...]: nginx's auth_request subrequest.
nginx_gate() {
	_m=$1 _u=$2
	shift 2
	ar_fcgi "$_m" "$_u" "" ANTIREPLAY_GATE=1 HTTP_X_USER=alice "$@"
}

new_token() {
	ar_token HTTP_X_USER=alice
	[ -n "$AR_TOKEN" ] || echo "# no token: $AR_STATUS $AR_BODY"
}

#### a) the authorizer role ##################################################
new_token
T1=$AR_TOKEN
authz POST "$PAGE" HTTP_IDEMPOTENCY_KEY="$T1" CONTENT_LENGTH=50 CONTENT_TYPE=text/plain
check "authorizer, first use: 200 (no stdin was sent: a body is never awaited)" \
	"response 200" "$(ar_probe_field result) $AR_STATUS"
check "the key goes to the protected app as ANTIREPLAY_KEY" "$T1" \
	"$(ar_header Variable-ANTIREPLAY_KEY)"
check "an allowed request has no body" "" "$AR_BODY"
check "the token left its window" "" "$(ar_pending "$T1")"
authz POST "$PAGE" HTTP_IDEMPOTENCY_KEY="$T1"
check_error "authorizer, same method and path again" 409 duplicate_request
DUP_BODY=$AR_BODY
check "a refusal is JSON, not cached" "application/json no-store" \
	"$(ar_header Content-Type) $(ar_header Cache-Control)"
authz POST "/shop/other.php" HTTP_IDEMPOTENCY_KEY="$T1"
check_error "authorizer, same key on another path" 422 token_reused
authz PUT "$PAGE" HTTP_IDEMPOTENCY_KEY="$T1"
check_error "authorizer, same key with another method" 422 token_reused
authz POST "$PAGE?x=1" HTTP_IDEMPOTENCY_KEY="$T1"
check_error "the query string is not part of the request's name" 409 duplicate_request
authz POST "$PAGE"
check_error "authorizer, no key" 400 missing_token
MISSING_BODY=$AR_BODY
check_contains "missing_token says where the key goes" "URL's token parameter" "$AR_BODY"
authz POST "$PAGE" HTTP_IDEMPOTENCY_KEY=not-a-uuid
check_error "authorizer, a key that is not a UUID (keys = issued)" 400 malformed_token
authz POST "$PAGE" HTTP_IDEMPOTENCY_KEY=00000000-0000-4000-8000-000000000000
check_error "authorizer, a UUID never issued" 422 invalid_token
new_token
authz POST "$PAGE" HTTP_IDEMPOTENCY_KEY="$AR_TOKEN" HTTP_X_USER=bob
check_error "authorizer, alice's token used by bob" 422 invalid_token
authz POST "$PAGE?token=$AR_TOKEN&item=7"
check "the key from the URL's token parameter: 200" "200 $AR_TOKEN" \
	"$AR_STATUS $(ar_header Variable-ANTIREPLAY_KEY)"
authz POST "$PAGE?token=$AR_TOKEN"
check_error "the same URL again" 409 duplicate_request
new_token
T2=$AR_TOKEN
authz POST "$PAGE?token=$T1" HTTP_IDEMPOTENCY_KEY="$T2"
check "Idempotency-Key wins over the URL's token" "200 $T2" \
	"$AR_STATUS $(ar_header Variable-ANTIREPLAY_KEY)"
new_token
authz POST "$PAGE?token=$AR_TOKEN&token=$AR_TOKEN"
check_error "a token parameter given twice" 400 malformed_token
authz POST "$PAGE?token=%zz"
check_error "a query string that cannot be decoded" 400 malformed_token
authz POST "$PAGE?token="
check_error "an empty token parameter" 400 missing_token
# Expired: its window entry says so (the token's own expiry, in ms).
new_token
set -- $(ar_pending "$AR_TOKEN")
ar_redis HSET "$1" "$(ar_token_field "$AR_TOKEN")" "$(($(ar_now_ms) - 1000)):alice" >/dev/null
authz POST "$PAGE" HTTP_IDEMPOTENCY_KEY="$AR_TOKEN"
check_error "authorizer, an expired token" 422 invalid_token
authz GET "$PAGE"
check_error "a GET needs a key too (the gate protects what it is put in front of)" \
	400 missing_token

#### b) nginx's auth_request #################################################
new_token
T3=$AR_TOKEN
nginx_gate POST "$PAGE?token=$T3" CONTENT_LENGTH=12
check "auth_request, first use: 200 (CONTENT_LENGTH ignored, no body read)" 200 "$AR_STATUS"
check "the key for auth_request_set" "$T3" "$(ar_header X-Antireplay-Key)"
nginx_gate POST "$PAGE?token=$T3"
check "auth_request, a refusal is a 403 (nginx passes no other)" 403 "$AR_STATUS"
check "... carrying the real status and code" "409 duplicate_request" \
	"$(ar_header X-Antireplay-Status) $(ar_header X-Antireplay-Error)"
check "... and the authorizer's exact body" "$DUP_BODY" "$(ar_header X-Antireplay-Body)"
nginx_gate POST "$PAGE"
check "auth_request, no key: 403 with 400 missing_token and its body" \
	"403 400 missing_token $MISSING_BODY" \
	"$AR_STATUS $(ar_header X-Antireplay-Status) $(ar_header X-Antireplay-Error) $(ar_header X-Antireplay-Body)"
ar_fcgi POST "$PAGE?token=$T3" "" ANTIREPLAY_GATE=0 HTTP_X_USER=alice
check_error "without the mark the URL is routed like any other" 404 not_found

#### c) one key space for the gate and for orders ###########################
new_token
ar_fcgi POST /orders '{"items":[{"sku":"A","qty":1}]}' HTTP_X_USER=alice \
	HTTP_IDEMPOTENCY_KEY="$AR_TOKEN"
check "an order with a fresh token" 201 "$AR_STATUS"
authz POST "$PAGE" HTTP_IDEMPOTENCY_KEY="$AR_TOKEN"
check_error "a token an order used, at the gate" 422 token_reused
ar_fcgi POST /orders '{"items":[{"sku":"A","qty":1}]}' HTTP_X_USER=alice \
	HTTP_IDEMPOTENCY_KEY="$T3"
check_error "a token the gate used, at POST /orders" 422 token_reused
check "the stock moved once" 999 "$(ar_stock A)"

#### d) 30 concurrent uses of one token, 4 workers ###########################
ar_stop_app
ar_start_app 4
new_token
T4=$AR_TOKEN
i=0 pids=""
while [ $i -lt 30 ]; do
	ar_fcgi_to "$AR_TMP/c$i.out" POST "$PAGE?token=$T4" "" ANTIREPLAY_GATE=1 \
		HTTP_X_USER=alice &
	pids="$pids $!"
	i=$((i + 1))
done
# shellcheck disable=SC2086 # a list of PIDs (a bare wait would wait for Redis)
wait $pids
allowed=0 dup=0
i=0
while [ $i -lt 30 ]; do
	ar_parse "$AR_TMP/c$i.out"
	[ "$AR_STATUS" = 200 ] && allowed=$((allowed + 1))
	[ "$AR_STATUS $(ar_header X-Antireplay-Error)" = "403 duplicate_request" ] && dup=$((dup + 1))
	i=$((i + 1))
done
check "30 at once: one allowed, 29 duplicates" "1 29" "$allowed $dup"
ar_stop_app
ar_start_app 1

#### e) Redis down ############################################################
new_token
T5=$AR_TOKEN
ar_stop_redis
authz POST "$PAGE" HTTP_IDEMPOTENCY_KEY="$T5"
check_error "Redis down: 503" 503 unavailable
check "... with Retry-After" 1 "$(ar_header Retry-After)"
nginx_gate POST "$PAGE?token=$T5"
check "auth_request, Redis down: 403 with 503 unavailable and Retry-After" \
	"403 503 unavailable 1" \
	"$AR_STATUS $(ar_header X-Antireplay-Status) $(ar_header X-Antireplay-Error) $(ar_header X-Antireplay-Retry-After)"
ar_launch_redis
authz POST "$PAGE" HTTP_IDEMPOTENCY_KEY="$T5"
check "Redis back: the same key is allowed (the app never ran)" 200 "$AR_STATUS"
authz POST "$PAGE" HTTP_IDEMPOTENCY_KEY="$T5"
check_error "... once" 409 duplicate_request
ar_fcgi GET /metrics
check "the 2 refusals while Redis was down are counted once it is back" 2 \
	"$(ar_metric 'antireplay_gate_total{outcome="unavailable"}')"

#### f) a reply lost: Redis stalled past redis_timeout_ms, 4 workers ######
# The worker gives up on its reserve and answers 503; the reserve runs when
# Redis wakes up and holds the key, unconfirmed, for redis_timeout_ms. The
# client's retry, on whichever worker takes it, waits the hold out and is
# allowed: never 409 for a request that did not run.
ar_stop_app
ar_start_app 4
new_token
T6=$AR_TOKEN
kill -STOP "$AR_REDIS_PID"
authz POST "$PAGE" HTTP_IDEMPOTENCY_KEY="$T6"
st_stalled=$AR_STATUS
kill -CONT "$AR_REDIS_PID"
check "Redis stalled past redis_timeout_ms: 503" 503 "$st_stalled"
authz POST "$PAGE" HTTP_IDEMPOTENCY_KEY="$T6"
check "the client's retry with the same key: allowed, not 409" "200 $T6" \
	"$AR_STATUS $(ar_header Variable-ANTIREPLAY_KEY)"
authz POST "$PAGE" HTTP_IDEMPOTENCY_KEY="$T6"
check_error "... and only once" 409 duplicate_request
ar_stop_app
ar_start_app 1
# The two steps straight from lua/gate.lua: a confirm that comes after its
# hold went does nothing, and the key is usable; a confirm in time makes
# the key used, and asking again (a lost reply) says allowed again.
eval_lua() {
	_f=$1
	shift
	ar_redis EVAL "$(cat "$(ar_lua "$_f")")" "$@"
}
# gate_step STEP TOKEN GRANT LEASE_MS [WINDOW]: one step for alice on
# $PAGE, with the window that holds the token (or WINDOW)
gate_step() {
	set -- "$1" "$2" "$3" "$4" "${5:-$(ar_pending "$2" | cut -d ' ' -f 1)}"
	eval_lua gate 5 "$(ar_token_key "$2")" "$(ar_token_key "$2")" ar:metrics ar:srate:x \
		"${5:-ar:tw:none}" "$1" alice "POST $PAGE" 60 "$3" "$4" 1 "$(ar_token_field "$2")" \
		"$(date +%s)" 30 0 0 | head -n 1
}
G1=11111111-2222-4333-8444-555555555555
G2=11111111-2222-4333-8444-666666666666
new_token
T7=$AR_TOKEN
check "reserve, 100 ms hold" reserved "$(gate_step reserve "$T7" "$G1" 100)"
authz POST "$PAGE" HTTP_IDEMPOTENCY_KEY="$T7"
check "another request meanwhile waits the hold out and is allowed" 200 "$AR_STATUS"
new_token
T8=$AR_TOKEN
check "reserve T8, 100 ms hold" reserved "$(gate_step reserve "$T8" "$G1" 100)"
sleep 0.3
check "its confirm after the hold went: expired" expired "$(gate_step confirm "$T8" "$G1" 100)"
check "... the token is still unused" 1 "$(ar_pending "$T8" | wc -l)"
check "... and can be held again" reserved "$(gate_step reserve "$T8" "$G2" 5000)"
check "a confirm in time: allowed" allowed "$(gate_step confirm "$T8" "$G2" 5000)"
check "... the token left its window" 0 "$(ar_pending "$T8" | wc -l)"
check "asking again (its reply lost): allowed again" allowed \
	"$(gate_step confirm "$T8" "$G2" 5000)"
check "a late confirm of the expired hold: still expired" expired \
	"$(gate_step confirm "$T8" "$G1" 100)"
authz POST "$PAGE" HTTP_IDEMPOTENCY_KEY="$T8"
check_error "the key is used: a request gets 409" 409 duplicate_request
# release (a confirm whose WAIT came back short): the token is unused
# again, in its window, also when the confirm's HDEL emptied the window
# and Redis deleted it; another grant's release undoes nothing.
new_token
T11=$AR_TOKEN
set -- $(ar_pending "$T11")
W11=$1 V11=$2
check "reserve T11" reserved "$(gate_step reserve "$T11" "$G1" 5000)"
check "confirm T11" allowed "$(gate_step confirm "$T11" "$G1" 5000)"
check "another grant's release" released "$(gate_step release "$T11" "$G2" 5000 "$W11")"
authz POST "$PAGE" HTTP_IDEMPOTENCY_KEY="$T11"
check_error "... undoes nothing: 409" 409 duplicate_request
new_token
T12=$AR_TOKEN
set -- $(ar_pending "$T12")
W12=$1 V12=$2
check "reserve T12" reserved "$(gate_step reserve "$T12" "$G1" 5000)"
check "confirm T12" allowed "$(gate_step confirm "$T12" "$G1" 5000)"
ar_redis DEL "$W12" >/dev/null # as if T12 had been the window's last token
check "its release" released "$(gate_step release "$T12" "$G1" 5000 "$W12")"
check "... puts it back in its window, as it was" "$W12 $V12" "$(ar_pending "$T12")"
ttl=$(ar_redis TTL "$W12")
check "... which expires again (TTL $ttl s, token_ttl 600)" 1 \
	"$([ "$ttl" -gt 0 ] && [ "$ttl" -le 602 ] && echo 1)"
ar_wait_until 50 authz POST "$PAGE" HTTP_IDEMPOTENCY_KEY="$T12"
check "... and the retry is allowed" 200 "$AR_STATUS"
# A key the gate holds, at POST /orders: in progress (it may still go).
new_token
T10=$AR_TOKEN
check "reserve T10, 5 s hold" reserved "$(gate_step reserve "$T10" "$G1" 5000)"
ar_fcgi POST /orders '{"items":[{"sku":"A","qty":1}]}' HTTP_X_USER=alice \
	HTTP_IDEMPOTENCY_KEY="$T10"
check_error "POST /orders with a key the gate holds" 409 request_in_progress
check "... with Retry-After" 1 "$(ar_header Retry-After)"
ar_redis DEL "$(ar_token_key "$T10")" >/dev/null
ar_fcgi POST /orders '{"items":[{"sku":"A","qty":1}]}' HTTP_X_USER=alice \
	HTTP_IDEMPOTENCY_KEY="$T10"
check "once the hold went, the order is made" 201 "$AR_STATUS"

#### f2) the confirm ran, then Redis stalled before replying ##############
# Through a loopback proxy that holds every reply of Redis for 0.6 s once a
# confirm has said "allowed": the worker's confirm times out (400 ms), and
# it asks again (a confirm is idempotent) until its deadline (4 x 400 ms),
# so the answer it gets is the truth: allowed. Never a 503 with the key used.
STALL_PORT=$((20000 + ($$ * 7 + 4099) % 30000))
perl "$top_srcdir/tests/integration/redis_stall_proxy.pl" "$STALL_PORT" "$AR_REDIS_SOCK" \
	allowed 0.6 >"$AR_TMP/proxy.log" 2>&1 &
ar_track $!
proxy_ready() {
	grep -q ready "$AR_TMP/proxy.log"
}
ar_wait_until 100 proxy_ready || echo "# the proxy did not start: $(cat "$AR_TMP/proxy.log")"
ar_stop_app
ar_write_config bind=header:X-User token_rate=0 redis_timeout_ms=400 \
	redis=127.0.0.1:$STALL_PORT
ar_start_app 1
new_token
T9=$AR_TOKEN
authz POST "$PAGE" HTTP_IDEMPOTENCY_KEY="$T9"
check "the confirm's reply held past redis_timeout_ms: asked again, allowed" "200 $T9" \
	"$AR_STATUS $(ar_header Variable-ANTIREPLAY_KEY)"
check "... the proxy did hold Redis's replies" 1 "$(grep -c stalled "$AR_TMP/proxy.log")"
authz POST "$PAGE" HTTP_IDEMPOTENCY_KEY="$T9"
check_error "... and the key is used once" 409 duplicate_request

#### g) keys = client at the gate ############################################
ar_stop_app
ar_write_config bind=header:X-User token_rate=0 keys=client submit_rate=1
ar_start_app 1
authz POST "$PAGE" HTTP_IDEMPOTENCY_KEY=order-1001
check "keys = client: a key the client made is allowed" "200 order-1001" \
	"$AR_STATUS $(ar_header Variable-ANTIREPLAY_KEY)"
authz POST "$PAGE" HTTP_IDEMPOTENCY_KEY='"order-1001"'
check_error "... its quoted form is the same key" 409 duplicate_request
authz POST "$PAGE" HTTP_IDEMPOTENCY_KEY='" order-1001"'
check_error "a quoted key that starts with a space (fronts trim header values)" \
	400 malformed_token
authz POST "$PAGE" HTTP_IDEMPOTENCY_KEY=order-1001 HTTP_X_USER=bob
check "bob's order-1001 is his own" 200 "$AR_STATUS"
authz POST "$PAGE" HTTP_IDEMPOTENCY_KEY=order-1002 HTTP_X_USER=
check_error "a key the client made needs an identity" 400 invalid_identity
authz POST "$PAGE" HTTP_IDEMPOTENCY_KEY=order-1003
check_error "submit_rate = 1: alice's second first use this minute" 429 rate_limited
check "... with Retry-After" 1 "$([ "$(ar_header Retry-After)" -ge 1 ] && echo 1)"
authz POST "$PAGE" HTTP_IDEMPOTENCY_KEY=order-1001
check_error "a repeat is not counted: still a duplicate" 409 duplicate_request

#### h) metrics and logs ######################################################
ar_fcgi GET /metrics
# Every outcome above, counted across the workers and over the restart
# (allowed when confirmed: the held and expired ones are not; a release
# takes its confirm back).
for pair in allowed:14 duplicate:40 token_reused:3 invalid_token:3 missing_token:4 \
	malformed_token:4 unavailable:3 rate_limited:1; do
	check "antireplay_gate_total{outcome=\"${pair%%:*}\"}" "${pair#*:}" \
		"$(ar_metric "antireplay_gate_total{outcome=\"${pair%%:*}\"}")"
done
leaked=""
for t in $T1 $T2 $T3 $T4 $T5 $T6 $T7 $T8 $T9 $T10; do
	grep -qF "$t" "$AR_TMP/app.log" && leaked="$leaked $t"
done
check "the log holds no whole token" "" "$leaked"

#### i) bind = remote_user where no user is known yet ########################
# Apache's mod_authnz_fcgi runs the gate as the authenticator: REMOTE_USER
# is not set. A token bound to a user is refused, and the log says why.
ar_stop_app
ar_write_config bind=remote_user token_rate=0
ar_start_app 1
ar_token REMOTE_USER=carol
authz POST "$PAGE" HTTP_IDEMPOTENCY_KEY="$AR_TOKEN" HTTP_X_USER=
check_error "bind = remote_user, a gate request without REMOTE_USER" 422 invalid_token
check_contains "... and the log says why" "bind = remote_user, but the front sent no REMOTE_USER" \
	"$(cat "$AR_TMP/app.log")"
authz POST "$PAGE" HTTP_IDEMPOTENCY_KEY="$AR_TOKEN" REMOTE_USER=carol
check "with the user (a front that authenticates first): allowed" 200 "$AR_STATUS"
ar_done
