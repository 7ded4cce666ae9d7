/* Unit tests for redis_args: arguments in the order added, numbers and
 * copies in the builder's own buffer (binary safe), the script head and
 * numkeys, and that running out of room or a refused argument marks the
 * command as not to be sent until the next start. */
#define _POSIX_C_SOURCE 200809L

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "redis_args.h"

static void expect_arg(const struct redis_args *a, int i, const char *want, size_t len)
{
	assert_int_equal(a->argvlen[i], len);
	assert_memory_equal(a->argv[i], want, len);
}

static void test_command_in_order(void **state)
{
	struct redis_args a;
	const char bytes[] = {'a', '\0', 'b'};
	char copied[] = "stock:x";

	(void)state;
	redis_args_init(&a, 8, 256);
	redis_args_start_command(&a);
	redis_args_add_str(&a, "SET");
	redis_args_add_copy(&a, copied, strlen(copied));
	copied[0] = 'X'; /* a copy does not follow its source */
	redis_args_add_int(&a, LLONG_MIN);
	redis_args_add(&a, bytes, sizeof bytes);
	redis_args_add_str(&a, "");
	assert_true(redis_args_ok(&a));
	assert_int_equal(a.argc, 5);
	expect_arg(&a, 0, "SET", 3);
	expect_arg(&a, 1, "stock:x", 7);
	expect_arg(&a, 2, "-9223372036854775808", 20);
	expect_arg(&a, 3, bytes, 3);
	assert_ptr_equal(a.argv[3], bytes); /* borrowed */
	expect_arg(&a, 4, "", 0);
	/* Starting again forgets the last command. */
	redis_args_start_command(&a);
	redis_args_add_int(&a, 0);
	assert_int_equal(a.argc, 1);
	expect_arg(&a, 0, "0", 1);
	redis_args_release(&a);
	assert_null(a.argv);
}

static void test_script_head_and_numkeys(void **state)
{
	struct redis_args a;

	(void)state;
	redis_args_init(&a, 16, 64);
	redis_args_start_script(&a);
	assert_int_equal(a.argc, REDIS_ARGS_SCRIPT_HEAD);
	redis_args_add_str(&a, "k1");
	redis_args_add_str(&a, "k2");
	redis_args_end_keys(&a);
	redis_args_add_int(&a, 42);
	assert_int_equal(a.numkeys, 2);
	assert_int_equal(a.argc, REDIS_ARGS_SCRIPT_HEAD + 3);
	expect_arg(&a, REDIS_ARGS_SCRIPT_HEAD, "k1", 2);
	expect_arg(&a, REDIS_ARGS_SCRIPT_HEAD + 2, "42", 2);
	/* A script call with no keys. */
	redis_args_start_script(&a);
	redis_args_end_keys(&a);
	assert_int_equal(a.numkeys, 0);
	redis_args_release(&a);
}

static void test_too_many_arguments_fail(void **state)
{
	struct redis_args a;

	(void)state;
	redis_args_init(&a, 2, 64);
	redis_args_start_command(&a);
	redis_args_add_str(&a, "a");
	redis_args_add_str(&a, "b");
	assert_true(redis_args_ok(&a));
	redis_args_add_str(&a, "c");
	assert_false(redis_args_ok(&a));
	assert_int_equal(a.argc, 2);
	redis_args_start_command(&a);
	assert_true(redis_args_ok(&a));
	redis_args_release(&a);
}

/* Each copy takes its length + 1: 10 bytes hold "1234" and "5678", not
 * a third. */
static void test_buffer_full_fails(void **state)
{
	struct redis_args a;

	(void)state;
	redis_args_init(&a, 8, 10);
	redis_args_start_command(&a);
	redis_args_add_copy(&a, "1234", 4);
	redis_args_add_int(&a, 5678);
	assert_true(redis_args_ok(&a));
	redis_args_add_int(&a, 9);
	assert_false(redis_args_ok(&a));
	assert_int_equal(a.argc, 2);
	expect_arg(&a, 0, "1234", 4);
	expect_arg(&a, 1, "5678", 4);
	redis_args_release(&a);
}

static void test_refused_argument_fails(void **state)
{
	struct redis_args a;

	(void)state;
	redis_args_init(&a, 4, 16);
	redis_args_start_script(&a);
	redis_args_fail(&a);
	redis_args_add_str(&a, "k");
	assert_false(redis_args_ok(&a));
	redis_args_start_script(&a);
	assert_true(redis_args_ok(&a));
	redis_args_release(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_command_in_order),
	    cmocka_unit_test(test_script_head_and_numkeys),
	    cmocka_unit_test(test_too_many_arguments_fail),
	    cmocka_unit_test(test_buffer_full_fails),
	    cmocka_unit_test(test_refused_argument_fails),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
