## tests/valgrind: `make check-valgrind` (not part of make check).
##   test_lifecycle.sh  the command line, startup with Redis down, reconnect,
##                      a half-sent body, a stalled client, a refused AUTH,
##                      SIGTERM: every process under valgrind's memcheck
##   test_e2e.sh        tests/e2e/test_nginx.sh with every worker under
##                      memcheck (AR_APP_WRAPPER)
##   test_rss.sh        no valgrind: one worker, 100 then 10,000 requests,
##                      VmRSS within 5%
## Every memcheck log must be complete, with zero errors and zero bytes
## definitely lost. Needs valgrind (Debian package: valgrind); override the
## program with `make check-valgrind VALGRIND=/path/to/valgrind`.
VALGRIND = valgrind
VALGRIND_TESTS = tests/valgrind/test_lifecycle.sh tests/valgrind/test_e2e.sh \
	tests/valgrind/test_rss.sh
EXTRA_DIST += $(VALGRIND_TESTS) tests/valgrind/fcgi-mix.pl tests/lib/valgrind.sh
CLEANFILES += $(VALGRIND_TESTS:.sh=.log) $(VALGRIND_TESTS:.sh=.trs) \
	tests/valgrind/test-suite.log

check-valgrind: all
	@if ! $(VALGRIND) --version >/dev/null 2>&1; then \
	  echo "check-valgrind: '$(VALGRIND)' does not run: install valgrind" \
	    "(Debian: apt-get install valgrind) or pass VALGRIND=PROGRAM" >&2; \
	  exit 1; \
	fi
	@VALGRIND='$(VALGRIND)'; export VALGRIND; \
	$(MAKE) $(AM_MAKEFLAGS) check-TESTS TESTS='$(VALGRIND_TESTS)' \
	  TEST_SUITE_LOG=tests/valgrind/test-suite.log || { \
	  cat tests/valgrind/test-suite.log; exit 1; }
.PHONY: check-valgrind
