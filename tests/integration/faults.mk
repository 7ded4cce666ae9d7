## Fault injection with exact accounting: Redis killed (SIGKILL, AOF with
## appendfsync always), slowed, full and script-flushed under load; web
## server connections that stall or never read; nginx restarted and
## reloaded under load. Each test stays under ~40 s. They source
## tests/lib/faults.sh (distributed here), and tests/lib.sh,
## tests/lib/front.sh and tests/e2e/nginx.sh (by their own fragments).
FAULT_TESTS = \
	tests/integration/test_fault_kill.sh \
	tests/integration/test_fault_redis.sh \
	tests/integration/test_fault_client.sh \
	tests/integration/test_fault_nginx.sh \
	tests/integration/test_drain_faults.sh
TESTS += $(FAULT_TESTS)
dist_check_SCRIPTS += $(FAULT_TESTS)
EXTRA_DIST += tests/lib/faults.sh
