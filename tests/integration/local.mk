## tests/integration/: a private redis-server on a unix socket in a temp
## folder, the real binary under spawn-fcgi, driven with cgi-fcgi.
INTEGRATION_TESTS = \
	tests/integration/test_cli.sh \
	tests/integration/test_submit.sh \
	tests/integration/test_redis_down.sh \
	tests/integration/test_races.sh \
	tests/integration/test_drain.sh
TESTS += $(INTEGRATION_TESTS)
dist_check_SCRIPTS += $(INTEGRATION_TESTS)
## tests/lib.sh: the core fixtures every shell test sources; each family
## in tests/lib/ is distributed by the fragment of the tests that use it.
EXTRA_DIST += tests/lib.sh tests/mariadb.sh tests/integration/drain.sh
## The browser's plain HTML form (Post/Redirect/Get) and GET /order-form.
TESTS += tests/integration/test_form_flow.sh
dist_check_SCRIPTS += tests/integration/test_form_flow.sh
TESTS += tests/integration/test_store_guards.sh tests/integration/test_script_args.sh \
	tests/integration/test_client_keys.sh tests/integration/test_gate.sh \
	tests/integration/test_sentinel.sh tests/integration/test_failover.sh \
	tests/integration/test_cluster.sh
dist_check_SCRIPTS += tests/integration/test_store_guards.sh tests/integration/test_script_args.sh \
	tests/integration/test_client_keys.sh tests/integration/test_gate.sh \
	tests/integration/test_sentinel.sh tests/integration/test_failover.sh \
	tests/integration/test_cluster.sh
EXTRA_DIST += tests/lib/sentinel.sh tests/integration/repl_relay.pl
## test_gate.sh's loopback proxy that holds Redis's replies (perl-base).
EXTRA_DIST += tests/integration/redis_stall_proxy.pl
