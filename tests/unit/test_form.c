/* Unit tests for form: application/x-www-form-urlencoded decoding (plus and
 * percent), repeated fields in body order, empty pieces, bad escapes and NUL
 * bytes. Expected values come from form.h. */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "form.h"

#define MAXF 100

/* Parses a NUL-terminated body; fails the test unless it parses. */
static void parse_ok(const char *body, struct form *f)
{
	char err[128] = "";

	memset(f, 0, sizeof *f);
	if (form_parse(body, strlen(body), MAXF, f, err, sizeof err) != 0)
		fail_msg("form_parse(\"%s\") failed: %s", body, err);
}

/* Expects body[0..len) to be refused, with an empty form and a reason. */
static void parse_bad(const char *body, size_t len, size_t max_fields)
{
	struct form f;
	char err[128] = "";

	memset(&f, 0, sizeof f);
	if (form_parse(body, len, max_fields, &f, err, sizeof err) != -1)
		fail_msg("form_parse accepted \"%.*s\"", (int)len, body);
	assert_int_equal(f.n_fields, 0);
	assert_true(err[0] != '\0');
	form_free(&f);
}

static void expect_field(const struct form *f, size_t i, const char *name, const char *value)
{
	assert_true(i < f->n_fields);
	assert_string_equal(f->fields[i].name, name);
	assert_int_equal(f->fields[i].value_len, strlen(value));
	assert_memory_equal(f->fields[i].value, value, strlen(value) + 1);
}

static void test_simple_fields(void **state)
{
	struct form f;

	(void)state;
	parse_ok("a=1&b=2", &f);
	assert_int_equal(f.n_fields, 2);
	expect_field(&f, 0, "a", "1");
	expect_field(&f, 1, "b", "2");
	form_free(&f);
}

static void test_plus_is_space(void **state)
{
	struct form f;

	(void)state;
	parse_ok("customer=Ann+B+Smith&a+b=c++d", &f);
	assert_int_equal(f.n_fields, 2);
	expect_field(&f, 0, "customer", "Ann B Smith");
	expect_field(&f, 1, "a b", "c  d");
	form_free(&f);
}

static void test_percent_decoding(void **state)
{
	struct form f;

	(void)state;
	parse_ok("x=%41%42c&y=J%C3%BCrgen&z=%2B%26%3D%25&%6Eame=v&l=%4a%4A&p=%20", &f);
	assert_int_equal(f.n_fields, 6);
	expect_field(&f, 0, "x", "ABc");
	expect_field(&f, 1, "y", "J\xc3\xbcrgen");
	expect_field(&f, 2, "z", "+&=%");
	expect_field(&f, 3, "name", "v");
	expect_field(&f, 4, "l", "JJ");
	expect_field(&f, 5, "p", " ");
	form_free(&f);
}

static void test_encoded_separators_do_not_split(void **state)
{
	struct form f;

	(void)state;
	parse_ok("a=1%262&b%3Dc=d", &f);
	assert_int_equal(f.n_fields, 2);
	expect_field(&f, 0, "a", "1&2");
	expect_field(&f, 1, "b=c", "d");
	form_free(&f);
}

static void test_value_keeps_later_equals(void **state)
{
	struct form f;

	(void)state;
	parse_ok("a=b=c", &f);
	assert_int_equal(f.n_fields, 1);
	expect_field(&f, 0, "a", "b=c");
	form_free(&f);
}

static void test_repeated_fields_in_order(void **state)
{
	struct form f;
	const struct form_field *first;

	(void)state;
	parse_ok("sku=A&qty=1&sku=B&qty=2&token=t&sku=C&qty=3", &f);
	assert_int_equal(f.n_fields, 7);
	expect_field(&f, 0, "sku", "A");
	expect_field(&f, 1, "qty", "1");
	expect_field(&f, 2, "sku", "B");
	expect_field(&f, 3, "qty", "2");
	expect_field(&f, 4, "token", "t");
	expect_field(&f, 5, "sku", "C");
	expect_field(&f, 6, "qty", "3");
	assert_int_equal(form_count(&f, "sku"), 3);
	assert_int_equal(form_count(&f, "qty"), 3);
	assert_int_equal(form_count(&f, "token"), 1);
	assert_int_equal(form_count(&f, "customer"), 0);
	assert_int_equal(form_count(&f, "sk"), 0);
	first = form_get(&f, "sku");
	assert_non_null(first);
	assert_string_equal(first->value, "A");
	assert_null(form_get(&f, "customer"));
	assert_null(form_get(&f, "SKU"));
	form_free(&f);
}

