/* Unit tests for order: JSON and form bodies, every validation rule at its
 * boundaries, the body's token, syntax errors (bad JSON, invalid UTF-8,
 * nesting), the canonical form (the payload fingerprint's input) and the
 * order representation. Expected values come from order.h and the issue's
 * contract, not from order.c. */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "order.h"
#include "../order_jansson.h"

#define TOK_LOWER "0f8fad5b-d9cb-469f-a165-70867728950e"
#define TOK_UPPER "0F8FAD5B-D9CB-469F-A165-70867728950E"
#define SKU64 "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-"
#define SKU65 SKU64 "_"
#define ONE_ITEM "\"items\":[{\"sku\":\"A\",\"qty\":1}]"

#define BIG 16384

/* A growable string for building bodies. */
struct buf {
	char s[BIG];
	size_t n;
};

static void bclear(struct buf *b)
{
	b->n = 0;
	b->s[0] = '\0';
}

static void badd(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void badd(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(b->s + b->n, sizeof b->s - b->n, fmt, ap);
	va_end(ap);
	assert_true(r >= 0 && (size_t)r < sizeof b->s - b->n);
	b->n += (size_t)r;
}

static const char *status_name(enum order_parse_status st)
{
	return st == ORDER_PARSED ? "ORDER_PARSED" : "ORDER_BAD_SYNTAX";
}

/* One of the two body parsers, with in zeroed first. */
struct parser {
	const char *name;
	enum order_parse_status (*parse)(const char *body, size_t len, struct order_input *in);
};

static const struct parser json_parser = {"JSON", order_parse_json};
static const struct parser form_parser = {"form", order_parse_form};

static enum order_parse_status run_parser(const struct parser *p, const char *body, size_t len,
                                          struct order_input *in)
{
	memset(in, 0, sizeof *in);
	return p->parse(body, len, in);
}

static enum order_parse_status parse_json(const char *body, size_t len, struct order_input *in)
{
	return run_parser(&json_parser, body, len, in);
}

static enum order_parse_status parse_form(const char *body, size_t len, struct order_input *in)
{
	return run_parser(&form_parser, body, len, in);
}

/* The body parses and passes every rule; in is left for the caller. */
static void parsed_valid(const struct parser *p, const char *body, struct order_input *in)
{
	enum order_parse_status st = run_parser(p, body, strlen(body), in);

	if (st != ORDER_PARSED || !in->valid)
		fail_msg("want a valid order from %s %.300s: got %s, valid %d, why \"%s\"", p->name,
		         body, status_name(st), in->valid, in->why);
}

static void expect_valid(const struct parser *p, const char *body)
{
	struct order_input in;

	parsed_valid(p, body, &in);
	order_input_free(&in);
}

/* The body parses but breaks an order rule (invalid_order). */
static void expect_invalid_len(const struct parser *p, const char *body, size_t len)
{
	struct order_input in;
	enum order_parse_status st = run_parser(p, body, len, &in);

	if (st != ORDER_PARSED || in.valid)
		fail_msg("want invalid_order from %s %.*s: got %s, valid %d", p->name, (int)len,
		         body, status_name(st), in.valid);
	assert_true(in.why[0] != '\0');
	order_input_free(&in);
}

/* The body's token member or field, and the order stays valid: the token
 * never makes the order itself invalid. The parser takes any key a client
 * may make (the handler applies keys = issued); a UUID is a token. */
static void expect_token(const struct parser *p, const char *body, enum token_status want,
                         const char *want_token)
{
	struct order_input in;
	enum order_parse_status st = run_parser(p, body, strlen(body), &in);

	assert_int_equal(st, ORDER_PARSED);
	if (in.body_token != want)
		fail_msg("%s %s: body_token %d, want %d", p->name, body, (int)in.body_token,
		         (int)want);
	if (want_token != NULL) {
		assert_string_equal(in.body_key.text, want_token);
		assert_int_equal(in.body_key.is_token,
		                 token_is_valid(want_token, strlen(want_token)));
	}
	assert_int_equal(in.valid, 1);
	order_input_free(&in);
}

/* The JSON body does not parse (invalid_json). */
static void expect_json_syntax(const char *body, size_t len)
{
	struct order_input in;
	enum order_parse_status st = parse_json(body, len, &in);

	if (st != ORDER_BAD_SYNTAX)
		fail_msg("want invalid_json from %.*s: got %s, valid %d", (int)len, body,
		         status_name(st), in.valid);
	order_input_free(&in);
}

static void expect_json_syntax_s(const char *body)
{
	expect_json_syntax(body, strlen(body));
}

static void json_valid(const char *body, struct order_input *in)
{
	parsed_valid(&json_parser, body, in);
}

static void form_valid(const char *body, struct order_input *in)
{
	parsed_valid(&form_parser, body, in);
}

static void expect_json_valid(const char *body)
{
	expect_valid(&json_parser, body);
}

static void expect_form_valid(const char *body)
{
	expect_valid(&form_parser, body);
}

static void expect_json_invalid(const char *body)
{
	expect_invalid_len(&json_parser, body, strlen(body));
}

static void expect_form_invalid(const char *body)
{
	expect_invalid_len(&form_parser, body, strlen(body));
}

static void expect_json_token(const char *body, enum token_status want, const char *want_token)
{
	expect_token(&json_parser, body, want, want_token);
}

static void expect_form_token(const char *body, enum token_status want, const char *want_token)
{
	expect_token(&form_parser, body, want, want_token);
}

/* ---- SKU syntax ---- */

static int sku_ok(const char *s)
{
	return order_sku_is_valid(s, strlen(s));
}

static void test_sku_syntax(void **state)
{
	static const char *const bad[] = {
	    "",         SKU65, "a b", "a/b",  "a+b", "a:b", "a,b",
	    "\xc3\xa9", "a*",  "a\"", "a\\b", "a\n", "a~",  "a%41",
	};

	(void)state;
	assert_int_equal(sku_ok("SKU-1"), 1);
	assert_int_equal(sku_ok("a"), 1);
	assert_int_equal(sku_ok("a.b_c-D9"), 1);
	assert_int_equal(sku_ok("..."), 1);
	assert_int_equal(sku_ok(SKU64), 1);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (sku_ok(bad[i]) != 0)
			fail_msg("order_sku_is_valid accepted \"%s\"", bad[i]);
	}
	/* len counts, not the NUL. */
	assert_int_equal(order_sku_is_valid("AB CD", 2), 1);
	assert_int_equal(order_sku_is_valid("A\0B", 3), 0);
	assert_int_equal(order_sku_is_valid(SKU65, 64), 1);
}

