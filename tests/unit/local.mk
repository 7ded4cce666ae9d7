## Unit tests (cmocka), one program per pure module; they link the
## convenience library and need no network.
if UNIT_TESTS
check_PROGRAMS += tests/unit/test_config
TESTS += tests/unit/test_config
tests_unit_test_config_SOURCES = tests/unit/test_config.c
tests_unit_test_config_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_config_LDADD = src/libantireplay.a $(DEP_LIBS) $(CMOCKA_LIBS)

check_PROGRAMS += tests/unit/test_router
TESTS += tests/unit/test_router
tests_unit_test_router_SOURCES = tests/unit/test_router.c
tests_unit_test_router_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_router_LDADD = src/libantireplay.a $(DEP_LIBS) $(CMOCKA_LIBS)

check_PROGRAMS += tests/unit/test_form
TESTS += tests/unit/test_form
tests_unit_test_form_SOURCES = tests/unit/test_form.c
tests_unit_test_form_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_form_LDADD = src/libantireplay.a $(DEP_LIBS) $(CMOCKA_LIBS)

check_PROGRAMS += tests/unit/test_order
TESTS += tests/unit/test_order
tests_unit_test_order_SOURCES = tests/unit/test_order.c
tests_unit_test_order_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_order_LDADD = src/libantireplay.a $(DEP_LIBS) $(CMOCKA_LIBS)

check_PROGRAMS += tests/unit/test_token
TESTS += tests/unit/test_token
tests_unit_test_token_SOURCES = tests/unit/test_token.c
tests_unit_test_token_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_token_LDADD = src/libantireplay.a $(DEP_LIBS) $(CMOCKA_LIBS)

check_PROGRAMS += tests/unit/test_identity
TESTS += tests/unit/test_identity
tests_unit_test_identity_SOURCES = tests/unit/test_identity.c
tests_unit_test_identity_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_identity_LDADD = src/libantireplay.a $(DEP_LIBS) $(CMOCKA_LIBS)

check_PROGRAMS += tests/unit/test_response
TESTS += tests/unit/test_response
tests_unit_test_response_SOURCES = tests/unit/test_response.c
tests_unit_test_response_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_response_LDADD = src/libantireplay.a $(DEP_LIBS) $(CMOCKA_LIBS)

check_PROGRAMS += tests/unit/test_util
TESTS += tests/unit/test_util
tests_unit_test_util_SOURCES = tests/unit/test_util.c
tests_unit_test_util_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_util_LDADD = src/libantireplay.a $(DEP_LIBS) $(CMOCKA_LIBS)
endif
