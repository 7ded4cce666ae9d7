/* Unit tests for token: UUID syntax in any case, lowercase normalisation,
 * the Idempotency-Key header forms, and version-4 generation. Expected
 * values come from token.h and the contract. */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sys/types.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "idem_key.h"
#include "token.h"

#define LOWER "123e4567-e89b-42d3-a456-426614174000"
#define UPPER "123E4567-E89B-42D3-A456-426614174000"
#define MIXED "123e4567-E89b-42D3-a456-426614174000"

static int valid(const char *s)
{
	return token_is_valid(s, strlen(s));
}

static void test_is_valid_accepts_uuids(void **state)
{
	(void)state;
	assert_int_equal(valid(LOWER), 1);
	assert_int_equal(valid(UPPER), 1);
	assert_int_equal(valid(MIXED), 1);
	/* Any UUID in 8-4-4-4-12 form, not only version 4. */
	assert_int_equal(valid("6ba7b810-9dad-11d1-80b4-00c04fd430c8"), 1);
	assert_int_equal(valid("00000000-0000-0000-0000-000000000000"), 1);
	assert_int_equal(valid("ffffffff-ffff-ffff-ffff-ffffffffffff"), 1);
}

static void test_is_valid_rejects_other_syntax(void **state)
{
	static const char *const bad[] = {
	    "",
	    "123e4567-e89b-42d3-a456-42661417400",   /* 35 */
	    "123e4567-e89b-42d3-a456-4266141740000", /* 37 */
	    "123e4567e89b42d3a456426614174000",      /* no hyphens */
	    "123e4567-e89b-42d3-a4564-26614174000",  /* hyphen moved */
	    "123e456-7e89b-42d3-a456-426614174000",  /* hyphen moved */
	    "123e4567-e89b-42d3-a456_426614174000",  /* underscore */
	    "g23e4567-e89b-42d3-a456-426614174000",  /* not hex */
	    "123e4567-e89b-42d3-a456-42661417400z",  /* not hex */
	    "{23e4567-e89b-42d3-a456-42661417400}",  /* braces */
	    " 23e4567-e89b-42d3-a456-426614174000",  /* space */
	    "123e4567-e89b-42d3-a456-42661417400 ",  /* space */
	    "\"23e4567-e89b-42d3-a456-42661417400\"",
	    "123e4567-e89b-42d3-a456-4266141740+0",
	    "------------------------------------",
	};

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (valid(bad[i]) != 0)
			fail_msg("token_is_valid accepted \"%s\"", bad[i]);
	}
}

static void test_is_valid_uses_len(void **state)
{
	char buf[64];

	(void)state;
	/* A valid UUID followed by junk, with len 36, is valid. */
	snprintf(buf, sizeof buf, "%sjunk", LOWER);
	assert_int_equal(token_is_valid(buf, 36), 1);
	assert_int_equal(token_is_valid(buf, 40), 0);
	assert_int_equal(token_is_valid(LOWER, 35), 0);
	/* A NUL inside the span is not hex. */
	memcpy(buf, LOWER, 36);
	buf[10] = '\0';
	assert_int_equal(token_is_valid(buf, 36), 0);
}

static void test_parse_normalises_case(void **state)
{
	char out[TOKEN_LEN + 1];

	(void)state;
	memset(out, 'x', sizeof out);
	assert_int_equal(token_parse(UPPER, strlen(UPPER), out), TOKEN_OK);
	assert_string_equal(out, LOWER);
	memset(out, 'x', sizeof out);
	assert_int_equal(token_parse(MIXED, strlen(MIXED), out), TOKEN_OK);
	assert_string_equal(out, LOWER);
	memset(out, 'x', sizeof out);
	assert_int_equal(token_parse(LOWER, strlen(LOWER), out), TOKEN_OK);
	assert_string_equal(out, LOWER);
}

static void test_parse_malformed(void **state)
{
	char out[TOKEN_LEN + 1];

	(void)state;
	assert_int_equal(token_parse("", 0, out), TOKEN_MALFORMED);
	assert_int_equal(token_parse(LOWER, 0, out), TOKEN_MALFORMED);
	assert_int_equal(token_parse("abc", 3, out), TOKEN_MALFORMED);
	assert_int_equal(token_parse(LOWER, 35, out), TOKEN_MALFORMED);
	assert_int_equal(token_parse("\"" LOWER "\"", 38, out), TOKEN_MALFORMED);
	assert_int_equal(token_parse(" " LOWER, 37, out), TOKEN_MALFORMED);
}