/* ---- JSON: a full order ---- */

static void test_json_full_order(void **state)
{
	struct order_input in;

	(void)state;
	json_valid("{\"items\":[{\"sku\":\"SKU-2\",\"qty\":3},{\"sku\":\"SKU-1\",\"qty\":1000}],"
	           "\"customer\":\"Ann B\",\"token\":\"" TOK_UPPER "\"}",
	           &in);
	assert_int_equal(in.order.n_items, 2);
	/* Request order kept. */
	assert_string_equal(in.order.items[0].sku, "SKU-2");
	assert_int_equal(in.order.items[0].qty, 3);
	assert_string_equal(in.order.items[1].sku, "SKU-1");
	assert_int_equal(in.order.items[1].qty, 1000);
	assert_non_null(in.order.customer);
	assert_string_equal(in.order.customer, "Ann B");
	assert_int_equal(in.body_token, TOKEN_OK);
	assert_string_equal(in.body_key.text, TOK_LOWER);
	order_input_free(&in);
}

static void test_json_minimal_order(void **state)
{
	struct order_input in;

	(void)state;
	json_valid("{" ONE_ITEM "}", &in);
	assert_int_equal(in.order.n_items, 1);
	assert_null(in.order.customer);
	assert_int_equal(in.body_token, TOKEN_ABSENT);
	order_input_free(&in);
	/* Whitespace and a charset-free JSON body with spaces everywhere. */
	json_valid(" \n{ \"items\" : [ { \"qty\" : 7 , \"sku\" : \"X\" } ] }\n ", &in);
	assert_string_equal(in.order.items[0].sku, "X");
	assert_int_equal(in.order.items[0].qty, 7);
	order_input_free(&in);
}

static void test_json_unknown_members_ignored(void **state)
{
	(void)state;
	expect_json_valid("{" ONE_ITEM ",\"note\":\"x\",\"extra\":{\"deep\":[1,2,{\"a\":null}]},"
	                  "\"n\":1.5,\"b\":true,\"z\":null}");
	expect_json_valid("{\"items\":[{\"sku\":\"A\",\"qty\":1,\"price\":9.99,\"note\":[1]}]}");
	expect_json_valid("{\"meta\":\"first\"," ONE_ITEM "}");
}

/* ---- JSON: items count ---- */

/* {"items":[n lines S1..Sn]} into b. */
static void json_items(struct buf *b, int n)
{
	bclear(b);
	badd(b, "{\"items\":[");
	for (int i = 1; i <= n; i++)
		badd(b, "%s{\"sku\":\"S%d\",\"qty\":%d}", i > 1 ? "," : "", i, i);
	badd(b, "]}");
}

static void test_json_item_count(void **state)
{
	static struct buf b;
	struct order_input in;

	(void)state;
	json_items(&b, 0);
	expect_json_invalid(b.s);
	json_items(&b, 1);
	expect_json_valid(b.s);
	json_items(&b, 50);
	json_valid(b.s, &in);
	assert_int_equal(in.order.n_items, 50);
	assert_string_equal(in.order.items[49].sku, "S50");
	assert_int_equal(in.order.items[49].qty, 50);
	order_input_free(&in);
	json_items(&b, 51);
	expect_json_invalid(b.s);
	json_items(&b, 500);
	expect_json_invalid(b.s);
}

static void test_json_items_shape(void **state)
{
	(void)state;
	expect_json_invalid("{}");
	expect_json_invalid("{\"customer\":\"x\"}");
	expect_json_invalid("{\"items\":null}");
	expect_json_invalid("{\"items\":{}}");
	expect_json_invalid("{\"items\":{\"sku\":\"A\",\"qty\":1}}");
	expect_json_invalid("{\"items\":\"A\"}");
	expect_json_invalid("{\"items\":[\"A\"]}");
	expect_json_invalid("{\"items\":[[\"A\",1]]}");
	expect_json_invalid("{\"items\":[null]}");
	expect_json_invalid("{\"items\":[{\"sku\":\"A\"}]}");
	expect_json_invalid("{\"items\":[{\"qty\":1}]}");
	expect_json_invalid("{\"items\":[{}]}");
	expect_json_invalid("{\"items\":[{\"sku\":\"A\",\"qty\":1},{\"sku\":\"B\"}]}");
	expect_json_invalid("{\"items\":[{\"sku\":\"A\",\"qty\":1},5]}");
}

/* ---- JSON: sku ---- */

static void test_json_sku_rules(void **state)
{
	(void)state;
	expect_json_valid("{\"items\":[{\"sku\":\"" SKU64 "\",\"qty\":1}]}");
	expect_json_valid("{\"items\":[{\"sku\":\"a.b_c-D9\",\"qty\":1}]}");
	expect_json_invalid("{\"items\":[{\"sku\":\"" SKU65 "\",\"qty\":1}]}");
	expect_json_invalid("{\"items\":[{\"sku\":\"\",\"qty\":1}]}");
	expect_json_invalid("{\"items\":[{\"sku\":\"bad sku\",\"qty\":1}]}");
	expect_json_invalid("{\"items\":[{\"sku\":\"a/b\",\"qty\":1}]}");
	expect_json_invalid("{\"items\":[{\"sku\":\"\xc3\xa9\",\"qty\":1}]}");
	expect_json_invalid("{\"items\":[{\"sku\":5,\"qty\":1}]}");
	expect_json_invalid("{\"items\":[{\"sku\":null,\"qty\":1}]}");
	expect_json_invalid("{\"items\":[{\"sku\":[\"A\"],\"qty\":1}]}");
}

