## Limits and security at the app's own socket: max_body, order bounds,
## huge and many FastCGI params, oversize tokens and identities
## (test_limits.sh); CVE-2025-23016 crafted param lengths under multiwatch
## (test_fcgi_cve.sh); issuance flood, Redis bytes per token, secrets in
## logs, header injection, JSON escaping (test_security.sh). fcgi_probe.pl is
## the raw FastCGI client they share (perl-base only); tests/lib/probe.sh
## drives it.
LIMITS_TESTS = \
	tests/integration/test_limits.sh \
	tests/integration/test_fcgi_cve.sh \
	tests/integration/test_security.sh
TESTS += $(LIMITS_TESTS)
dist_check_SCRIPTS += $(LIMITS_TESTS)
EXTRA_DIST += tests/integration/fcgi_probe.pl tests/lib/probe.sh
