/* Unit tests for identity: the client identity under each bind mode
 * (none, remote_user, header:NAME, cookie:NAME), repeated headers, cookie
 * parsing, the length and control-byte limits, and the rate-limit client
 * key. Expected values come from identity.h and the contract. */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "identity.h"

/* A config with the given bind (bind_name copied, owned by cfg). */
static void make_config(struct ar_config *cfg, enum ar_bind bind, const char *bind_name)
{
	config_init(cfg);
	cfg->bind = bind;
	free(cfg->bind_name);
	cfg->bind_name = bind_name ? strdup(bind_name) : NULL;
	if (bind_name)
		assert_non_null(cfg->bind_name);
}

/* A request with the given params; env must end with NULL. */
static void make_request(struct ar_request *req, char *const *env)
{
	memset(req, 0, sizeof *req);
	req->env = env;
	req->body = "";
	req->body_len = 0;
	req->body_state = BODY_OK;
}

/* identity_extract must return want_rc, and the identity want when 0. */
static void expect_identity(enum ar_bind bind, const char *bind_name, char *const *env, int want_rc,
                            const char *want)
{
	struct ar_config cfg;
	struct ar_request req;
	char out[IDENTITY_MAX + 1];
	int rc;

	make_config(&cfg, bind, bind_name);
	make_request(&req, env);
	memset(out, 'x', sizeof out);
	rc = identity_extract(&cfg, &req, out);
	config_free(&cfg);
	if (rc != want_rc)
		fail_msg("identity_extract: rc %d, want %d", rc, want_rc);
	if (want_rc == 0)
		assert_string_equal(out, want);
}

static void test_bind_none(void **state)
{
	char *env[] = {"REMOTE_USER=alice", "HTTP_X_USER=bob", "HTTP_COOKIE=sid=c",
	               "REMOTE_ADDR=127.0.0.1", NULL};
	char *empty[] = {NULL};

	(void)state;
	expect_identity(BIND_NONE, NULL, env, 0, "");
	expect_identity(BIND_NONE, NULL, empty, 0, "");
}

static void test_bind_remote_user(void **state)
{
	char *env[] = {"HTTP_X_USER=bob", "REMOTE_USER=alice", NULL};
	char *absent[] = {"HTTP_X_USER=bob", NULL};
	char *blank[] = {"REMOTE_USER=", NULL};

	(void)state;
	expect_identity(BIND_REMOTE_USER, NULL, env, 0, "alice");
	expect_identity(BIND_REMOTE_USER, NULL, absent, 0, "");
	expect_identity(BIND_REMOTE_USER, NULL, blank, 0, "");
}

static void test_bind_header(void **state)
{
	char *env[] = {"REMOTE_USER=alice", "HTTP_X_USER=bob", NULL};
	char *absent[] = {"REMOTE_USER=alice", "HTTP_X_USERX=no", "HTTP_X_USE=no", NULL};
	char *other[] = {"HTTP_X_USER=bob", NULL};
	char *blank[] = {"HTTP_X_USER=", NULL};

	(void)state;
	expect_identity(BIND_HEADER, "HTTP_X_USER", env, 0, "bob");
	expect_identity(BIND_HEADER, "HTTP_X_USER", absent, 0, "");
	expect_identity(BIND_HEADER, "HTTP_X_TENANT", other, 0, "");
	expect_identity(BIND_HEADER, "HTTP_X_USER", blank, 0, "");
}

static void test_bind_header_repeated_joined(void **state)
{
	char *two[] = {"HTTP_X_USER=first", "REMOTE_ADDR=::1", "HTTP_X_USER=second", NULL};
	char *three[] = {"HTTP_X_USER=a", "HTTP_X_USER=b", "HTTP_X_USER=c", NULL};

	(void)state;
	/* nginx repeats the param; we join as Apache and lighttpd do. */
	expect_identity(BIND_HEADER, "HTTP_X_USER", two, 0, "first, second");
	expect_identity(BIND_HEADER, "HTTP_X_USER", three, 0, "a, b, c");
}