static void test_json_sku_invalid_in_later_line(void **state)
{
	(void)state;
	expect_json_invalid("{\"items\":[{\"sku\":\"A\",\"qty\":1},{\"sku\":\"b!\",\"qty\":1}]}");
}

/* ---- JSON: qty ---- */

static void json_qty(struct buf *b, const char *qty)
{
	bclear(b);
	badd(b, "{\"items\":[{\"sku\":\"A\",\"qty\":%s}]}", qty);
}

static void test_json_qty_rules(void **state)
{
	static const char *const bad[] = {
	    "0",    "1001",       "-1",         "-1000",
	    "2.0",  "1.5",        "\"2\"",      "true",
	    "null", "[2]",        "{}",         "1e2",
	    "10E1", "4294967297", "2147483649", "9223372036854775807",
	};
	static struct buf b;
	struct order_input in;

	(void)state;
	json_qty(&b, "1");
	json_valid(b.s, &in);
	assert_int_equal(in.order.items[0].qty, 1);
	order_input_free(&in);
	json_qty(&b, "1000");
	json_valid(b.s, &in);
	assert_int_equal(in.order.items[0].qty, 1000);
	order_input_free(&in);
	json_qty(&b, "2");
	json_valid(b.s, &in);
	assert_int_equal(in.order.items[0].qty, 2);
	order_input_free(&in);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		json_qty(&b, bad[i]);
		expect_json_invalid(b.s);
	}
}

/* ---- JSON: duplicate sku ---- */

static void test_json_duplicate_sku(void **state)
{
	(void)state;
	expect_json_invalid("{\"items\":[{\"sku\":\"A\",\"qty\":1},{\"sku\":\"A\",\"qty\":2}]}");
	expect_json_invalid("{\"items\":[{\"sku\":\"A\",\"qty\":1},{\"sku\":\"B\",\"qty\":1},"
	                    "{\"sku\":\"A\",\"qty\":1}]}");
	expect_json_valid("{\"items\":[{\"sku\":\"A\",\"qty\":1},{\"sku\":\"A.\",\"qty\":1},"
	                  "{\"sku\":\"AA\",\"qty\":1}]}");
}

/* ---- JSON: customer ---- */

static void json_customer(struct buf *b, const char *unit, int times, const char *extra)
{
	bclear(b);
	badd(b, "{" ONE_ITEM ",\"customer\":\"");
	for (int i = 0; i < times; i++)
		badd(b, "%s", unit);
	badd(b, "%s\"}", extra);
}

static void test_json_customer_length(void **state)
{
	static struct buf b;
	struct order_input in;

	(void)state;
	json_customer(&b, "c", 256, "");
	json_valid(b.s, &in);
	assert_int_equal(strlen(in.order.customer), 256);
	order_input_free(&in);
	json_customer(&b, "c", 257, "");
	expect_json_invalid(b.s);
	/* Bytes, not characters: 128 x U+00E9 is 256 bytes. */
	json_customer(&b, "\xc3\xa9", 128, "");
	expect_json_valid(b.s);
	json_customer(&b, "\xc3\xa9", 128, "c");
	expect_json_invalid(b.s);
	/* Escapes count as the bytes they stand for. */
	json_customer(&b, "\\u00e9", 128, "");
	expect_json_valid(b.s);
	json_customer(&b, "\\u00e9", 128, "c");
	expect_json_invalid(b.s);
	json_customer(&b, "\\\"", 256, "");
	expect_json_valid(b.s);
	json_customer(&b, "\\\"", 257, "");
	expect_json_invalid(b.s);
}

static void test_json_customer_values(void **state)
{
	struct order_input in;

	(void)state;
	json_valid("{" ONE_ITEM ",\"customer\":\"J\\u00fcrgen \\\"Q\\\"\"}", &in);
	assert_string_equal(in.order.customer, "J\xc3\xbcrgen \"Q\"");
	order_input_free(&in);
	expect_json_invalid("{" ONE_ITEM ",\"customer\":5}");
	expect_json_invalid("{" ONE_ITEM ",\"customer\":true}");
	expect_json_invalid("{" ONE_ITEM ",\"customer\":{}}");
	expect_json_invalid("{" ONE_ITEM ",\"customer\":[\"x\"]}");
}

/* ---- JSON: token member ---- */

static void test_json_token_member(void **state)
{
	(void)state;
	expect_json_token("{" ONE_ITEM "}", TOKEN_ABSENT, NULL);
	expect_json_token("{" ONE_ITEM ",\"token\":null}", TOKEN_ABSENT, NULL);
	expect_json_token("{" ONE_ITEM ",\"token\":\"" TOK_LOWER "\"}", TOKEN_OK, TOK_LOWER);
	expect_json_token("{" ONE_ITEM ",\"token\":\"" TOK_UPPER "\"}", TOKEN_OK, TOK_LOWER);
	expect_json_token("{\"token\":\"" TOK_UPPER "\"," ONE_ITEM "}", TOKEN_OK, TOK_LOWER);
	expect_json_token("{" ONE_ITEM ",\"token\":5}", TOKEN_MALFORMED, NULL);
	expect_json_token("{" ONE_ITEM ",\"token\":true}", TOKEN_MALFORMED, NULL);
	expect_json_token("{" ONE_ITEM ",\"token\":[\"" TOK_LOWER "\"]}", TOKEN_MALFORMED, NULL);
	expect_json_token("{" ONE_ITEM ",\"token\":{}}", TOKEN_MALFORMED, NULL);
	/* Client-made keys (not UUIDs) in the bare form. */
	expect_json_token("{" ONE_ITEM ",\"token\":\"abc\"}", TOKEN_OK, "abc");
	expect_json_token("{" ONE_ITEM ",\"token\":\"" TOK_LOWER "x\"}", TOKEN_OK, TOK_LOWER "x");
	expect_json_token("{" ONE_ITEM ",\"token\":\" " TOK_LOWER "\"}", TOKEN_MALFORMED, NULL);
	expect_json_token("{" ONE_ITEM ",\"token\":\"a,b\"}", TOKEN_MALFORMED, NULL);
	expect_json_token("{" ONE_ITEM ",\"token\":\"a\\u0000b\"}", TOKEN_MALFORMED, NULL);
	expect_json_token("{" ONE_ITEM ",\"token\":\"caf\\u00e9\"}", TOKEN_MALFORMED, NULL);
	/* The quoted form is for the header only. */
	expect_json_token("{" ONE_ITEM ",\"token\":\"\\\"" TOK_LOWER "\\\"\"}", TOKEN_MALFORMED,
	                  NULL);
}

