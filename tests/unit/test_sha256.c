/* Unit tests for sha256: the test vectors of FIPS 180-4's examples and
 * NIST's byte-oriented set, the one-million-'a' message, and that how the
 * input is cut into updates never changes the digest (every split of a
 * message that crosses the padding boundaries). */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sha256.h"

static void hex(const unsigned char d[SHA256_LEN], char out[2 * SHA256_LEN + 1])
{
	for (int i = 0; i < SHA256_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void expect_digest(const char *msg, size_t len, const char *want)
{
	struct sha256 h;
	unsigned char d[SHA256_LEN];
	char got[2 * SHA256_LEN + 1];

	sha256_init(&h);
	sha256_update(&h, msg, len);
	sha256_final(&h, d);
	hex(d, got);
	assert_string_equal(got, want);
}

static void test_standard_vectors(void **state)
{
	static const char two_blocks[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

	(void)state;
	expect_digest("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	expect_digest("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	expect_digest(two_blocks, sizeof two_blocks - 1,
	              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	expect_digest(
	    "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmn"
	    "opqklmnopqrlmnopqrsmnopqrstnopqrstu",
	    112, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

static void test_one_million_a(void **state)
{
	struct sha256 h;
	unsigned char d[SHA256_LEN];
	char chunk[1000], got[2 * SHA256_LEN + 1];

	(void)state;
	memset(chunk, 'a', sizeof chunk);
	sha256_init(&h);
	for (int i = 0; i < 1000; i++)
		sha256_update(&h, chunk, sizeof chunk);
	sha256_final(&h, d);
	hex(d, got);
	assert_string_equal(got,
	                    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* Messages of 0..130 bytes (55, 56, 63, 64 and 119, 120 are the padding's
 * edges), hashed whole and in two updates cut at every place. */
static void test_any_split_same_digest(void **state)
{
	unsigned char msg[130], whole[SHA256_LEN], split[SHA256_LEN];
	struct sha256 h;

	(void)state;
	for (size_t i = 0; i < sizeof msg; i++)
		msg[i] = (unsigned char)(i * 7 + 3);
	for (size_t len = 0; len <= sizeof msg; len++) {
		sha256_init(&h);
		sha256_update(&h, msg, len);
		sha256_final(&h, whole);
		for (size_t cut = 0; cut <= len; cut++) {
			sha256_init(&h);
			sha256_update(&h, msg, cut);
			sha256_update(&h, msg + cut, len - cut);
			sha256_final(&h, split);
			assert_memory_equal(whole, split, SHA256_LEN);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_standard_vectors),
	    cmocka_unit_test(test_one_million_a),
	    cmocka_unit_test(test_any_split_same_digest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