/* The Idempotency-Key header under keys = issued (idem_key, client keys
 * refused): only a token, bare or quoted. */
static void expect_header(const char *value, enum token_status want, const char *want_token)
{
	struct idem_key key;
	enum token_status got;

	memset(&key, 'x', sizeof key);
	got = idem_key_from_header(value, 0, &key);
	if (got != want)
		fail_msg("idem_key_from_header(\"%s\", issued) = %d, want %d",
		         value ? value : "(null)", (int)got, (int)want);
	if (want_token != NULL) {
		assert_string_equal(key.text, want_token);
		assert_true(key.is_token);
	}
}

static void test_header_absent(void **state)
{
	(void)state;
	expect_header(NULL, TOKEN_ABSENT, NULL);
	expect_header("", TOKEN_ABSENT, NULL);
}

static void test_header_bare_and_quoted(void **state)
{
	(void)state;
	expect_header(LOWER, TOKEN_OK, LOWER);
	expect_header(UPPER, TOKEN_OK, LOWER);
	expect_header("\"" LOWER "\"", TOKEN_OK, LOWER);
	expect_header("\"" UPPER "\"", TOKEN_OK, LOWER);
}

static void test_header_surrounding_space(void **state)
{
	(void)state;
	expect_header(" " LOWER, TOKEN_OK, LOWER);
	expect_header(LOWER "  ", TOKEN_OK, LOWER);
	expect_header("\t" UPPER "\t", TOKEN_OK, LOWER);
	expect_header(" \t\"" LOWER "\" \t", TOKEN_OK, LOWER);
}

static void test_header_malformed(void **state)
{
	static const char *const bad[] = {
	    "abc",
	    "\"\"",
	    "\"",
	    "\"" LOWER,       /* unbalanced quote */
	    LOWER "\"",       /* unbalanced quote */
	    "'" LOWER "'",    /* single quotes */
	    "\" " LOWER "\"", /* space inside the quotes */
	    "\"" LOWER " \"", /* space inside the quotes */
	    LOWER "," LOWER,  /* two values */
	    LOWER ", " LOWER, /* two values, Apache style */
	    LOWER ",",        /* trailing comma */
	    "," LOWER,        /* leading comma */
	    LOWER " " LOWER,  /* two values with a space */
	    "\"" LOWER "\", \"" LOWER "\"",
	    "123e4567-e89b-42d3-a456-42661417400",
	    "123e4567 e89b-42d3-a456-426614174000",
	    ":" LOWER ":", /* a byte sequence, not a string */
	    LOWER ";q=1",  /* a parameter */
	};

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		expect_header(bad[i], TOKEN_MALFORMED, NULL);
}

static int is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static void test_generate_v4_lowercase(void **state)
{
	char out[TOKEN_LEN + 1];

	(void)state;
	for (int n = 0; n < 100; n++) {
		memset(out, 'x', sizeof out);
		token_generate(out);
		assert_int_equal(strlen(out), TOKEN_LEN);
		assert_int_equal(token_is_valid(out, TOKEN_LEN), 1);
		for (int i = 0; i < TOKEN_LEN; i++) {
			if (i == 8 || i == 13 || i == 18 || i == 23)
				assert_int_equal(out[i], '-');
			else if (!is_lower_hex(out[i]))
				fail_msg("token_generate gave \"%s\": not lowercase hex at %d", out,
				         i);
		}
		/* Version 4, variant 10xx (RFC 4122 / 9562). */
		assert_int_equal(out[14], '4');
		assert_non_null(strchr("89ab", out[19]));
	}
}

/* 1000 tokens, all distinct,
 * and a forked child does not repeat its parent's next tokens. */
