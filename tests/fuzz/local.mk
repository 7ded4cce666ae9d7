## tests/fuzz: libFuzzer targets for every parser that sees outside input.
## `make check` replays the corpora with a plain driver (any compiler);
## `./configure --enable-fuzzing CC=clang && make fuzz FUZZ_SECONDS=N` fuzzes.
FUZZ_NAMES = form order token identity router config drain_entry
FUZZ_LIBS = $(DEP_LIBS)

check_PROGRAMS += tests/fuzz/replay_form tests/fuzz/replay_order tests/fuzz/replay_token \
	tests/fuzz/replay_identity tests/fuzz/replay_router tests/fuzz/replay_config \
	tests/fuzz/replay_drain_entry
TESTS += tests/fuzz/run-corpus.sh
dist_check_SCRIPTS += tests/fuzz/run-corpus.sh
REPLAY_LDADD = src/libantireplay.a $(FUZZ_LIBS)
tests_fuzz_replay_form_SOURCES = tests/fuzz/fuzz_form.c tests/fuzz/standalone_main.c
tests_fuzz_replay_form_LDADD = $(REPLAY_LDADD)
tests_fuzz_replay_order_SOURCES = tests/fuzz/fuzz_order.c tests/fuzz/standalone_main.c
tests_fuzz_replay_order_LDADD = $(REPLAY_LDADD)
tests_fuzz_replay_token_SOURCES = tests/fuzz/fuzz_token.c tests/fuzz/standalone_main.c
tests_fuzz_replay_token_LDADD = $(REPLAY_LDADD)
tests_fuzz_replay_identity_SOURCES = tests/fuzz/fuzz_identity.c tests/fuzz/standalone_main.c
tests_fuzz_replay_identity_LDADD = $(REPLAY_LDADD)
tests_fuzz_replay_router_SOURCES = tests/fuzz/fuzz_router.c tests/fuzz/standalone_main.c
tests_fuzz_replay_router_LDADD = $(REPLAY_LDADD)
tests_fuzz_replay_config_SOURCES = tests/fuzz/fuzz_config.c tests/fuzz/standalone_main.c
tests_fuzz_replay_config_LDADD = $(REPLAY_LDADD)
tests_fuzz_replay_drain_entry_SOURCES = tests/fuzz/fuzz_drain_entry.c tests/fuzz/standalone_main.c
tests_fuzz_replay_drain_entry_LDADD = $(REPLAY_LDADD)

EXTRA_DIST += tests/fuzz/corpus

if FUZZING
## The library again, instrumented for coverage, for the libFuzzer binaries.
noinst_LIBRARIES += tests/fuzz/libfuzzcore.a
tests_fuzz_libfuzzcore_a_SOURCES = $(src_libantireplay_a_SOURCES)
nodist_tests_fuzz_libfuzzcore_a_SOURCES = src/scripts_gen.c
tests_fuzz_libfuzzcore_a_CFLAGS = $(AM_CFLAGS) $(FUZZ_CFLAGS)
FUZZ_LDADD = tests/fuzz/libfuzzcore.a $(FUZZ_LIBS)
noinst_PROGRAMS += tests/fuzz/fuzz_form tests/fuzz/fuzz_order tests/fuzz/fuzz_token \
	tests/fuzz/fuzz_identity tests/fuzz/fuzz_router tests/fuzz/fuzz_config \
	tests/fuzz/fuzz_drain_entry
tests_fuzz_fuzz_form_SOURCES = tests/fuzz/fuzz_form.c
tests_fuzz_fuzz_form_CFLAGS = $(AM_CFLAGS) $(FUZZ_CFLAGS)
tests_fuzz_fuzz_form_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_form_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_order_SOURCES = tests/fuzz/fuzz_order.c
tests_fuzz_fuzz_order_CFLAGS = $(AM_CFLAGS) $(FUZZ_CFLAGS)
tests_fuzz_fuzz_order_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_order_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_token_SOURCES = tests/fuzz/fuzz_token.c
tests_fuzz_fuzz_token_CFLAGS = $(AM_CFLAGS) $(FUZZ_CFLAGS)
tests_fuzz_fuzz_token_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_token_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_identity_SOURCES = tests/fuzz/fuzz_identity.c
tests_fuzz_fuzz_identity_CFLAGS = $(AM_CFLAGS) $(FUZZ_CFLAGS)
tests_fuzz_fuzz_identity_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_identity_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_router_SOURCES = tests/fuzz/fuzz_router.c
tests_fuzz_fuzz_router_CFLAGS = $(AM_CFLAGS) $(FUZZ_CFLAGS)
tests_fuzz_fuzz_router_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_router_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_config_SOURCES = tests/fuzz/fuzz_config.c
tests_fuzz_fuzz_config_CFLAGS = $(AM_CFLAGS) $(FUZZ_CFLAGS)
tests_fuzz_fuzz_config_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_config_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_drain_entry_SOURCES = tests/fuzz/fuzz_drain_entry.c
tests_fuzz_fuzz_drain_entry_CFLAGS = $(AM_CFLAGS) $(FUZZ_CFLAGS)
tests_fuzz_fuzz_drain_entry_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_drain_entry_LDADD = $(FUZZ_LDADD)

FUZZ_SECONDS = 30
## Each target runs for FUZZ_SECONDS on a working copy of its corpus (the
## source tree stays read-only); crashes are left in fuzz-work/.
fuzz: $(noinst_PROGRAMS)
	@set -e; for t in $(FUZZ_NAMES); do \
	  $(MKDIR_P) fuzz-work/$$t; \
	  echo "== fuzzing $$t for $(FUZZ_SECONDS) s"; \
	  tests/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
	    -print_final_stats=1 -artifact_prefix=fuzz-work/$$t- \
	    fuzz-work/$$t $(srcdir)/tests/fuzz/corpus/$$t; \
	done
else
fuzz:
	@echo "make fuzz needs a libFuzzer build: ./configure --enable-fuzzing CC=clang" >&2; exit 1
endif
.PHONY: fuzz
clean-local: clean-fuzz
clean-fuzz:
	-rm -rf fuzz-work