#define TOKEN_BODY "{\"items\":[],\"token\":\"" TOK_UPPER "\"}"

static void test_json_token_empty_string(void **state)
{
	(void)state;
	/* Only null (and an empty header) count as absent; "" is a string that
	 * is not a key. */
	expect_json_token("{" ONE_ITEM ",\"token\":\"\"}", TOKEN_MALFORMED, NULL);
}

static void test_json_token_with_invalid_order(void **state)
{
	struct order_input in;

	(void)state;
	/* The token is reported even when the order breaks a rule. */
	assert_int_equal(parse_json(TOKEN_BODY, strlen(TOKEN_BODY), &in), ORDER_PARSED);
	assert_int_equal(in.valid, 0);
	assert_int_equal(in.body_token, TOKEN_OK);
	assert_string_equal(in.body_key.text, TOK_LOWER);
	order_input_free(&in);
	assert_int_equal(parse_json("{\"items\":[],\"token\":7}", 22, &in), ORDER_PARSED);
	assert_int_equal(in.valid, 0);
	assert_int_equal(in.body_token, TOKEN_MALFORMED);
	order_input_free(&in);
}

/* ---- JSON: syntax ---- */

static void test_json_unparseable(void **state)
{
	static const char *const bad[] = {
	    "",
	    " ",
	    "{",
	    "{\"items\":",
	    "{\"items\":[{\"sku\":\"A\",\"qty\":1}]",
	    "{\"items\":[{\"sku\":\"A\",\"qty\":1}]} x",
	    "{\"items\":[{\"sku\":\"A\",\"qty\":1}]}{}",
	    "{'items':[]}",
	    "{items:[]}",
	    "{\"items\":[{\"sku\":\"A\",\"qty\":1},]}",
	    "{\"items\":[{\"sku\":\"A\",\"qty\":01}]}",
	    "{\"items\":[{\"sku\":\"A\",\"qty\":NaN}]}",
	    "sku=A&qty=1",
	    "nul",
	};

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		expect_json_syntax(bad[i], strlen(bad[i]));
}

static void test_json_len_respected(void **state)
{
	static const char body[] = "{" ONE_ITEM "}garbage";
	struct order_input in;

	(void)state;
	/* Only len bytes count: the same bytes cut before "garbage" are fine. */
	assert_int_equal(parse_json(body, strlen(body) - 7, &in), ORDER_PARSED);
	assert_int_equal(in.valid, 1);
	order_input_free(&in);
	expect_json_syntax(body, strlen(body));
	/* A NUL byte after the object is not the end of the body. */
	expect_json_syntax("{" ONE_ITEM "}\0", strlen("{" ONE_ITEM "}") + 1);
}

static void test_json_invalid_utf8(void **state)
{
	(void)state;
	expect_json_syntax_s("{" ONE_ITEM ",\"customer\":\"\xff\"}");
	expect_json_syntax_s("{" ONE_ITEM ",\"customer\":\"a\xc3\"}");
	expect_json_syntax_s("{" ONE_ITEM ",\"customer\":\"\xc0\xaf\"}");
	expect_json_syntax_s("{" ONE_ITEM ",\"customer\":\"\xed\xa0\x80\"}");
	expect_json_syntax_s("{" ONE_ITEM ",\"note\":\"\xfe\"}");
	expect_json_syntax_s("{" ONE_ITEM ",\"\xff\":1}");
}

/* An order whose document nests depth containers (the top object is 1). */
static void json_depth(struct buf *b, int depth)
{
	bclear(b);
	badd(b, "{" ONE_ITEM ",\"x\":");
	for (int i = 1; i < depth; i++)
		badd(b, "[");
	for (int i = 1; i < depth; i++)
		badd(b, "]");
	badd(b, "}");
}

static void test_json_depth(void **state)
{
	static struct buf b;

	(void)state;
	json_depth(&b, 2);
	expect_json_valid(b.s);
	json_depth(&b, 31);
	expect_json_valid(b.s);
	json_depth(&b, ORDER_JSON_MAX_DEPTH);
	expect_json_valid(b.s);
	json_depth(&b, ORDER_JSON_MAX_DEPTH + 1);
	expect_json_syntax(b.s, b.n);
	json_depth(&b, 1000);
	expect_json_syntax(b.s, b.n);
}

static void test_json_depth_ignores_brackets_in_strings(void **state)
{
	static struct buf b;

	(void)state;
	/* Brackets inside strings (even after an escaped quote) are not nesting. */
	bclear(&b);
	badd(&b, "{" ONE_ITEM ",\"customer\":\"\\\"");
	for (int i = 0; i < 40; i++)
		badd(&b, "[{");
	badd(&b, "\",\"note\":\"");
	for (int i = 0; i < 40; i++)
		badd(&b, "[");
	badd(&b, "\"}");
	expect_json_valid(b.s);
}

