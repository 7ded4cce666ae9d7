## Unit tests (cmocka), one program per pure module; they link the
## convenience library and need no network. Each is built from its own
## tests/unit/<name>.c (automake's default source) with the LDADD below,
## the default for programs that name none.
if UNIT_TESTS
UNIT_TESTS_LIST = tests/unit/test_config tests/unit/test_router tests/unit/test_form \
	tests/unit/test_order tests/unit/test_token tests/unit/test_identity \
	tests/unit/test_response tests/unit/test_util tests/unit/test_strbuf \
	tests/unit/test_drain_entry tests/unit/test_keyspace tests/unit/test_redis_args \
	tests/unit/test_sha256 tests/unit/test_idem_key tests/unit/test_accept \
	tests/unit/test_form_redirect
check_PROGRAMS += $(UNIT_TESTS_LIST)
TESTS += $(UNIT_TESTS_LIST)
AM_CFLAGS += $(CMOCKA_CFLAGS)
LDADD = src/libantireplay.a $(DEP_LIBS) $(CMOCKA_LIBS)
endif

## The jansson oracle of order_write_json (test_order and the order fuzzer).
EXTRA_DIST += tests/order_jansson.h