static void test_bind_cookie(void **state)
{
	char *plain[] = {"HTTP_COOKIE=a=1; sid=xyz; b=2", NULL};
	char *first[] = {"HTTP_COOKIE=sid=xyz", NULL};
	char *quoted[] = {"HTTP_COOKIE=a=1; sid=\"xyz\"", NULL};
	char *nospace[] = {"HTTP_COOKIE=a=1;sid=xyz;b=2", NULL};
	char *spaces[] = {"HTTP_COOKIE=a=1;    sid=xyz", NULL};
	char *repeat[] = {"HTTP_COOKIE=sid=one; sid=two", NULL};
	char *prefix[] = {"HTTP_COOKIE=xsid=no; sidx=no; sid=yes", NULL};
	char *asvalue[] = {"HTTP_COOKIE=a=sid; sid=yes", NULL};
	char *missing[] = {"HTTP_COOKIE=a=1; b=2", NULL};
	char *nocookie[] = {"REMOTE_USER=alice", NULL};
	char *empty[] = {"HTTP_COOKIE=", NULL};

	(void)state;
	expect_identity(BIND_COOKIE, "sid", plain, 0, "xyz");
	expect_identity(BIND_COOKIE, "sid", first, 0, "xyz");
	expect_identity(BIND_COOKIE, "sid", quoted, 0, "xyz");
	expect_identity(BIND_COOKIE, "sid", nospace, 0, "xyz");
	expect_identity(BIND_COOKIE, "sid", spaces, 0, "xyz");
	expect_identity(BIND_COOKIE, "sid", repeat, 0, "one");
	expect_identity(BIND_COOKIE, "sid", prefix, 0, "yes");
	expect_identity(BIND_COOKIE, "sid", asvalue, 0, "yes");
	expect_identity(BIND_COOKIE, "sid", missing, 0, "");
	expect_identity(BIND_COOKIE, "sid", nocookie, 0, "");
	expect_identity(BIND_COOKIE, "sid", empty, 0, "");
}

/* "NAME=" followed by n copies of c, malloc'd. */
static char *param_of(const char *name, size_t n, char c)
{
	size_t nl = strlen(name);
	char *s = malloc(nl + 1 + n + 1);

	assert_non_null(s);
	memcpy(s, name, nl);
	s[nl] = '=';
	memset(s + nl + 1, c, n);
	s[nl + 1 + n] = '\0';
	return s;
}

static void test_length_limit(void **state)
{
	char *env[2] = {NULL, NULL};
	char want[IDENTITY_MAX + 1];

	(void)state;
	memset(want, 'u', IDENTITY_MAX);
	want[IDENTITY_MAX] = '\0';

	env[0] = param_of("REMOTE_USER", IDENTITY_MAX, 'u');
	expect_identity(BIND_REMOTE_USER, NULL, env, 0, want);
	free(env[0]);
	env[0] = param_of("REMOTE_USER", IDENTITY_MAX + 1, 'u');
	expect_identity(BIND_REMOTE_USER, NULL, env, -1, NULL);
	free(env[0]);

	env[0] = param_of("HTTP_X_USER", IDENTITY_MAX, 'u');
	expect_identity(BIND_HEADER, "HTTP_X_USER", env, 0, want);
	free(env[0]);
	env[0] = param_of("HTTP_X_USER", IDENTITY_MAX + 1, 'u');
	expect_identity(BIND_HEADER, "HTTP_X_USER", env, -1, NULL);
	free(env[0]);
	env[0] = param_of("HTTP_X_USER", 5000, 'u');
	expect_identity(BIND_HEADER, "HTTP_X_USER", env, -1, NULL);
	free(env[0]);
}

static void test_length_limit_cookie(void **state)
{
	char *env[2] = {NULL, NULL};
	char want[IDENTITY_MAX + 1];

	(void)state;
	memset(want, 'c', IDENTITY_MAX);
	want[IDENTITY_MAX] = '\0';
	env[0] = param_of("HTTP_COOKIE=sid", IDENTITY_MAX, 'c');
	expect_identity(BIND_COOKIE, "sid", env, 0, want);
	free(env[0]);
	env[0] = param_of("HTTP_COOKIE=sid", IDENTITY_MAX + 1, 'c');
	expect_identity(BIND_COOKIE, "sid", env, -1, NULL);
	free(env[0]);
}

static void test_length_limit_joined(void **state)
{
	char *env[3] = {NULL, NULL, NULL};

	(void)state;
	/* Each alone fits; joined with ", " they do not. */
	env[0] = param_of("HTTP_X_USER", 200, 'a');
	env[1] = param_of("HTTP_X_USER", 100, 'b');
	expect_identity(BIND_HEADER, "HTTP_X_USER", env, -1, NULL);
	free(env[0]);
	free(env[1]);
	/* 127 + 2 + 127 = 256 fits exactly. */
	env[0] = param_of("HTTP_X_USER", 127, 'a');
	env[1] = param_of("HTTP_X_USER", 127, 'b');
	{
		char want[IDENTITY_MAX + 1];

		memset(want, 'a', 127);
		memcpy(want + 127, ", ", 2);
		memset(want + 129, 'b', 127);
		want[256] = '\0';
		expect_identity(BIND_HEADER, "HTTP_X_USER", env, 0, want);
	}
	free(env[0]);
	free(env[1]);
}