static void test_json_depth_non_object(void **state)
{
	static struct buf b;

	(void)state;
	/* 32 nested arrays: valid JSON, not an order. 33: invalid JSON. */
	bclear(&b);
	for (int i = 0; i < 32; i++)
		badd(&b, "[");
	for (int i = 0; i < 32; i++)
		badd(&b, "]");
	expect_json_invalid(b.s);
	bclear(&b);
	for (int i = 0; i < 33; i++)
		badd(&b, "[");
	for (int i = 0; i < 33; i++)
		badd(&b, "]");
	expect_json_syntax(b.s, b.n);
}

static void test_json_not_an_object(void **state)
{
	(void)state;
	/* Valid JSON that is not an order object: parsed, invalid_order. */
	expect_json_invalid("[]");
	expect_json_invalid("[{\"sku\":\"A\",\"qty\":1}]");
}

static void test_json_scalar_is_invalid_order(void **state)
{
	static const char *const scalars[] = {"42", "\"" TOK_LOWER "\"", "null", "true", " 1.5 "};
	char failed[256] = "";
	struct order_input in;

	(void)state;
	/* RFC 8259 text may be any value: a scalar is valid JSON, not an order
	 * object, so invalid_order (not invalid_json). */
	for (size_t i = 0; i < sizeof scalars / sizeof scalars[0]; i++) {
		enum order_parse_status st = parse_json(scalars[i], strlen(scalars[i]), &in);

		if (st != ORDER_PARSED || in.valid)
			snprintf(failed + strlen(failed), sizeof failed - strlen(failed), " %s=%s",
			         scalars[i], status_name(st));
		order_input_free(&in);
	}
	if (failed[0] != '\0')
		fail_msg("want ORDER_PARSED and invalid for:%s", failed);
}

static void test_json_nul_escape_is_invalid_order(void **state)
{
	(void)state;
	/* "\u0000" is valid JSON; a SKU holding it breaks the SKU rule. */
	expect_json_invalid("{\"items\":[{\"sku\":\"A\\u0000B\",\"qty\":1}]}");
}

/* ---- form bodies ---- */

static void test_form_full_order(void **state)
{
	struct order_input in;

	(void)state;
	form_valid("token=" TOK_UPPER "&sku=SKU-2&qty=3&sku=SKU-1&qty=1000&customer=Ann+B&foo=bar",
	           &in);
	assert_int_equal(in.order.n_items, 2);
	assert_string_equal(in.order.items[0].sku, "SKU-2");
	assert_int_equal(in.order.items[0].qty, 3);
	assert_string_equal(in.order.items[1].sku, "SKU-1");
	assert_int_equal(in.order.items[1].qty, 1000);
	assert_non_null(in.order.customer);
	assert_string_equal(in.order.customer, "Ann B");
	assert_int_equal(in.body_token, TOKEN_OK);
	assert_string_equal(in.body_key.text, TOK_LOWER);
	order_input_free(&in);

	form_valid("sku=SKU%2D1&qty=%32&customer=J%C3%BCrgen", &in);
	assert_int_equal(in.order.n_items, 1);
	assert_string_equal(in.order.items[0].sku, "SKU-1");
	assert_int_equal(in.order.items[0].qty, 2);
	assert_string_equal(in.order.customer, "J\xc3\xbcrgen");
	assert_int_equal(in.body_token, TOKEN_ABSENT);
	order_input_free(&in);
}

static void test_form_pairs_by_position(void **state)
{
	struct order_input in;

	(void)state;
	/* The i-th sku goes with the i-th qty. */
	form_valid("sku=A&sku=B&qty=1&qty=2", &in);
	assert_int_equal(in.order.n_items, 2);
	assert_string_equal(in.order.items[0].sku, "A");
	assert_int_equal(in.order.items[0].qty, 1);
	assert_string_equal(in.order.items[1].sku, "B");
	assert_int_equal(in.order.items[1].qty, 2);
	assert_null(in.order.customer);
	order_input_free(&in);
}

static void test_form_count_mismatch(void **state)
{
	(void)state;
	expect_form_invalid("sku=A&sku=B&qty=1");
	expect_form_invalid("sku=A&qty=1&qty=2");
	expect_form_invalid("sku=A");
	expect_form_invalid("qty=1");
	expect_form_invalid("");
	expect_form_invalid("token=" TOK_LOWER);
	expect_form_invalid("customer=Ann");
}

static void test_form_qty_rules(void **state)
{
	static const char *const bad[] = {
	    "0",   "1001", "-1", "%2B1", "+1",   "1.0", "",           "1e2",
	    "0x1", "2a",   "a2", "%202", "2%20", "%00", "4294967297", "99999999999999999999",
	};
	static struct buf b;
	struct order_input in;

	(void)state;
	form_valid("sku=A&qty=1", &in);
	assert_int_equal(in.order.items[0].qty, 1);
	order_input_free(&in);
	form_valid("sku=A&qty=1000", &in);
	assert_int_equal(in.order.items[0].qty, 1000);
	order_input_free(&in);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		bclear(&b);
		badd(&b, "sku=A&qty=%s", bad[i]);
		expect_form_invalid(b.s);
	}
}

static void test_form_sku_rules(void **state)
{
	(void)state;
	expect_form_valid("sku=" SKU64 "&qty=1");
	expect_form_invalid("sku=" SKU65 "&qty=1");
	expect_form_invalid("sku=&qty=1");
	expect_form_invalid("sku=bad+sku&qty=1");
	expect_form_invalid("sku=A%00B&qty=1");
	expect_form_invalid("sku=A&qty=1&sku=A&qty=2");
}

static void test_form_item_count(void **state)
{
	static struct buf b;
	struct order_input in;

	(void)state;
	bclear(&b);
	for (int i = 1; i <= 50; i++)
		badd(&b, "%ssku=S%d&qty=%d", i > 1 ? "&" : "", i, i);
	form_valid(b.s, &in);
	assert_int_equal(in.order.n_items, 50);
	assert_string_equal(in.order.items[49].sku, "S50");
	order_input_free(&in);
	badd(&b, "&sku=S51&qty=51");
	expect_form_invalid(b.s);
}

