# tests/lib/probe.sh: FastCGI requests that cgi-fcgi cannot send, through
# tests/integration/fcgi_probe.pl (perl-base only). Sourced after
# tests/lib.sh by tests/integration/test_limits.sh and test_fcgi_cve.sh.
#
#   ar_probe FILE [fcgi_probe.pl options...]
#                       one request to $AR_APP_SOCK with what cgi-fcgi cannot
#                       send (params of any size or number, crafted length
#                       fields, a body sent in part): AR_PROBE is the client's
#                       summary line ("result=response|closed|timeout
#                       status=... stdout=... end=... stdin_sent=..."), and
#                       the response is parsed as by ar_parse (AR_STATUS 000
#                       when none came).
#   ar_probe_field NAME   a field of AR_PROBE (result, status, stdin_sent, ...)

ar_probe() {
	_out=$1
	shift
	: >"$_out"
	AR_PROBE=$(${AR_TIMEOUT:+"$AR_TIMEOUT" 60} perl "$top_srcdir/tests/integration/fcgi_probe.pl" \
		--socket "$AR_APP_SOCK" --out "$_out" "$@" 2>&1)
	ar_parse "$_out"
}

ar_probe_field() {
	printf '%s\n' "$AR_PROBE" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n 1
}

