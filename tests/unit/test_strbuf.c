/* Unit tests for strbuf: growth, reset and detach, decimal formatting at
 * the edges of long long (checked against printf), and JSON string
 * escaping (checked against jansson, the library whose bytes we promise). */
#define _POSIX_C_SOURCE 200809L

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "strbuf.h"

static void test_put_grows_and_terminates(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	char want[5001];

	(void)state;
	for (int i = 0; i < 5000; i++) {
		strbuf_putc(&sb, (char)('a' + i % 26));
		want[i] = (char)('a' + i % 26);
	}
	want[5000] = '\0';
	assert_int_equal(sb.len, 5000);
	assert_true(sb.cap > 5000);
	assert_string_equal(sb.data, want);
	strbuf_put(&sb, "xyz", 2);
	strbuf_puts(&sb, "!");
	assert_int_equal(sb.len, 5003);
	assert_string_equal(sb.data + 5000, "xy!");
	strbuf_free(&sb);
	assert_null(sb.data);
	assert_int_equal(sb.len, 0);
	assert_int_equal(sb.cap, 0);
}

static void test_reset_keeps_memory(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	char *mem;
	size_t cap;

	(void)state;
	strbuf_puts(&sb, "a rather long first request body");
	mem = sb.data;
	cap = sb.cap;
	strbuf_reset(&sb);
	assert_int_equal(sb.len, 0);
	assert_string_equal(sb.data, "");
	strbuf_puts(&sb, "second");
	assert_ptr_equal(sb.data, mem);
	assert_int_equal(sb.cap, cap);
	assert_string_equal(sb.data, "second");
	strbuf_free(&sb);
}

static void test_detach(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	size_t len = 99;
	char *s;

	(void)state;
	s = strbuf_detach(&sb, &len); /* never appended: still a string */
	assert_non_null(s);
	assert_int_equal(len, 0);
	assert_string_equal(s, "");
	free(s);
	strbuf_puts(&sb, "order");
	s = strbuf_detach(&sb, &len);
	assert_int_equal(len, 5);
	assert_string_equal(s, "order");
	assert_null(sb.data);
	assert_int_equal(sb.len, 0);
	free(s);
}

static void test_reserve_and_commit(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	char *p;

	(void)state;
	strbuf_puts(&sb, "*2\r\n");
	p = strbuf_reserve(&sb, 1000);
	assert_non_null(p);
	assert_ptr_equal(p, sb.data + 4);
	assert_true(sb.cap >= 4 + 1000 + 1);
	memcpy(p, "$4\r\nPING", 8);
	strbuf_commit(&sb, 8);
	assert_int_equal(sb.len, 12);
	assert_string_equal(sb.data, "*2\r\n$4\r\nPING"); /* terminated after the commit */
	p = strbuf_reserve(&sb, 0);
	strbuf_commit(&sb, 0);
	assert_int_equal(sb.len, 12);
	strbuf_free(&sb);
}

static void test_int_matches_printf(void **state)
{
	static const long long values[] = {0,
	                                   1,
	                                   -1,
	                                   9,
	                                   10,
	                                   -10,
	                                   99,
	                                   100,
	                                   1000,
	                                   2147483647LL,
	                                   -2147483648LL,
	                                   1234567890123LL,
	                                   LLONG_MAX,
	                                   LLONG_MIN,
	                                   LLONG_MIN + 1};
	(void)state;
	for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
		struct strbuf sb = STRBUF_INIT;
		char want[32], raw[32];
		size_t n;

		snprintf(want, sizeof want, "%lld", values[i]);
		strbuf_put_int(&sb, values[i]);
		assert_string_equal(sb.data, want);
		memset(raw, 'Z', sizeof raw);
		n = strbuf_format_int(raw, values[i]);
		assert_int_equal(n, strlen(want));
		assert_memory_equal(raw, want, n);
		assert_int_equal(raw[n], 'Z'); /* no NUL written */
		strbuf_free(&sb);
	}
}

