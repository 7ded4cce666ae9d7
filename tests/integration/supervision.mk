## Process supervision: the app under spawn-fcgi -n + multiwatch (kill -9,
## SIGTERM, clients that hang up), and the systemd units of conf/systemd
## checked with systemd-analyze.
SUPERVISION_TESTS = \
	tests/integration/test_supervision.sh \
	tests/integration/test_systemd_units.sh
TESTS += $(SUPERVISION_TESTS)
dist_check_SCRIPTS += $(SUPERVISION_TESTS)
## Its fixtures (multiwatch, one bare worker), test_fcgi_cve.sh's too.
EXTRA_DIST += tests/lib/supervision.sh