static void test_form_customer(void **state)
{
	static struct buf b;
	struct order_input in;
	enum order_parse_status st;

	(void)state;
	bclear(&b);
	badd(&b, "sku=A&qty=1&customer=");
	for (int i = 0; i < 256; i++)
		badd(&b, "c");
	expect_form_valid(b.s);
	badd(&b, "c");
	expect_form_invalid(b.s);
	/* 128 x %C3%A9 is 256 bytes. */
	bclear(&b);
	badd(&b, "sku=A&qty=1&customer=");
	for (int i = 0; i < 128; i++)
		badd(&b, "%%C3%%A9");
	expect_form_valid(b.s);
	badd(&b, "+");
	expect_form_invalid(b.s);
	/* Not UTF-8: the form decodes, the order is invalid (both invalid_order). */
	st = parse_form("sku=A&qty=1&customer=%FF", strlen("sku=A&qty=1&customer=%FF"), &in);
	if (!(st == ORDER_BAD_SYNTAX || (st == ORDER_PARSED && !in.valid)))
		fail_msg("customer %%FF accepted");
	order_input_free(&in);
}

static void test_form_bad_escape(void **state)
{
	static const char *const bad[] = {
	    "sku=A&qty=1&customer=%", "sku=%G1&qty=1",    "sku=A&qty=%4",
	    "token=%zz&sku=A&qty=1",  "sku=A&qty=1&x%=1",
	};
	struct order_input in;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		enum order_parse_status st = parse_form(bad[i], strlen(bad[i]), &in);

		if (st != ORDER_BAD_SYNTAX)
			fail_msg("form %s: %s, want ORDER_BAD_SYNTAX", bad[i], status_name(st));
		assert_true(in.why[0] != '\0');
		order_input_free(&in);
	}
}

static void test_form_token_field(void **state)
{
	(void)state;
	expect_form_token("sku=A&qty=1", TOKEN_ABSENT, NULL);
	expect_form_token("sku=A&qty=1&token=" TOK_LOWER, TOKEN_OK, TOK_LOWER);
	expect_form_token("token=" TOK_UPPER "&sku=A&qty=1", TOKEN_OK, TOK_LOWER);
	expect_form_token("token=abc&sku=A&qty=1", TOKEN_OK, "abc");
	expect_form_token("token=" TOK_LOWER "x&sku=A&qty=1", TOKEN_OK, TOK_LOWER "x");
	expect_form_token("token=a%2Cb&sku=A&qty=1", TOKEN_MALFORMED, NULL);
	expect_form_token("token=a+b&sku=A&qty=1", TOKEN_MALFORMED, NULL);
	expect_form_token("token=%22" TOK_LOWER "%22&sku=A&qty=1", TOKEN_MALFORMED, NULL);
	/* A repeated token field is malformed, even when both agree. */
	expect_form_token("token=" TOK_LOWER "&sku=A&qty=1&token=" TOK_LOWER, TOKEN_MALFORMED,
	                  NULL);
	expect_form_token("token=" TOK_LOWER "&token=abc&sku=A&qty=1", TOKEN_MALFORMED, NULL);
}

/* ---- canonical form ---- */

/* order_canonical / order_write_json into a fresh buffer, as a malloc'd string. */
static char *canonical(const struct order *o)
{
	struct strbuf sb = STRBUF_INIT;
	order_canonical(o, &sb);
	return strbuf_detach(&sb, NULL);
}

static char *to_json(const struct order *o, const char *id, const char *at, size_t *len)
{
	struct strbuf sb = STRBUF_INIT;
	order_write_json(o, id, at, &sb);
	return strbuf_detach(&sb, len);
}

static char *canonical_of_json(const char *body)
{
	struct order_input in;
	char *c;

	json_valid(body, &in);
	c = canonical(&in.order);
	assert_non_null(c);
	order_input_free(&in);
	return c;
}

static char *canonical_of_form(const char *body)
{
	struct order_input in;
	char *c;

	form_valid(body, &in);
	c = canonical(&in.order);
	assert_non_null(c);
	order_input_free(&in);
	return c;
}

static void test_canonical_json_and_form_agree(void **state)
{
	char *a, *b, *c;

	(void)state;
	a = canonical_of_json(
	    "{\"items\":[{\"sku\":\"SKU-1\",\"qty\":2},{\"sku\":\"SKU-2\",\"qty\":1}],"
	    "\"customer\":\"Ann B\",\"token\":\"" TOK_LOWER "\"}");
	b = canonical_of_form("token=" TOK_UPPER "&sku=SKU-1&qty=2&sku=SKU-2&qty=1&customer=Ann+B");
	c = canonical_of_form("sku=SKU-1&qty=2&sku=SKU-2&qty=1&customer=Ann%20B&extra=1");
	assert_string_equal(a, b);
	assert_string_equal(a, c);
	free(a);
	free(b);
	free(c);

	a = canonical_of_json("{\"items\":[{\"sku\":\"X\",\"qty\":5}]}");
	b = canonical_of_form("sku=X&qty=5");
	assert_string_equal(a, b);
	free(a);
	free(b);
}

static void test_canonical_reordered_agree(void **state)
{
	char *a, *b, *c;

	(void)state;
	a = canonical_of_json("{\"items\":[{\"sku\":\"B\",\"qty\":2},{\"sku\":\"A\",\"qty\":1},"
	                      "{\"sku\":\"C\",\"qty\":3}],\"customer\":\"x\"}");
	b = canonical_of_json("{\"customer\":\"x\",\"items\":[{\"qty\":1,\"sku\":\"A\"},"
	                      "{\"sku\":\"C\",\"qty\":3},{\"sku\":\"B\",\"qty\":2}],\"note\":1}");
	c = canonical_of_form("sku=C&qty=3&sku=A&qty=1&sku=B&qty=2&customer=x");
	assert_string_equal(a, b);
	assert_string_equal(a, c);
	free(a);
	free(b);
	free(c);
}

