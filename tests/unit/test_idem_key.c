/* Unit tests for idem_key: both forms of a client's key at their bounds
 * (1 and 255 characters, 256 refused, after unquoting too), every byte the
 * bare form refuses, the sf-string escapes, UUIDs as tokens under either
 * mode, the joined header Apache and lighttpd make of a repeated one, and
 * the key's Redis name (checked against Python's hashlib and base64). */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "idem_key.h"

#define UUID_UPPER "0F8FAD5B-D9CB-469F-A165-70867728950E"
#define UUID_LOWER "0f8fad5b-d9cb-469f-a165-70867728950e"

static void expect_key(const char *header, const char *want)
{
	struct idem_key k;

	assert_int_equal(idem_key_from_header(header, 1, &k), TOKEN_OK);
	assert_int_equal(k.len, strlen(want));
	assert_string_equal(k.text, want);
	assert_false(k.is_token);
}

static void expect_malformed(const char *header)
{
	struct idem_key k;

	assert_int_equal(idem_key_from_header(header, 1, &k), TOKEN_MALFORMED);
	assert_int_equal(k.len, 0);
}

static void test_absent(void **state)
{
	struct idem_key k;

	(void)state;
	assert_int_equal(idem_key_from_header(NULL, 1, &k), TOKEN_ABSENT);
	assert_int_equal(idem_key_from_header("", 1, &k), TOKEN_ABSENT);
	assert_int_equal(idem_key_from_header(" \t ", 0, &k), TOKEN_ABSENT);
}

static void test_bare_form(void **state)
{
	char key[IDEM_KEY_MAX + 2];

	(void)state;
	expect_key("a", "a");
	expect_key("  order-42:retry#1 \t", "order-42:retry#1");
	expect_key("!~{}[]<>=;\\", "!~{}[]<>=;\\");
	memset(key, 'k', IDEM_KEY_MAX);
	key[IDEM_KEY_MAX] = '\0';
	expect_key(key, key);
	key[IDEM_KEY_MAX] = 'k';
	key[IDEM_KEY_MAX + 1] = '\0';
	expect_malformed(key);
}

static void test_bare_form_refuses(void **state)
{
	char bad[4] = {'a', 0, 'b', '\0'};

	(void)state;
	expect_malformed("a,b");
	expect_malformed("k1, k2"); /* a repeated header, joined */
	expect_malformed("a\"b");
	expect_malformed("a b");
	expect_malformed("caf\xc3\xa9");
	for (int c = 1; c < 0x20; c++) {
		if (c == '\t')
			continue; /* around the value: ignored; inside: refused below */
		bad[1] = (char)c;
		expect_malformed(bad);
	}
	expect_malformed("a\tb");
	bad[1] = 0x7f;
	expect_malformed(bad);
	bad[1] = (char)0x80;
	expect_malformed(bad);
}

static void test_quoted_form(void **state)
{
	char quoted[2 * IDEM_KEY_MAX + 8], want[IDEM_KEY_MAX + 2];

	(void)state;
	expect_key("\"abc\"", "abc");
	expect_key("\"a b, c\"", "a b, c"); /* spaces and commas inside quotes */
	expect_key("\"a\\\"b\"", "a\"b");
	expect_key("\"a\\\\b\"", "a\\b");
	expect_malformed("\"\"");
	expect_malformed("\"abc");
	expect_malformed("abc\"");
	expect_malformed("\"");
	expect_malformed("\"a\\b\"");     /* only \" and \\ escape */
	expect_malformed("\"a\\\"");      /* an escape at the end */
	expect_malformed("\"a\"b\"");     /* an unescaped quote inside */
	expect_malformed("\"a\", \"b\""); /* two keys, joined */
	expect_malformed("\"caf\xc3\xa9\"");
	expect_malformed("\"a\x01\"");
	/* 255 characters once unquoted, each written as an escape: fits. */
	quoted[0] = '"';
	for (int i = 0; i < IDEM_KEY_MAX; i++) {
		quoted[1 + 2 * i] = '\\';
		quoted[2 + 2 * i] = '\\';
		want[i] = '\\';
	}
	quoted[1 + 2 * IDEM_KEY_MAX] = '"';
	quoted[2 + 2 * IDEM_KEY_MAX] = '\0';
	want[IDEM_KEY_MAX] = '\0';
	expect_key(quoted, want);
	/* One character more, 256: refused. */
	memmove(quoted + 2, quoted + 1, 2 * IDEM_KEY_MAX + 2);
	quoted[1] = 'x';
	assert_int_equal(strlen(quoted), 2 * IDEM_KEY_MAX + 3);
	expect_malformed(quoted);
}