static void test_control_bytes(void **state)
{
	char *ctl1[] = {"REMOTE_USER=al\x01ice", NULL};
	char *nl[] = {"HTTP_X_USER=bob\nevil", NULL};
	char *cr[] = {"HTTP_X_USER=bob\r", NULL};
	char *esc[] = {"HTTP_COOKIE=sid=a\x1b[31m", NULL};
	char *utf8[] = {"REMOTE_USER=J\xc3\xbcrgen", NULL};
	char *rep[] = {"HTTP_X_USER=ok", "HTTP_X_USER=b\x02", NULL};

	(void)state;
	expect_identity(BIND_REMOTE_USER, NULL, ctl1, -1, NULL);
	expect_identity(BIND_HEADER, "HTTP_X_USER", nl, -1, NULL);
	expect_identity(BIND_HEADER, "HTTP_X_USER", cr, -1, NULL);
	expect_identity(BIND_COOKIE, "sid", esc, -1, NULL);
	/* A control byte in a repeated header's second value. */
	expect_identity(BIND_HEADER, "HTTP_X_USER", rep, -1, NULL);
	/* Bytes >= 0x80 are not control bytes. */
	expect_identity(BIND_REMOTE_USER, NULL, utf8, 0, "J\xc3\xbcrgen");
}

static void expect_cookie(const char *header, const char *name, int want_rc, const char *want)
{
	char out[64];
	int rc;

	memset(out, 'x', sizeof out);
	rc = identity_cookie_value(header, name, out, sizeof out);
	if (rc != want_rc)
		fail_msg("identity_cookie_value(\"%s\", \"%s\") = %d, want %d", header, name, rc,
		         want_rc);
	if (want != NULL)
		assert_string_equal(out, want);
}

static void test_cookie_value(void **state)
{
	(void)state;
	expect_cookie("sid=xyz", "sid", 3, "xyz");
	expect_cookie("a=1; sid=xyz; b=2", "sid", 3, "xyz");
	expect_cookie("a=1;sid=xyz;b=2", "sid", 3, "xyz");
	expect_cookie("a=1;   sid=xyz", "sid", 3, "xyz");
	expect_cookie("sid=\"xyz\"", "sid", 3, "xyz");
	expect_cookie("a=1; sid=\"xyz\"; b=2", "sid", 3, "xyz");
	expect_cookie("sid=one; sid=two", "sid", 3, "one");
	expect_cookie("sidx=1; xsid=2; sid=3", "sid", 1, "3");
	expect_cookie("a=sid; sid=4", "sid", 1, "4");
	expect_cookie("sid=", "sid", 0, "");
	expect_cookie("a=1; sid=; b=2", "sid", 0, "");
	expect_cookie("sid=\"\"", "sid", 0, "");
	expect_cookie("sid=a=b", "sid", 3, "a=b");
}

static void test_cookie_missing(void **state)
{
	(void)state;
	expect_cookie("", "sid", -1, NULL);
	expect_cookie("a=1; b=2", "sid", -1, NULL);
	expect_cookie("sidx=1", "sid", -1, NULL);
	expect_cookie("xsid=1", "sid", -1, NULL);
	expect_cookie("a=sid", "sid", -1, NULL);
	expect_cookie("Sid=1", "sid", -1, NULL);
}

static void test_cookie_truncated(void **state)
{
	char out[4];

	(void)state;
	memset(out, 'x', sizeof out);
	/* Writes at most outlen-1 bytes, returns the full length. */
	assert_int_equal(identity_cookie_value("a=1; sid=abcdef; b=2", "sid", out, sizeof out), 6);
	assert_string_equal(out, "abc");
}

static void expect_key(const char *identity, const char *addr, size_t outlen, int want_rc,
                       const char *want)
{
	char out[128];
	int rc;

	assert_true(outlen <= sizeof out);
	memset(out, 'x', sizeof out);
	rc = identity_client_key(identity, addr, out, outlen);
	if (rc != want_rc)
		fail_msg("identity_client_key(\"%s\", \"%s\", %zu) = %d, want %d", identity, addr,
		         outlen, rc, want_rc);
	if (want != NULL)
		assert_string_equal(out, want);
}

static void test_client_key(void **state)
{
	(void)state;
	expect_key("alice", "192.0.2.1", 128, 0, "i:alice");
	expect_key("", "192.0.2.1", 128, 0, "a:192.0.2.1");
	expect_key("", "::1", 128, 0, "a:::1");
	expect_key("first, second", "::1", 128, 0, "i:first, second");
	/* "i:ab" needs 5 bytes with its NUL. */
	expect_key("ab", "192.0.2.1", 5, 0, "i:ab");
	expect_key("ab", "192.0.2.1", 4, -1, NULL);
	expect_key("", "10.0.0.1", 11, 0, "a:10.0.0.1");
	expect_key("", "10.0.0.1", 10, -1, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bind_none),
	    cmocka_unit_test(test_bind_remote_user),
	    cmocka_unit_test(test_bind_header),
	    cmocka_unit_test(test_bind_header_repeated_joined),
	    cmocka_unit_test(test_bind_cookie),
	    cmocka_unit_test(test_length_limit),
	    cmocka_unit_test(test_length_limit_cookie),
	    cmocka_unit_test(test_length_limit_joined),
	    cmocka_unit_test(test_control_bytes),
	    cmocka_unit_test(test_cookie_value),
	    cmocka_unit_test(test_cookie_missing),
	    cmocka_unit_test(test_cookie_truncated),
	    cmocka_unit_test(test_client_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