/* ours vs json_dumps of the same string */
static void expect_like_jansson(const char *s, size_t len)
{
	struct strbuf sb = STRBUF_INIT;
	json_t *j = json_stringn(s, len);
	char *want;

	assert_non_null(j);
	want = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
	assert_non_null(want);
	strbuf_put_json_string(&sb, s, len);
	if (strlen(want) != sb.len || memcmp(want, sb.data, sb.len) != 0)
		fail_msg("escaping differs: jansson %s, ours %s", want, sb.data);
	free(want);
	json_decref(j);
	strbuf_free(&sb);
}

static void test_json_string_every_ascii_byte(void **state)
{
	char s[4];

	(void)state;
	for (int c = 1; c < 0x80; c++) {
		s[0] = (char)c;
		expect_like_jansson(s, 1);
		s[0] = 'a';
		s[1] = (char)c;
		s[2] = 'b';
		expect_like_jansson(s, 3);
	}
}

static void test_json_string_runs_and_utf8(void **state)
{
	static const char *const cases[] = {"",
	                                    "plain",
	                                    "\"\"\"",
	                                    "\\\\",
	                                    "tab\there\nand\r\nthere\b\f",
	                                    "\x01\x1f\x7f",
	                                    "J\xc3\xbcrgen",
	                                    "\xe2\x82\xac and \xf0\x9f\x98\x80",
	                                    "\xe2\x80\xa8\xe2\x80\xa9",
	                                    "end with a quote\"",
	                                    "\"start with one"};
	char all[0x80];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		expect_like_jansson(cases[i], strlen(cases[i]));
	for (int c = 1; c < 0x80; c++)
		all[c - 1] = (char)c;
	expect_like_jansson(all, sizeof all - 1);
}

/* tmpl expanded with {a} = "1" and {bc} = "" must give want. */
static void expect_template(const char *tmpl, const char *want)
{
	static const struct strbuf_var vars[] = {{"a", "1"}, {"bc", ""}};
	struct strbuf sb = STRBUF_INIT;

	strbuf_puts(&sb, ">");
	strbuf_put_template(&sb, tmpl, strlen(tmpl), vars, 2);
	assert_string_equal(sb.data + 1, want);
	assert_int_equal(sb.len, strlen(want) + 1);
	strbuf_free(&sb);
}

static void test_template(void **state)
{
	(void)state;
	expect_template("", "");
	expect_template("plain", "plain");
	expect_template("{a}", "1");
	expect_template("x{a}y{a}z", "x1y1z");
	expect_template("[{bc}]", "[]");
	expect_template("{b}{c}{abc}{a", "{b}{c}{abc}{a");
	expect_template("body { color: red } {{a}}", "body { color: red } {1}");
	expect_template("{", "{");
	expect_template("}{a}{", "}1{");
}

/* The template ends at len, not at a NUL: a placeholder cut by the end is
 * text, and nothing past len is read (ASan would see it: the copy is
 * exactly len bytes). */
static void test_template_bounded_by_len(void **state)
{
	static const struct strbuf_var vars[] = {{"a", "1"}};
	static const struct {
		const char *tmpl;
		size_t len;
		const char *want;
	} cases[] = {{"{a}", 2, "{a"}, {"x{a}", 3, "x{a"}, {"{a}{a}", 5, "1{a"}, {"{a}", 0, ""}};
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *exact = malloc(cases[i].len ? cases[i].len : 1); /* no NUL after it */
		assert_non_null(exact);
		memcpy(exact, cases[i].tmpl, cases[i].len);
		strbuf_reset(&sb);
		strbuf_puts(&sb, ">");
		strbuf_put_template(&sb, exact, cases[i].len, vars, 1);
		assert_string_equal(sb.data + 1, cases[i].want);
		free(exact);
	}
	strbuf_free(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_put_grows_and_terminates),
	    cmocka_unit_test(test_reset_keeps_memory),
	    cmocka_unit_test(test_detach),
	    cmocka_unit_test(test_reserve_and_commit),
	    cmocka_unit_test(test_int_matches_printf),
	    cmocka_unit_test(test_json_string_every_ascii_byte),
	    cmocka_unit_test(test_json_string_runs_and_utf8),
	    cmocka_unit_test(test_template),
	    cmocka_unit_test(test_template_bounded_by_len),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