static void test_uuids_are_tokens_in_both_modes(void **state)
{
	struct idem_key k;

	(void)state;
	for (int allow_client = 0; allow_client <= 1; allow_client++) {
		assert_int_equal(idem_key_from_header(UUID_UPPER, allow_client, &k), TOKEN_OK);
		assert_string_equal(k.text, UUID_LOWER);
		assert_true(k.is_token);
		assert_int_equal(idem_key_from_header("\"" UUID_LOWER "\"", allow_client, &k),
		                 TOKEN_OK);
		assert_true(k.is_token);
		assert_int_equal(
		    idem_key_from_text(UUID_UPPER, strlen(UUID_UPPER), allow_client, &k), TOKEN_OK);
		assert_string_equal(k.text, UUID_LOWER);
	}
	/* Under keys = issued, nothing else is a key. */
	assert_int_equal(idem_key_from_header("order-1", 0, &k), TOKEN_MALFORMED);
	assert_int_equal(idem_key_from_header("\"order-1\"", 0, &k), TOKEN_MALFORMED);
	assert_int_equal(idem_key_from_text("order-1", 7, 0, &k), TOKEN_MALFORMED);
}

static void test_text_is_the_bare_form(void **state)
{
	struct idem_key k;

	(void)state;
	assert_int_equal(idem_key_from_text("msg-17", 6, 1, &k), TOKEN_OK);
	assert_string_equal(k.text, "msg-17");
	assert_int_equal(idem_key_from_text("", 0, 1, &k), TOKEN_MALFORMED);
	assert_int_equal(idem_key_from_text("\"a\"", 3, 1, &k), TOKEN_MALFORMED);
	assert_int_equal(idem_key_from_text("a\0b", 3, 1, &k), TOKEN_MALFORMED);
	assert_int_equal(idem_key_from_text(" a", 2, 1, &k), TOKEN_MALFORMED);
}

static void test_name(void **state)
{
	struct idem_key bare, quoted;
	char a[IDEM_KEY_NAME_LEN + 1], b[IDEM_KEY_NAME_LEN + 1];

	(void)state;
	assert_int_equal(idem_key_from_header("order-1", 1, &bare), TOKEN_OK);
	idem_key_name("i:alice", &bare, a);
	/* python3: base64.urlsafe_b64encode(hashlib.sha256(b"i:alice\0order-1")
	 * .digest()).rstrip(b"=") */
	assert_string_equal(a, "jAvctka2LmDJY38gXDicFr0JkyokpLMcp6zpC0WmBng");
	assert_int_equal(strlen(a), IDEM_KEY_NAME_LEN);
	assert_int_equal(idem_key_from_header("\"order-1\"", 1, &quoted), TOKEN_OK);
	idem_key_name("i:alice", &quoted, b);
	assert_string_equal(a, b);
	idem_key_name("i:bob", &bare, b);
	assert_string_not_equal(a, b);
	/* "i:a" + "lice..." is not "i:alice" + "...": the NUL keeps them apart. */
	assert_int_equal(idem_key_from_header("liceorder-1", 1, &quoted), TOKEN_OK);
	idem_key_name("i:a", &quoted, b);
	assert_string_not_equal(a, b);
	assert_int_equal(idem_key_from_header("k", 1, &bare), TOKEN_OK);
	idem_key_name("", &bare, a);
	assert_string_equal(a, "9twQNLCT3XnRuW8yjLHkif8AhoyaH9svH5KeW_MfnlE");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_absent),
	    cmocka_unit_test(test_bare_form),
	    cmocka_unit_test(test_bare_form_refuses),
	    cmocka_unit_test(test_quoted_form),
	    cmocka_unit_test(test_uuids_are_tokens_in_both_modes),
	    cmocka_unit_test(test_text_is_the_bare_form),
	    cmocka_unit_test(test_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