static void test_generate_unique_and_after_fork(void **state)
{
	enum { N = 1000 };
	static char seen[N][TOKEN_LEN + 1];
	char parent[TOKEN_LEN + 1];
	int fds[2];

	(void)state;
	for (int i = 0; i < N; i++) {
		token_generate(seen[i]);
		for (int j = 0; j < i; j++)
			if (strcmp(seen[i], seen[j]) == 0)
				fail_msg("token %d repeats token %d: %s", i, j, seen[i]);
	}
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char child[TOKEN_LEN + 1];
		token_generate(child);
		_exit(write(fds[1], child, TOKEN_LEN) == TOKEN_LEN ? 0 : 1);
	}
	char child[TOKEN_LEN + 1] = {0};
	int status;
	assert_int_equal(read(fds[0], child, TOKEN_LEN), TOKEN_LEN);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	token_generate(parent);
	assert_string_not_equal(child, parent);
	close(fds[0]);
	close(fds[1]);
}

/* Vectors computed with Python's base64.urlsafe_b64encode(uuid.bytes). */
static void test_key_name(void **state)
{
	static const char *const vectors[][2] = {
	    {"0f8fad5b-d9cb-469f-a165-70867728950e", "D4-tW9nLRp-hZXCGdyiVDg"},
	    {"ffffffff-ffff-4fff-bfff-ffffffffffff", "________T_-__________w"},
	    {"00000000-0000-4000-8000-000000000000", "AAAAAAAAQACAAAAAAAAAAA"},
	};
	char out[TOKEN_KEY_LEN + 1];

	(void)state;
	for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
		memset(out, 'x', sizeof out);
		token_key_name(vectors[i][0], out);
		assert_string_equal(out, vectors[i][1]);
	}
}

static void test_generate_differs(void **state)
{
	char a[TOKEN_LEN + 1], b[TOKEN_LEN + 1], c[TOKEN_LEN + 1];

	(void)state;
	token_generate(a);
	token_generate(b);
	token_generate(c);
	assert_string_not_equal(a, b);
	assert_string_not_equal(b, c);
	assert_string_not_equal(a, c);
}

/* RFC 4122 section 4.3, as Python's documentation shows it:
 * uuid5(NAMESPACE_DNS, "python.org"). */
static void test_uuid5_known_vector(void **state)
{
	char out[TOKEN_LEN + 1];

	(void)state;
	token_uuid5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "python.org", 10, out);
	assert_string_equal(out, "886313e1-3b8a-5372-9b90-0c9aee199e5d");
}

static void test_order_id_derived(void **state)
{
	const char *t1 = "0f0e8c51-2b7e-4d3a-9c1f-5a6b7c8d9e0f";
	const char *t2 = "0f0e8c51-2b7e-4d3a-9c1f-5a6b7c8d9e00";
	char a[TOKEN_LEN + 1], b[TOKEN_LEN + 1], c[TOKEN_LEN + 1], d[TOKEN_LEN + 1];

	(void)state;
	token_order_id("alice", t1, a);
	token_order_id("alice", t1, b);
	token_order_id("bob", t1, c);
	token_order_id("alice", t2, d);
	assert_string_equal(a, b);     /* the same token, the same order */
	assert_string_not_equal(a, c); /* another identity */
	assert_string_not_equal(a, d); /* another token */
	assert_true(token_is_valid(a, strlen(a)));
	assert_int_equal(a[14], '5');               /* version 5 */
	assert_true(strchr("89ab", a[19]) != NULL); /* RFC 4122 variant */
	assert_null(strstr(a, "0f0e8c51"));         /* nothing of the token shows */
	/* An empty identity (bind = none) is an identity of its own. */
	token_order_id("", t1, c);
	assert_string_not_equal(a, c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_is_valid_accepts_uuids),
	    cmocka_unit_test(test_is_valid_rejects_other_syntax),
	    cmocka_unit_test(test_is_valid_uses_len),
	    cmocka_unit_test(test_parse_normalises_case),
	    cmocka_unit_test(test_parse_malformed),
	    cmocka_unit_test(test_header_absent),
	    cmocka_unit_test(test_header_bare_and_quoted),
	    cmocka_unit_test(test_header_surrounding_space),
	    cmocka_unit_test(test_header_malformed),
	    cmocka_unit_test(test_generate_v4_lowercase),
	    cmocka_unit_test(test_generate_differs),
	    cmocka_unit_test(test_generate_unique_and_after_fork),
	    cmocka_unit_test(test_key_name),
	    cmocka_unit_test(test_uuid5_known_vector),
	    cmocka_unit_test(test_order_id_derived),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
