/* Unit tests for util: the bounded number parser, constant-time comparison,
 * RFC 3339 timestamps and the allocation wrappers. Expected values come from
 * util.h, not from util.c. */
#define _POSIX_C_SOURCE 200809L

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "util.h"

/* Parses a NUL-terminated string with util_parse_long. */
static int parse(const char *s, long min, long max, long *out)
{
	return util_parse_long(s, strlen(s), min, max, out);
}

static void test_parse_long_in_range(void **state)
{
	long v = -1;

	(void)state;
	assert_int_equal(parse("0", 0, 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(parse("10", 0, 10, &v), 0);
	assert_int_equal(v, 10);
	assert_int_equal(parse("7", 0, 10, &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(parse("007", 0, 10, &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(parse("1000", 1, 1000, &v), 0);
	assert_int_equal(v, 1000);
	assert_int_equal(parse("2147483647", 0, 2147483647L, &v), 0);
	assert_int_equal(v, 2147483647L);
}

static void test_parse_long_bounds(void **state)
{
	long v = 0;

	(void)state;
	assert_int_equal(parse("11", 0, 10, &v), -1);
	assert_int_equal(parse("0", 1, 10, &v), -1);
	assert_int_equal(parse("1001", 1, 1000, &v), -1);
	assert_int_equal(parse("255", 256, 16777216, &v), -1);
	assert_int_equal(parse("256", 256, 16777216, &v), 0);
	assert_int_equal(v, 256);
	assert_int_equal(parse("16777216", 256, 16777216, &v), 0);
	assert_int_equal(v, 16777216);
	assert_int_equal(parse("16777217", 256, 16777216, &v), -1);
	assert_int_equal(parse("2147483648", 0, 2147483647L, &v), -1);
}

static void test_parse_long_overflow(void **state)
{
	char buf[64];
	long v = 0;

	(void)state;
	snprintf(buf, sizeof buf, "%ld", LONG_MAX);
	assert_int_equal(parse(buf, 0, LONG_MAX, &v), 0);
	assert_true(v == LONG_MAX);
	assert_int_equal(parse("99999999999999999999999999", 0, LONG_MAX, &v), -1);
	assert_int_equal(parse("9223372036854775808", 0, LONG_MAX, &v), -1);
}

static void test_parse_long_junk(void **state)
{
	static const char *const junk[] = {
	    "",    " ",   "-",   "+",    "a",     "12a",   "a12", " 12",
	    "12 ", "1.0", "1e3", "0x10", "1,000", "1_000", "\t1", "1\n",
	};
	long v = 0;

	(void)state;
	for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
		if (parse(junk[i], 0, 100000, &v) != -1)
			fail_msg("util_parse_long accepted \"%s\"", junk[i]);
	}
}

static void test_parse_long_negative_rejected_when_min_is_zero(void **state)
{
	long v = 0;

	(void)state;
	assert_int_equal(parse("-1", 0, 10, &v), -1);
	assert_int_equal(parse("-0x1", 0, 10, &v), -1);
}

static void test_parse_long_uses_len(void **state)
{
	static const char buf[] = {'4', '2', 'x'};
	long v = 0;

	(void)state;
	/* Not NUL-terminated: only len bytes count. */
	assert_int_equal(util_parse_long(buf, 2, 0, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(util_parse_long(buf, 3, 0, 100, &v), -1);
	assert_int_equal(util_parse_long("123", 2, 0, 1000, &v), 0);
	assert_int_equal(v, 12);
	assert_int_equal(util_parse_long("123", 0, 0, 1000, &v), -1);
	/* A NUL byte inside the span is a stray character. */
	assert_int_equal(util_parse_long("1\0002", 3, 0, 1000, &v), -1);
}

static void test_consttime_equal(void **state)
{
	(void)state;
	assert_int_equal(util_consttime_equal("secret-token-16b", 16, "secret-token-16b", 16), 1);
	assert_int_equal(util_consttime_equal("", 0, "", 0), 1);
	assert_int_equal(util_consttime_equal("Xecret-token-16b", 16, "secret-token-16b", 16), 0);
	assert_int_equal(util_consttime_equal("secret-token-16X", 16, "secret-token-16b", 16), 0);
	assert_int_equal(util_consttime_equal("secret", 6, "secret-token-16b", 16), 0);
	assert_int_equal(util_consttime_equal("secret-token-16b", 16, "secret", 6), 0);
	assert_int_equal(util_consttime_equal("", 0, "a", 1), 0);
	assert_int_equal(util_consttime_equal("a", 1, "", 0), 0);
	/* Only the given lengths count. */
	assert_int_equal(util_consttime_equal("abcX", 3, "abcY", 3), 1);
	/* Bytes after a NUL still count. */
	assert_int_equal(util_consttime_equal("a\0b", 3, "a\0c", 3), 0);
}

static void expect_rfc3339(time_t sec, long nsec, const char *want)
{
	struct timespec ts;
	char out[UTIL_RFC3339_LEN + 1];

	memset(out, 'Z', sizeof out);
	ts.tv_sec = sec;
	ts.tv_nsec = nsec;
	util_format_rfc3339_ms(&ts, out);
	assert_string_equal(out, want);
	assert_int_equal(strlen(out), UTIL_RFC3339_LEN);
}

static void test_rfc3339(void **state)
{
	(void)state;
	expect_rfc3339(0, 0, "1970-01-01T00:00:00.000Z");
	expect_rfc3339(1795758287, 123000000, "2026-11-27T05:44:47.123Z");
	expect_rfc3339(1795758287, 123999999, "2026-11-27T05:44:47.123Z"); /* truncated */
	expect_rfc3339(1795758287, 999999999, "2026-11-27T05:44:47.999Z");
	expect_rfc3339(1795758287, 1000000, "2026-11-27T05:44:47.001Z");
	expect_rfc3339(1795758287, 999999, "2026-11-27T05:44:47.000Z");
	expect_rfc3339(951782400, 0, "2000-02-29T00:00:00.000Z");
	expect_rfc3339(4102444799, 50000000, "2099-12-31T23:59:59.050Z");
}

static void test_rfc3339_ignores_tz(void **state)
{
	(void)state;
	/* UTC whatever the local zone. */
	setenv("TZ", "America/New_York", 1);
	tzset();
	expect_rfc3339(1795758287, 123000000, "2026-11-27T05:44:47.123Z");
	unsetenv("TZ");
	tzset();
}

static void test_now_ms_monotonic(void **state)
{
	double a, b;

	(void)state;
	a = util_now_ms();
	b = util_now_ms();
	assert_true(a > 0);
	assert_true(b >= a);
}

static void test_alloc_wrappers(void **state)
{
	unsigned char *z;
	char *s;
	char *p;

	(void)state;
	z = xcalloc(16, 4);
	for (size_t i = 0; i < 64; i++)
		assert_int_equal(z[i], 0);
	z = xrealloc(z, 128);
	assert_int_equal(z[63], 0);
	free(z);

	s = xstrdup("hello");
	assert_string_equal(s, "hello");
	free(s);
	s = xstrndup("hello world", 5);
	assert_string_equal(s, "hello");
	free(s);

	p = xmalloc(3);
	memcpy(p, "ok", 3);
	assert_string_equal(p, "ok");
	free(p);
}

static void test_xstrndup_shorter_string(void **state)
{
	static const char hi[] = "hi";
	char *s;

	(void)state;
	/* Like strndup: at most n bytes, never past the string's NUL (the
	 * sanitizer build catches a read past hi[2]). */
	s = xstrndup(hi, 10);
	assert_string_equal(s, "hi");
	free(s);
	s = xstrndup(hi, 2);
	assert_string_equal(s, "hi");
	free(s);
	s = xstrndup(hi, 0);
	assert_string_equal(s, "");
	free(s);
}

/* RFC 4648's vectors (section 10), unpadded, and the two characters only
 * the URL alphabet has. */
static void test_base64url(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},          {"foo", "Zm9v"},
	    {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}, {"\xfb\xff", "-_8"}};
	char out[16];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t n = strlen(cases[i].in);
		memset(out, 'x', sizeof out);
		util_base64url((const unsigned char *)cases[i].in, n, out);
		assert_string_equal(out, cases[i].out);
		assert_int_equal(strlen(out), UTIL_BASE64URL_LEN(n));
	}
}

/* A fresh temp folder for the read_file cases (static buffer). */
static const char *temp_dir(void)
{
	static char dir[] = "/tmp/test_util.XXXXXX";
	assert_non_null(mkdtemp(dir));
	return dir;
}

static void write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

/* read_file PATH MAX MODE: the call's result, err kept in last_err. */
static char last_err[256];
static int read_file(const char *path, size_t max, enum util_read_mode mode, char **text,
                     size_t *len)
{
	last_err[0] = '\0';
	return util_read_file(path, max, mode, text, len, last_err, sizeof last_err);
}

static void test_read_file(void **state)
{
	const char *dir = temp_dir();
	char path[128], fifo[128];
	char *text = NULL;
	size_t len = 0;

	(void)state;
	snprintf(path, sizeof path, "%s/f", dir);
	write_file(path, "abcde", 5);
	assert_int_equal(read_file(path, 5, UTIL_READ_REGULAR, &text, &len), 0);
	assert_int_equal(len, 5);
	assert_string_equal(text, "abcde");
	free(text);
	assert_int_equal(read_file(path, 5, UTIL_READ_ANY, &text, &len), 0);
	free(text);
	/* One byte over max; a NUL; a missing file: refused, saying why. */
	assert_int_equal(read_file(path, 4, UTIL_READ_ANY, &text, &len), -1);
	assert_non_null(strstr(last_err, "larger than 4 bytes"));
	write_file(path, "ab\0de", 5);
	assert_int_equal(read_file(path, 5, UTIL_READ_ANY, &text, &len), -1);
	assert_non_null(strstr(last_err, "NUL"));
	unlink(path);
	assert_int_equal(read_file(path, 5, UTIL_READ_ANY, &text, &len), -1);
	assert_non_null(strstr(last_err, "cannot open"));
	/* An empty file is an empty text. */
	write_file(path, "", 0);
	assert_int_equal(read_file(path, 5, UTIL_READ_REGULAR, &text, &len), 0);
	assert_int_equal(len, 0);
	assert_string_equal(text, "");
	free(text);
	unlink(path);
	/* Regular only: a FIFO without a writer is refused at once (no wait
	 * for a writer), and so are a device and a folder. */
	snprintf(fifo, sizeof fifo, "%s/p", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(read_file(fifo, 5, UTIL_READ_REGULAR, &text, &len), -1);
	assert_non_null(strstr(last_err, "not a regular file"));
	unlink(fifo);
	assert_int_equal(read_file("/dev/null", 5, UTIL_READ_REGULAR, &text, &len), -1);
	assert_int_equal(read_file(dir, 5, UTIL_READ_REGULAR, &text, &len), -1);
	assert_int_equal(read_file("/dev/null", 5, UTIL_READ_ANY, &text, &len), 0);
	assert_int_equal(len, 0);
	free(text);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_base64url),
	    cmocka_unit_test(test_read_file),
	    cmocka_unit_test(test_parse_long_in_range),
	    cmocka_unit_test(test_parse_long_bounds),
	    cmocka_unit_test(test_parse_long_overflow),
	    cmocka_unit_test(test_parse_long_junk),
	    cmocka_unit_test(test_parse_long_negative_rejected_when_min_is_zero),
	    cmocka_unit_test(test_parse_long_uses_len),
	    cmocka_unit_test(test_consttime_equal),
	    cmocka_unit_test(test_rfc3339),
	    cmocka_unit_test(test_rfc3339_ignores_tz),
	    cmocka_unit_test(test_now_ms_monotonic),
	    cmocka_unit_test(test_alloc_wrappers),
	    cmocka_unit_test(test_xstrndup_shorter_string),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
