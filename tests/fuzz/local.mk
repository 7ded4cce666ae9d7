## tests/fuzz: libFuzzer targets for every parser that sees outside input.
## `make check` replays the corpora with a plain driver (any compiler);
## `./configure --enable-fuzzing CC=clang && make fuzz FUZZ_SECONDS=N` fuzzes.
## The targets are these sources, listed once: tests/fuzz/fuzz_<name>.c
## defines target <name> (FUZZ_TARGET, tests/fuzz/fuzz.h), whose corpus is
## tests/fuzz/corpus/<name>. Both programs link them all and pick one by
## name: `replay NAME PATH...`, `AR_FUZZ_TARGET=NAME fuzz [libFuzzer args]`.
FUZZ_TARGET_SOURCES = tests/fuzz/fuzz_accept.c tests/fuzz/fuzz_config.c tests/fuzz/fuzz_drain_entry.c \
	tests/fuzz/fuzz_form.c tests/fuzz/fuzz_idem_key.c tests/fuzz/fuzz_identity.c tests/fuzz/fuzz_order.c \
	tests/fuzz/fuzz_router.c tests/fuzz/fuzz_token.c
FUZZ_COMMON_SOURCES = tests/fuzz/fuzz.h tests/fuzz/registry.c

check_PROGRAMS += tests/fuzz/replay
tests_fuzz_replay_SOURCES = $(FUZZ_TARGET_SOURCES) $(FUZZ_COMMON_SOURCES) \
	tests/fuzz/standalone_main.c
tests_fuzz_replay_LDADD = src/libantireplay.a $(DEP_LIBS)
TESTS += tests/fuzz/run-corpus.sh
dist_check_SCRIPTS += tests/fuzz/run-corpus.sh
EXTRA_DIST += tests/fuzz/corpus

if FUZZING
## The library again, instrumented for coverage, for the libFuzzer program.
noinst_LIBRARIES += tests/fuzz/libfuzzcore.a
tests_fuzz_libfuzzcore_a_SOURCES = $(src_libantireplay_a_SOURCES)
nodist_tests_fuzz_libfuzzcore_a_SOURCES = src/scripts_gen.c
tests_fuzz_libfuzzcore_a_CFLAGS = $(AM_CFLAGS) $(FUZZ_CFLAGS)
noinst_PROGRAMS += tests/fuzz/fuzz
tests_fuzz_fuzz_SOURCES = $(FUZZ_TARGET_SOURCES) $(FUZZ_COMMON_SOURCES) \
	tests/fuzz/libfuzzer_main.c
tests_fuzz_fuzz_CFLAGS = $(AM_CFLAGS) $(FUZZ_CFLAGS)
tests_fuzz_fuzz_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_LDADD = tests/fuzz/libfuzzcore.a $(DEP_LIBS)

FUZZ_SECONDS = 30
## Each target runs for FUZZ_SECONDS on a working copy of its corpus (the
## source tree stays read-only); crashes are left in fuzz-work/.
fuzz: tests/fuzz/fuzz
	@set -e; for src in $(FUZZ_TARGET_SOURCES); do \
	  t=$${src##*/fuzz_}; t=$${t%.c}; \
	  $(MKDIR_P) fuzz-work/$$t; \
	  echo "== fuzzing $$t for $(FUZZ_SECONDS) s"; \
	  AR_FUZZ_TARGET=$$t tests/fuzz/fuzz -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
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
