# tests/e2e/http.sh: curl helpers for the e2e tests, front-agnostic.
# Sourced after tests/lib.sh and ar_setup; requests go to $AR_URL.
#
#   ar_http METHOD PATH [curl args...]  one request; sets H_STATUS, H_HEADERS
#                          (CR stripped), H_BODY, H_SIZE (bytes of body read);
#                          the raw body stays in $AR_TMP/http.body
#   ar_http_front METHOD PATH [curl args...]  the same for a request the front
#                          may answer itself (a path outside its location, a
#                          refused body): not counted by check_every_response
#   h_header NAME          a response header of the last ar_http (the last
#                          one if repeated)
#   h_header_count NAME    how many times the last response carried NAME
#   h_json FILTER          jq -r FILTER on the last body
#   check_status DESC STATUS [ERROR_CODE]
#   check_every_response   exactly one Cache-Control: no-store and a
#                          Content-Length on every response ar_http saw

: "${JQ:=$(command -v jq || true)}"

H_COUNT=0
H_NO_CACHE=""
H_NO_LENGTH=""

ar_http() {
	ar_http_front "$@"
	H_COUNT=$((H_COUNT + 1))
	if [ "$(h_header Cache-Control)" != no-store ] ||
		[ "$(h_header_count Cache-Control)" != 1 ]; then
		H_NO_CACHE="$H_NO_CACHE [$h_method $h_path -> $H_STATUS]"
	fi
	[ -n "$(h_header Content-Length)" ] ||
		H_NO_LENGTH="$H_NO_LENGTH [$h_method $h_path -> $H_STATUS]"
}

ar_http_front() {
	h_method=$1 h_path=$2
	shift 2
	if [ "$h_method" = HEAD ]; then
		set -- --head "$@"
	else
		set -- -X "$h_method" "$@"
	fi
	rm -f "$AR_TMP/http.head" "$AR_TMP/http.body"
	# "Expect:" keeps curl from waiting for 100-continue on larger bodies.
	# -m 60: above the fronts' own timeouts (5 s) with room for a slow
	# machine, so a front's answer is what a test sees, never curl's limit.
	h_out=$("$CURL" -sS -m 60 -H 'Expect:' -o "$AR_TMP/http.body" -D "$AR_TMP/http.head" \
		-w '%{http_code} %{size_download}' "$@" "$AR_URL$h_path" 2>"$AR_TMP/http.err")
	H_STATUS=${h_out%% *}
	H_SIZE=${h_out#* }
	H_HEADERS=$(tr -d '\r' <"$AR_TMP/http.head" 2>/dev/null)
	if [ "$h_method" = HEAD ]; then
		H_BODY=""
		: >"$AR_TMP/http.body"
	else
		H_BODY=$(cat "$AR_TMP/http.body" 2>/dev/null)
	fi
}

h_header() {
	printf '%s\n' "$H_HEADERS" | sed -n "s/^$1:[ 	]*//Ip" | tail -n 1
}

h_header_count() {
	printf '%s\n' "$H_HEADERS" | grep -ci "^$1:"
}

h_json() {
	"$JQ" -r "$1" <"$AR_TMP/http.body" 2>/dev/null
}

# check_status DESC STATUS [ERROR_CODE]: the status, and the error member.
check_status() {
	if [ $# -ge 3 ]; then
		h_err=$(h_json '.error')
		if [ "$H_STATUS" = "$2" ] && [ "$h_err" = "$3" ]; then
			ok "$1"
		else
			not_ok "$1 (expected $2 $3, got $H_STATUS: $H_BODY)"
		fi
	else
		if [ "$H_STATUS" = "$2" ]; then
			ok "$1"
		else
			not_ok "$1 (expected $2, got $H_STATUS: $H_BODY)"
		fi
	fi
}

check_every_response() {
	if [ -z "$H_NO_CACHE" ]; then
		ok "one Cache-Control: no-store on all $H_COUNT responses"
	else
		not_ok "not exactly one Cache-Control: no-store on:$H_NO_CACHE"
	fi
	if [ -z "$H_NO_LENGTH" ]; then
		ok "Content-Length on all $H_COUNT responses"
	else
		not_ok "Content-Length missing on:$H_NO_LENGTH"
	fi
}

# ar_http_until STATUS METHOD PATH [curl args...]: repeats the request
# (every 0.1 s, for up to 60 s: a worker under valgrind on a slow machine
# may first have a backlog to work off) until it answers STATUS; the last
# answer stays.
ar_http_until() {
	hu_want=$1
	shift
	hu_end=$(($(date +%s) + 60))
	ar_http "$@"
	while [ "$H_STATUS" != "$hu_want" ] && [ "$(date +%s)" -lt $hu_end ]; do
		sleep 0.1
		ar_http "$@"
	done
}