static void test_empty_pieces_skipped(void **state)
{
	struct form f;

	(void)state;
	parse_ok("a=1&&b=2", &f);
	assert_int_equal(f.n_fields, 2);
	expect_field(&f, 0, "a", "1");
	expect_field(&f, 1, "b", "2");
	form_free(&f);

	parse_ok("&a=1&", &f);
	assert_int_equal(f.n_fields, 1);
	expect_field(&f, 0, "a", "1");
	form_free(&f);

	parse_ok("&&&", &f);
	assert_int_equal(f.n_fields, 0);
	form_free(&f);

	parse_ok("", &f);
	assert_int_equal(f.n_fields, 0);
	assert_int_equal(form_count(&f, "a"), 0);
	assert_null(form_get(&f, "a"));
	form_free(&f);
}

static void test_piece_without_equals(void **state)
{
	struct form f;

	(void)state;
	parse_ok("flag&a=1&b=", &f);
	assert_int_equal(f.n_fields, 3);
	expect_field(&f, 0, "flag", "");
	expect_field(&f, 1, "a", "1");
	expect_field(&f, 2, "b", "");
	form_free(&f);
}

static void test_bad_escapes(void **state)
{
	static const char *const bad[] = {
	    "a=%", "a=%4", "a=%G1", "a=%4G", "a=%%41", "a=1&b=%zz",
	    "%=1", "%4=1", "a%x=1", "a=%+1", "a=% 1",  "a=1%",
	};

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		parse_bad(bad[i], strlen(bad[i]), MAXF);
}

static void test_bad_escape_cut_by_len(void **state)
{
	(void)state;
	/* "a=%41" cut after the '%' and after the first hex digit. */
	parse_bad("a=%41", 3, MAXF);
	parse_bad("a=%41", 4, MAXF);
}

static void test_nul_in_name(void **state)
{
	(void)state;
	parse_bad("a%00b=1", 7, MAXF);
	parse_bad("x=1&%00=1", 9, MAXF);
	parse_bad("a\0b=1", 5, MAXF);
	parse_bad("ok=1&a\0", 7, MAXF);
}

static void test_nul_in_value(void **state)
{
	struct form f;
	char err[128];

	(void)state;
	memset(&f, 0, sizeof f);
	assert_int_equal(form_parse("v=a%00b&w=x\0y", 13, MAXF, &f, err, sizeof err), 0);
	assert_int_equal(f.n_fields, 2);
	assert_string_equal(f.fields[0].name, "v");
	assert_int_equal(f.fields[0].value_len, 3);
	assert_memory_equal(f.fields[0].value, "a\0b", 4);
	assert_string_equal(f.fields[1].name, "w");
	assert_int_equal(f.fields[1].value_len, 3);
	assert_memory_equal(f.fields[1].value, "x\0y", 4);
	form_free(&f);
}

static void test_len_bounds_body(void **state)
{
	struct form f;
	char err[128];

	(void)state;
	memset(&f, 0, sizeof f);
	assert_int_equal(form_parse("a=1&b=2", 3, MAXF, &f, err, sizeof err), 0);
	assert_int_equal(f.n_fields, 1);
	expect_field(&f, 0, "a", "1");
	form_free(&f);
}

static void test_max_fields(void **state)
{
	struct form f;
	char err[128];

	(void)state;
	memset(&f, 0, sizeof f);
	assert_int_equal(form_parse("a=1&b=2&c=3", 11, 3, &f, err, sizeof err), 0);
	assert_int_equal(f.n_fields, 3);
	form_free(&f);

	parse_bad("a=1&b=2&c=3", 11, 2);

	/* Empty pieces do not count. */
	memset(&f, 0, sizeof f);
	assert_int_equal(form_parse("a=1&&&b=2", 9, 2, &f, err, sizeof err), 0);
	assert_int_equal(f.n_fields, 2);
	form_free(&f);
}

static void test_free_empties_and_is_null_safe(void **state)
{
	struct form f;

	(void)state;
	parse_ok("a=1", &f);
	form_free(&f);
	assert_int_equal(f.n_fields, 0);
	form_free(&f); /* twice: empty now */
	form_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_simple_fields),
	    cmocka_unit_test(test_plus_is_space),
	    cmocka_unit_test(test_percent_decoding),
	    cmocka_unit_test(test_encoded_separators_do_not_split),
	    cmocka_unit_test(test_value_keeps_later_equals),
	    cmocka_unit_test(test_repeated_fields_in_order),
	    cmocka_unit_test(test_empty_pieces_skipped),
	    cmocka_unit_test(test_piece_without_equals),
	    cmocka_unit_test(test_bad_escapes),
	    cmocka_unit_test(test_bad_escape_cut_by_len),
	    cmocka_unit_test(test_nul_in_name),
	    cmocka_unit_test(test_nul_in_value),
	    cmocka_unit_test(test_len_bounds_body),
	    cmocka_unit_test(test_max_fields),
	    cmocka_unit_test(test_free_empties_and_is_null_safe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
