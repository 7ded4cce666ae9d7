# tests/lib/front.sh: fixtures for a web server in front of the app.
# Sourced after tests/lib.sh (and before tests/e2e/nginx.sh, apache.sh or
# lighttpd.sh, which use it) by the tests that start nginx, Apache or
# lighttpd. The server listens on 127.0.0.1 only.
#
#   ar_snippet SRC [FROM TO]...  SRC (a conf/ snippet as shipped) with each
#                               literal FROM replaced by TO, on stdout; a FROM
#                               that SRC lacks fails
#   ar_start_front NAME PING_PATH NONCE LAUNCH LOG...  a web server on a free
#                               127.0.0.1 port: sets AR_FRONT_PORT, AR_URL
#                               (LAUNCH PORT starts it, PID in AR_FRONT_PID)

# ar_snippet SRC [FROM TO]...: SRC with each literal FROM replaced by TO, on
# stdout. A FROM that SRC does not contain fails loudly (the shipped snippet
# changed shape), so the tests always use the conf/ files as shipped.
ar_snippet() {
	sn_src=$1
	shift
	: >"$AR_TMP/snippet.sed"
	while [ $# -ge 2 ]; do
		if ! grep -qF -- "$1" "$sn_src"; then
			echo "# $sn_src: no '$1' to substitute" >&2
			return 1
		fi
		# '#' is the sed delimiter; escape what is special in a sed RE and
		# in the replacement.
		sn_from=$(printf '%s' "$1" | sed -e 's/[]#.*^$[\\]/\\&/g')
		sn_to=$(printf '%s' "$2" | sed -e 's/[#&\\]/\\&/g')
		printf 's#%s#%s#g\n' "$sn_from" "$sn_to" >>"$AR_TMP/snippet.sed"
		shift 2
	done
	sed -f "$AR_TMP/snippet.sed" "$sn_src"
}

# ar_start_front NAME PING_PATH NONCE LAUNCH LOG...: a web server on a free
# 127.0.0.1 port. For each candidate port (derived from the PID, at most 20)
# it calls "LAUNCH PORT", which writes the server's config for PORT and
# starts it in the background with its PID in AR_FRONT_PID. The server is
# ready when GET PING_PATH answers NONCE (proof that it is ours); then
# AR_FRONT_PORT and AR_URL are set. One that exits with "Address already in
# use" in a LOG moves on to the next port; any other failure shows the LOGs
# and ends the test.
ar_start_front() {
	fr_name=$1 fr_ping=$2 fr_nonce=$3 fr_launch=$4
	shift 4
	fr_try=0
	while [ $fr_try -lt 20 ]; do
		AR_FRONT_PORT=$((20000 + ($$ * 17 + fr_try * 1009) % 30000))
		fr_try=$((fr_try + 1))
		fr_code=$("$CURL" -s -o /dev/null -m 2 -w '%{http_code}' \
			"http://127.0.0.1:$AR_FRONT_PORT/" 2>/dev/null)
		[ "$fr_code" = 000 ] || continue
		"$fr_launch" "$AR_FRONT_PORT" || exit 1
		ar_track "$AR_FRONT_PID"
		AR_URL=http://127.0.0.1:$AR_FRONT_PORT
		# Up to 60 s (Apache on a slow machine takes seconds), less when
		# the server dies.
		fr_end=$(($(date +%s) + 60))
		while [ "$(date +%s)" -lt $fr_end ] && ar_alive "$AR_FRONT_PID"; do
			fr_body=$("$CURL" -s -m 5 "$AR_URL$fr_ping" 2>/dev/null)
			[ "$fr_body" = "$fr_nonce" ] && return 0
			sleep 0.1
		done
		ar_stop_pid "$AR_FRONT_PID"
		if grep -qs 'Address already in use' "$@"; then
			continue
		fi
		echo "# $fr_name did not start on port $AR_FRONT_PORT:"
		for fr_log in "$@"; do
			[ -f "$fr_log" ] && sed 's/^/#   /' "$fr_log"
		done
		exit 1
	done
	echo "# no free loopback port for $fr_name after $fr_try tries"
	exit 1
}