static void test_canonical_token_not_part(void **state)
{
	char *a, *b;

	(void)state;
	a = canonical_of_json("{" ONE_ITEM ",\"token\":\"" TOK_LOWER "\"}");
	b = canonical_of_json("{" ONE_ITEM ",\"token\":\"11111111-2222-4333-8444-555555555555\"}");
	assert_string_equal(a, b);
	free(a);
	free(b);
}

static void test_canonical_differs(void **state)
{
	static const char *const bodies[] = {
	    "{\"items\":[{\"sku\":\"A\",\"qty\":1},{\"sku\":\"B\",\"qty\":2}],\"customer\":"
	    "\"Ann\"}",
	    "{\"items\":[{\"sku\":\"A\",\"qty\":1},{\"sku\":\"B\",\"qty\":2}],\"customer\":"
	    "\"Bob\"}",
	    "{\"items\":[{\"sku\":\"A\",\"qty\":1},{\"sku\":\"B\",\"qty\":2}],\"customer\":"
	    "\"ann\"}",
	    "{\"items\":[{\"sku\":\"A\",\"qty\":1},{\"sku\":\"B\",\"qty\":2}]}",
	    "{\"items\":[{\"sku\":\"A\",\"qty\":1},{\"sku\":\"B\",\"qty\":3}],\"customer\":"
	    "\"Ann\"}",
	    "{\"items\":[{\"sku\":\"A\",\"qty\":2},{\"sku\":\"B\",\"qty\":1}],\"customer\":"
	    "\"Ann\"}",
	    "{\"items\":[{\"sku\":\"A\",\"qty\":1},{\"sku\":\"C\",\"qty\":2}],\"customer\":"
	    "\"Ann\"}",
	    "{\"items\":[{\"sku\":\"a\",\"qty\":1},{\"sku\":\"B\",\"qty\":2}],\"customer\":"
	    "\"Ann\"}",
	    "{\"items\":[{\"sku\":\"A\",\"qty\":1}],\"customer\":\"Ann\"}",
	    "{\"items\":[{\"sku\":\"A\",\"qty\":12}],\"customer\":\"Ann\"}",
	    "{\"items\":[{\"sku\":\"A1\",\"qty\":2}],\"customer\":\"Ann\"}",
	    "{\"items\":[{\"sku\":\"A\",\"qty\":1},{\"sku\":\"B\",\"qty\":2},{\"sku\":\"C\","
	    "\"qty\":1}],"
	    "\"customer\":\"Ann\"}",
	};
	enum { N = sizeof bodies / sizeof bodies[0] };
	char *c[N];

	(void)state;
	for (size_t i = 0; i < N; i++)
		c[i] = canonical_of_json(bodies[i]);
	for (size_t i = 0; i < N; i++) {
		for (size_t j = i + 1; j < N; j++) {
			if (strcmp(c[i], c[j]) == 0)
				fail_msg("same canonical form for\n%s\n%s", bodies[i], bodies[j]);
		}
	}
	for (size_t i = 0; i < N; i++)
		free(c[i]);
}

/* 1 if s[0..n) is valid UTF-8 without NUL (a possible customer). */
static int plausible_customer(const char *s, size_t n)
{
	json_t *j;

	if (n > ORDER_CUSTOMER_MAX || memchr(s, '\0', n) != NULL)
		return 0;
	j = json_stringn(s, n);
	if (j == NULL)
		return 0;
	json_decref(j);
	return 1;
}

static void test_canonical_no_customer_injection(void **state)
{
	struct order two, one;
	char *c2, *c2e, *c1;
	size_t n;

	(void)state;
	/* A one-line order whose customer spells the rest of a two-line
	 * order's canonical form must not collide with it. */
	memset(&two, 0, sizeof two);
	strcpy(two.items[0].sku, "A");
	two.items[0].qty = 1;
	strcpy(two.items[1].sku, "B");
	two.items[1].qty = 2;
	two.n_items = 2;
	memset(&one, 0, sizeof one);
	strcpy(one.items[0].sku, "A");
	one.items[0].qty = 1;
	one.n_items = 1;

	c2 = canonical(&two);
	two.customer = strdup("");
	assert_non_null(two.customer);
	c2e = canonical(&two);
	free(two.customer);
	assert_non_null(c2);
	assert_non_null(c2e);
	n = strlen(c2);
	for (size_t k = 0; k <= n; k++) {
		if (!plausible_customer(c2 + k, n - k))
			continue;
		one.customer = strndup(c2 + k, n - k);
		assert_non_null(one.customer);
		c1 = canonical(&one);
		assert_non_null(c1);
		if (strcmp(c1, c2) == 0 || strcmp(c1, c2e) == 0)
			fail_msg("customer \"%s\" collides with a two-line order", one.customer);
		free(c1);
		free(one.customer);
	}
	free(c2);
	free(c2e);
}

/* ---- representation ---- */

static void test_to_json_exact(void **state)
{
	static const char want[] = "{\"order_id\":\"" TOK_LOWER
	                           "\",\"status\":\"created\",\"items\":[{\"sku\":\"B\",\"qty\":2},"
	                           "{\"sku\":\"A\",\"qty\":1}],\"customer\":\"Ann\",\"created_at\":"
	                           "\"2026-11-27T05:44:47.123Z\"}";
	struct order o;
	char customer[] = "Ann";
	size_t len = 0;
	char *s;

	(void)state;
	memset(&o, 0, sizeof o);
	strcpy(o.items[0].sku, "B");
	o.items[0].qty = 2;
	strcpy(o.items[1].sku, "A");
	o.items[1].qty = 1;
	o.n_items = 2;
	o.customer = customer;
	s = to_json(&o, TOK_LOWER, "2026-11-27T05:44:47.123Z", &len);
	assert_non_null(s);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(s, want, len);
	free(s);
}

