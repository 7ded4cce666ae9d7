/* Unit tests for keyspace: every key name, the cut-short refusal at the
 * exact boundary, and the token issue windows: W for each TTL, the order
 * they are looked in, that every window a live token can be in is named
 * (checked by brute force over issue times), that the names are rendered
 * once a window, and that a window's hash outlives its tokens. */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "keyspace.h"

static void expect_key(const char *prefix, enum key_kind kind, const char *name, const char *want)
{
	char out[KEYSPACE_KEY_MAX];
	size_t n = keyspace_key(out, prefix, kind, name);

	assert_string_equal(out, want);
	assert_int_equal(n, strlen(want));
}

static void test_every_kind_is_named(void **state)
{
	(void)state;
	expect_key("ar:", KEY_TOKEN, "AAECAwQFBgcICQoLDA0ODw", "ar:t:AAECAwQFBgcICQoLDA0ODw");
	expect_key("ar:", KEY_ORDER, "0d7f1a3e-0000-4000-8000-000000000001",
	           "ar:order:0d7f1a3e-0000-4000-8000-000000000001");
	expect_key("ar:", KEY_ORDERS, "", "ar:orders");
	expect_key("ar:", KEY_DEAD, "", "ar:orders:dead");
	expect_key("ar:", KEY_METRICS, "", "ar:metrics");
	expect_key("ar:", KEY_STOCK, "SKU-1", "ar:stock:SKU-1");
	expect_key("ar:", KEY_RATE, "a:127.0.0.1", "ar:rate:a:127.0.0.1");
	expect_key("ar:", KEY_CLIENT_KEY, "jAvctka2LmDJY38gXDicFr0JkyokpLMcp6zpC0WmBng",
	           "ar:k:jAvctka2LmDJY38gXDicFr0JkyokpLMcp6zpC0WmBng");
	expect_key("ar:", KEY_SUBMIT_RATE, "i:alice", "ar:srate:i:alice");
	expect_key("", KEY_STOCK, "x", "stock:x");
	/* Every kind has a name, distinct from the others. */
	for (int k = 0; k < KEY_KIND_COUNT; k++) {
		char a[KEYSPACE_KEY_MAX], b[KEYSPACE_KEY_MAX];
		assert_true(keyspace_key(a, "", (enum key_kind)k, "") > 0);
		for (int j = 0; j < k; j++) {
			keyspace_key(b, "", (enum key_kind)j, "");
			assert_string_not_equal(a, b);
		}
	}
	expect_key("shop{1}:", KEY_ORDERS, "", "shop{1}:orders");
}

/* A key of KEYSPACE_KEY_MAX - 1 bytes fits; one byte more is refused
 * whole (0 and ""), never cut. */
static void test_key_too_long_is_refused_not_cut(void **state)
{
	char prefix[CONFIG_KEY_PREFIX_MAX + 1], name[KEYSPACE_KEY_MAX + 1], out[KEYSPACE_KEY_MAX];
	size_t room;

	(void)state;
	memset(prefix, 'p', CONFIG_KEY_PREFIX_MAX);
	prefix[CONFIG_KEY_PREFIX_MAX] = '\0';
	room = KEYSPACE_KEY_MAX - 1 - CONFIG_KEY_PREFIX_MAX - strlen("rate:");
	memset(name, 'n', room);
	name[room] = '\0';
	assert_int_equal(keyspace_key(out, prefix, KEY_RATE, name), KEYSPACE_KEY_MAX - 1);
	assert_int_equal(strlen(out), KEYSPACE_KEY_MAX - 1);
	name[room] = 'n';
	name[room + 1] = '\0';
	assert_int_equal(keyspace_key(out, prefix, KEY_RATE, name), 0);
	assert_string_equal(out, "");
	/* The longest client key identity.c makes fits with the longest prefix. */
	assert_true(CONFIG_KEY_PREFIX_MAX + strlen("rate:") + 2 + IDENTITY_MAX < KEYSPACE_KEY_MAX);
}

static long expected_w(long ttl)
{
	long w = (ttl + KEYSPACE_WINDOWS_PER_TTL - 1) / KEYSPACE_WINDOWS_PER_TTL;
	return w < KEYSPACE_WINDOW_MIN_S ? KEYSPACE_WINDOW_MIN_S : w;
}

static void window_name(char *out, size_t len, long w, long long index)
{
	snprintf(out, len, "ar:tw:%ld:%lld", w, index);
}

static void test_windows_for_ttl_600(void **state)
{
	struct token_windows tw;
	char want[64];
	long long now = 1764000123; /* index 23520001, 48 s into it */

	(void)state;
	keyspace_windows_init(&tw);
	assert_int_equal(keyspace_windows_at(&tw, "ar:", 600, now), 0);
	assert_int_equal(tw.seconds, 75);
	assert_int_equal(tw.current, now / 75);
	assert_int_equal(tw.now, now);
	/* The current window, 8 back for the TTL, 1 more for clocks, 1 ahead. */
	assert_int_equal(tw.count, 11);
	for (int i = 0; i <= 9; i++) {
		window_name(want, sizeof want, 75, now / 75 - i);
		assert_string_equal(tw.key[i], want);
		assert_int_equal(tw.key_len[i], strlen(want));
	}
	window_name(want, sizeof want, 75, now / 75 + 1);
	assert_string_equal(tw.key[10], want);
	assert_int_equal(keyspace_max_skew(&tw), 37);
}