static void test_to_json_without_customer(void **state)
{
	static const char want[] =
	    "{\"order_id\":\"" TOK_LOWER "\",\"status\":\"created\",\"items\":[{\"sku\":\"SKU-1\","
	    "\"qty\":1000}],\"created_at\":\"2026-01-02T03:04:05.000Z\"}";
	struct order o;
	size_t len = 0;
	char *s;

	(void)state;
	memset(&o, 0, sizeof o);
	strcpy(o.items[0].sku, "SKU-1");
	o.items[0].qty = 1000;
	o.n_items = 1;
	s = to_json(&o, TOK_LOWER, "2026-01-02T03:04:05.000Z", &len);
	assert_non_null(s);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(s, want, len);
	free(s);
}

/* The writer must give jansson's bytes for every customer: each control
 * byte, the quote, the backslash, DEL and multi-byte UTF-8. */
static void test_to_json_matches_jansson(void **state)
{
	static const char *const extra[] = {
	    "J\xc3\xbcrgen", "\xe2\x82\xac / \xf0\x9f\x98\x80", "a\"b\\c", "\x7f", "",
	    "\xe2\x80\xa8"};
	struct order o;
	char customer[8];

	(void)state;
	memset(&o, 0, sizeof o);
	strcpy(o.items[0].sku, "SKU-1");
	o.items[0].qty = 7;
	strcpy(o.items[1].sku, "a.b_c");
	o.items[1].qty = 1000;
	o.n_items = 2;
	for (int c = -(int)(sizeof extra / sizeof extra[0]); c < 0x80; c++) {
		char *want, *got;
		size_t len;

		if (c == 0)
			continue;
		if (c < 0) {
			o.customer = (char *)extra[-c - 1];
		} else {
			snprintf(customer, sizeof customer, "x%cy", c);
			o.customer = customer;
		}
		want = order_json_by_jansson(&o, TOK_LOWER, "2026-11-27T05:44:47.123Z");
		got = to_json(&o, TOK_LOWER, "2026-11-27T05:44:47.123Z", &len);
		if (strlen(want) != len || memcmp(want, got, len) != 0)
			fail_msg("customer byte %d: jansson %s, ours %s", c, want, got);
		free(want);
		free(got);
	}
}

static void test_to_json_from_parsed_body(void **state)
{
	struct order_input in;
	json_t *j;
	size_t len = 0;
	char *s;

	(void)state;
	json_valid("{\"items\":[{\"sku\":\"Z\",\"qty\":1},{\"sku\":\"Y\",\"qty\":2}],"
	           "\"customer\":\"J\\u00fcrgen \\\"Q\\\" \\\\ \\n\"}",
	           &in);
	s = to_json(&in.order, TOK_LOWER, "2026-11-27T05:44:47.123Z", &len);
	assert_non_null(s);
	assert_int_equal(strlen(s), len);
	j = json_loadb(s, len, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "customer")),
	                    "J\xc3\xbcrgen \"Q\" \\ \n");
	assert_string_equal(json_string_value(json_object_get(
	                        json_array_get(json_object_get(j, "items"), 0), "sku")),
	                    "Z");
	assert_int_equal(json_object_size(j), 5);
	json_decref(j);
	free(s);
	order_input_free(&in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sku_syntax),
	    cmocka_unit_test(test_json_full_order),
	    cmocka_unit_test(test_json_minimal_order),
	    cmocka_unit_test(test_json_unknown_members_ignored),
	    cmocka_unit_test(test_json_item_count),
	    cmocka_unit_test(test_json_items_shape),
	    cmocka_unit_test(test_json_sku_rules),
	    cmocka_unit_test(test_json_sku_invalid_in_later_line),
	    cmocka_unit_test(test_json_qty_rules),
	    cmocka_unit_test(test_json_duplicate_sku),
	    cmocka_unit_test(test_json_customer_length),
	    cmocka_unit_test(test_json_customer_values),
	    cmocka_unit_test(test_json_token_member),
	    cmocka_unit_test(test_json_token_empty_string),
	    cmocka_unit_test(test_json_token_with_invalid_order),
	    cmocka_unit_test(test_json_unparseable),
	    cmocka_unit_test(test_json_len_respected),
	    cmocka_unit_test(test_json_invalid_utf8),
	    cmocka_unit_test(test_json_depth),
	    cmocka_unit_test(test_json_depth_ignores_brackets_in_strings),
	    cmocka_unit_test(test_json_depth_non_object),
	    cmocka_unit_test(test_json_not_an_object),
	    cmocka_unit_test(test_json_scalar_is_invalid_order),
	    cmocka_unit_test(test_json_nul_escape_is_invalid_order),
	    cmocka_unit_test(test_form_full_order),
	    cmocka_unit_test(test_form_pairs_by_position),
	    cmocka_unit_test(test_form_count_mismatch),
	    cmocka_unit_test(test_form_qty_rules),
	    cmocka_unit_test(test_form_sku_rules),
	    cmocka_unit_test(test_form_item_count),
	    cmocka_unit_test(test_form_customer),
	    cmocka_unit_test(test_form_bad_escape),
	    cmocka_unit_test(test_form_token_field),
	    cmocka_unit_test(test_canonical_json_and_form_agree),
	    cmocka_unit_test(test_canonical_reordered_agree),
	    cmocka_unit_test(test_canonical_token_not_part),
	    cmocka_unit_test(test_canonical_differs),
	    cmocka_unit_test(test_canonical_no_customer_injection),
	    cmocka_unit_test(test_to_json_exact),
	    cmocka_unit_test(test_to_json_without_customer),
	    cmocka_unit_test(test_to_json_from_parsed_body),
	    cmocka_unit_test(test_to_json_matches_jansson),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