static void test_short_ttls_use_the_minimum_window(void **state)
{
	struct token_windows tw;

	(void)state;
	keyspace_windows_init(&tw);
	assert_int_equal(keyspace_windows_at(&tw, "ar:", 1, 1000), 0);
	assert_int_equal(tw.seconds, KEYSPACE_WINDOW_MIN_S);
	assert_int_equal(tw.count, 4); /* current, 1 for the TTL, 1 for clocks, 1 ahead */
	keyspace_windows_init(&tw);
	assert_int_equal(keyspace_windows_at(&tw, "ar:", 80, 1000), 0);
	assert_int_equal(tw.seconds, 10);
	assert_int_equal(tw.count, 11);
	keyspace_windows_init(&tw);
	assert_int_equal(keyspace_windows_at(&tw, "ar:", 81, 1000), 0);
	assert_int_equal(tw.seconds, 11);
	assert_int_equal(tw.count, 11);
}

/* 1 when the window of a token issued at t is one of tw's keys. */
static int names_window_of(const struct token_windows *tw, long long t)
{
	char want[64];

	window_name(want, sizeof want, tw->seconds, t / tw->seconds);
	for (int i = 0; i < tw->count; i++)
		if (strcmp(tw->key[i], want) == 0)
			return 1;
	return 0;
}

/* A token issued at t by a host whose clock is up to W / 2 from Redis's is
 * alive at now while t > now - ttl - W (two clocks, each W / 2 off), and
 * can be stamped up to W / 2 ahead: every such t is found. */
static void test_every_live_window_is_named(void **state)
{
	static const long ttls[] = {1,   9,   10,   11,   79,   80,    81,    599,
	                            600, 601, 3599, 3600, 3601, 86399, 86400, 30L * 86400};
	struct token_windows tw;

	(void)state;
	for (size_t k = 0; k < sizeof ttls / sizeof ttls[0]; k++) {
		long ttl = ttls[k], w = expected_w(ttl);
		long long step = ttl > 5000 ? 97 : 1; /* large TTLs: a prime stride */
		for (long long now = 1764000000; now < 1764000000 + 2 * w; now += (w / 7) + 1) {
			keyspace_windows_init(&tw);
			assert_int_equal(keyspace_windows_at(&tw, "ar:", ttl, now), 0);
			assert_int_equal(tw.seconds, w);
			assert_true(tw.count <= KEYSPACE_WINDOWS_MAX);
			for (long long t = now - ttl - w; t <= now + w / 2; t += step)
				assert_true(names_window_of(&tw, t));
			assert_true(names_window_of(&tw, now + w / 2));
		}
	}
}

static void test_names_are_rendered_once_a_window(void **state)
{
	struct token_windows tw;
	long long now = 1764000000 - 1764000000 % 75; /* a window's first second */
	char before[KEYSPACE_KEY_MAX];

	(void)state;
	keyspace_windows_init(&tw);
	assert_int_equal(keyspace_windows_at(&tw, "ar:", 600, now), 0);
	strcpy(before, tw.key[0]);
	/* Later in the same window: only the time moves. */
	tw.key[0][0] = 'X';
	assert_int_equal(keyspace_windows_at(&tw, "ar:", 600, now + 74), 0);
	assert_int_equal(tw.now, now + 74);
	assert_int_equal(tw.key[0][0], 'X');
	/* The next window: all named again, the old current one is second. */
	assert_int_equal(keyspace_windows_at(&tw, "ar:", 600, now + 75), 0);
	assert_string_equal(tw.key[1], before);
	assert_int_equal(tw.current, now / 75 + 1);
}

/* The hash of a window goes after its last token's expiry by Redis's
 * clock: issued by the window's end on a host W / 2 behind Redis. */
static void test_window_outlives_its_tokens(void **state)
{
	static const long ttls[] = {1, 10, 81, 600, 3601, 86400, 30L * 86400};
	struct token_windows tw;

	(void)state;
	for (size_t k = 0; k < sizeof ttls / sizeof ttls[0]; k++) {
		keyspace_windows_init(&tw);
		assert_int_equal(keyspace_windows_at(&tw, "ar:", ttls[k], 1764000321), 0);
		long long last_expiry =
		    (tw.current + 1) * tw.seconds + keyspace_max_skew(&tw) + ttls[k];
		assert_true(keyspace_window_expireat(&tw) > last_expiry);
		assert_int_equal(keyspace_window_expireat(&tw),
		                 (tw.current + 2 + KEYSPACE_WINDOWS_PER_TTL) * tw.seconds);
	}
}

static void test_window_name_too_long(void **state)
{
	struct token_windows tw;
	char prefix[KEYSPACE_KEY_MAX];

	(void)state;
	memset(prefix, 'p', sizeof prefix - 8);
	prefix[sizeof prefix - 8] = '\0';
	keyspace_windows_init(&tw);
	assert_int_equal(keyspace_windows_at(&tw, prefix, 600, 1764000000), -1);
	assert_true(tw.overflow);
	/* Still refused on the next call in the same window. */
	assert_int_equal(keyspace_windows_at(&tw, prefix, 600, 1764000001), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_kind_is_named),
	    cmocka_unit_test(test_key_too_long_is_refused_not_cut),
	    cmocka_unit_test(test_windows_for_ttl_600),
	    cmocka_unit_test(test_short_ttls_use_the_minimum_window),
	    cmocka_unit_test(test_every_live_window_is_named),
	    cmocka_unit_test(test_names_are_rendered_once_a_window),
	    cmocka_unit_test(test_window_outlives_its_tokens),
	    cmocka_unit_test(test_window_name_too_long),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
