/* Unit tests for drain_entry: an entry of the orders stream as
 * antireplay-fcgi writes it (fields order_id and order, the JSON of
 * order_write_json) -> the rows of an order, and every reason an entry is
 * not one. Expected values come from drain_entry.h, order.h and what the API
 * writes, not from drain_entry.c. Run under ASan: a rejected entry must own
 * nothing, so a leak fails the program. */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "drain_entry.h"
#include "order.h"
#include "strbuf.h"
#include "token.h"
#include "util.h"

#define SID "1795758287123-0"
#define ID "0f8fad5b-d9cb-469f-a165-70867728950e"
#define ID_UPPER "0F8FAD5B-D9CB-469F-A165-70867728950E"
#define OTHER_ID "7c9e6679-7425-40de-944b-e07fc1f90ae7"
#define AT "2026-11-27T05:44:47.123Z"
#define AT_SQL "2026-11-27 05:44:47.123"
#define SKU64 "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-"
#define ITEMS2 "[{\"sku\":\"A-1\",\"qty\":2},{\"sku\":\"b.2\",\"qty\":1000}]"
#define MAX_FIELDS 8

/* ---- building entries ---- */

/* The members of an order JSON as raw JSON text, in the order the API
 * writes them; NULL leaves a member out. */
struct parts {
	const char *order_id, *status, *items, *customer, *created_at;
};

static const struct parts good = {"\"" ID "\"", "\"created\"", ITEMS2, "\"Ann\"", "\"" AT "\""};

static void put_body(struct strbuf *sb, const struct parts *p)
{
	const char *name[] = {"order_id", "status", "items", "customer", "created_at"};
	const char *value[] = {p->order_id, p->status, p->items, p->customer, p->created_at};
	int first = 1;

	strbuf_reset(sb);
	strbuf_putc(sb, '{');
	for (size_t i = 0; i < sizeof name / sizeof name[0]; i++) {
		if (!value[i])
			continue;
		strbuf_puts(sb, first ? "\"" : ",\"");
		strbuf_puts(sb, name[i]);
		strbuf_puts(sb, "\":");
		strbuf_puts(sb, value[i]);
		first = 0;
	}
	strbuf_putc(sb, '}');
}

/* A copy of exactly len bytes, no NUL after it: ASan sees a read past len. */
static char *exact_copy(const char *s, size_t len)
{
	char *p = malloc(len ? len : 1);

	assert_non_null(p);
	memcpy(p, s, len);
	return p;
}

/* The field/value pairs of one entry; every string an exact-size copy. */
struct entry {
	struct drain_field f[MAX_FIELDS];
	char *owned[2 * MAX_FIELDS];
	size_t n;
};

static void add_field_len(struct entry *e, const char *name, const char *value, size_t len)
{
	char *n = exact_copy(name, strlen(name)), *v = exact_copy(value, len);

	assert_true(e->n < MAX_FIELDS);
	e->owned[2 * e->n] = n;
	e->owned[2 * e->n + 1] = v;
	e->f[e->n++] = (struct drain_field){n, strlen(name), v, len};
}

static void add_field(struct entry *e, const char *name, const char *value)
{
	add_field_len(e, name, value, strlen(value));
}

static void entry_clear(struct entry *e)
{
	for (size_t i = 0; i < 2 * e->n; i++)
		free(e->owned[i]);
	e->n = 0;
}

/* What antireplay-fcgi writes: order_id, then order. */
static void usual_entry(struct entry *e, const char *id, const char *body, size_t len)
{
	e->n = 0;
	add_field(e, "order_id", id);
	add_field_len(e, "order", body, len);
}

/* Parses e as stream entry sid into *out. out and why are filled with
 * junk first (why unterminated): the parser must set what it returns. */
static int run(const char *sid, size_t sid_len, const struct entry *e, struct drain_order *out,
               char why[DRAIN_WHY_MAX])
{
	char *s = exact_copy(sid, sid_len);
	int rc;

	memset(out, 0xa5, sizeof *out);
	memset(why, 'x', DRAIN_WHY_MAX);
	rc = drain_entry_parse(s, sid_len, e->f, e->n, out, why);
	free(s);
	return rc;
}

static void expect_ok(const char *what, const char *sid, const struct entry *e,
                      struct drain_order *out)
{
	char why[DRAIN_WHY_MAX];

	if (run(sid, strlen(sid), e, out, why) != 0)
		fail_msg("%s: refused: %.*s", what, DRAIN_WHY_MAX, why);
}

/* The entry must be refused with a reason (naming topic, unless NULL) and
 * out must own nothing: it is not freed here, so a leak fails under ASan. */
static void expect_rejected_len(const char *what, const char *sid, size_t sid_len,
                                const struct entry *e, const char *topic)
{
	struct drain_order out;
	char why[DRAIN_WHY_MAX];
	int rc = run(sid, sid_len, e, &out, why);

	if (rc == 0) {
		drain_order_free(&out);
		fail_msg("%s: accepted", what);
	}
	assert_int_equal(rc, -1);
	if (!memchr(why, '\0', DRAIN_WHY_MAX) || why[0] == '\0')
		fail_msg("%s: no reason given", what);
	if (topic && !strstr(why, topic))
		fail_msg("%s: reason \"%s\" does not name %s", what, why, topic);
	assert_null(out.customer);
	assert_null(out.body);
}

static void expect_rejected(const char *what, const struct entry *e, const char *topic)
{
	expect_rejected_len(what, SID, strlen(SID), e, topic);
}

static void expect_body_ok(const char *body, struct drain_order *out)
{
	struct entry e = {0};

	usual_entry(&e, ID, body, strlen(body));
	expect_ok(body, SID, &e, out);
	entry_clear(&e);
}

static void expect_body_rejected_len(const char *what, const char *body, size_t len,
                                     const char *topic)
{
	struct entry e = {0};

	usual_entry(&e, ID, body, len);
	expect_rejected(what, &e, topic);
	entry_clear(&e);
}

static void expect_body_rejected(const char *body, const char *topic)
{
	expect_body_rejected_len(body, body, strlen(body), topic);
}

/* The good order with one member replaced; accepted. */
static void expect_parts_ok(const struct parts *p, struct drain_order *out)
{
	struct strbuf sb = STRBUF_INIT;

	put_body(&sb, p);
	expect_body_ok(sb.data, out);
	strbuf_free(&sb);
}

static void expect_parts_rejected(const struct parts *p, const char *topic)
{
	struct strbuf sb = STRBUF_INIT;

	put_body(&sb, p);
	expect_body_rejected(sb.data, topic);
	strbuf_free(&sb);
}

static void assert_line(const struct drain_order *o, size_t i, const char *sku, int qty)
{
	assert_true(i < o->n_lines);
	assert_string_equal(o->lines[i].sku, sku);
	assert_int_equal(o->lines[i].qty, qty);
}

/* ---- accepted entries ---- */

static void test_valid_entry(void **state)
{
	struct strbuf body = STRBUF_INIT;
	struct entry e = {0};
	struct drain_order o;

	(void)state;
	put_body(&body, &good);
	usual_entry(&e, ID_UPPER, body.data, body.len);
	expect_ok("good order", SID, &e, &o);
	assert_string_equal(o.stream_id, SID);
	assert_string_equal(o.order_id, ID); /* lowercase */
	assert_non_null(o.customer);
	assert_int_equal(o.customer_len, 3);
	assert_memory_equal(o.customer, "Ann", 4);
	assert_string_equal(o.created_at, AT_SQL);
	assert_int_equal(strlen(o.created_at), DRAIN_DATETIME_LEN);
	assert_int_equal(o.body_len, body.len);
	assert_memory_equal(o.body, body.data, body.len);
	assert_int_equal(o.body[o.body_len], '\0');
	assert_int_equal(o.n_lines, 2);
	assert_line(&o, 0, "A-1", 2);
	assert_line(&o, 1, "b.2", 1000);
	drain_order_free(&o);
	assert_null(o.customer);
	assert_null(o.body);
	entry_clear(&e);
	strbuf_free(&body);
}

/* Field values are bytes with a length: what follows them is not read. */
static void test_lengths_not_nul(void **state)
{
	static const char sid[] = "1-2xyz";
	struct strbuf body = STRBUF_INIT;
	struct entry e = {0};
	struct drain_order o;
	char why[DRAIN_WHY_MAX];
	size_t json_len;

	(void)state;
	put_body(&body, &good);
	json_len = body.len;
	strbuf_puts(&body, "garbage");
	e.n = 0;
	add_field_len(&e, "order_id", ID "-tail", TOKEN_LEN);
	add_field_len(&e, "order", body.data, json_len);
	assert_int_equal(run(sid, 3, &e, &o, why), 0);
	assert_string_equal(o.stream_id, "1-2");
	assert_string_equal(o.order_id, ID);
	assert_int_equal(o.body_len, json_len);
	assert_memory_equal(o.body, body.data, json_len);
	drain_order_free(&o);
	entry_clear(&e);
	strbuf_free(&body);
}

/* The whole API path: request body -> order_parse_json -> order_write_json
 * with a generated id and created_at, as handler_orders.c does. */
static void check_api_round_trip(const char *request, const struct timespec *ts,
                                 const char *want_at)
{
	struct order_input in;
	struct strbuf json = STRBUF_INIT;
	struct entry e = {0};
	struct drain_order o;
	char id[TOKEN_LEN + 1], at[UTIL_RFC3339_LEN + 1];

	memset(&in, 0, sizeof in);
	assert_int_equal(order_parse_json(request, strlen(request), &in), ORDER_PARSED);
	if (!in.valid)
		fail_msg("request \"%s\" invalid: %s", request, in.why);
	token_generate(id);
	util_format_rfc3339_ms(ts, at);
	order_write_json(&in.order, id, at, &json);
	usual_entry(&e, id, json.data, json.len);
	expect_ok(request, "1835481599999-18446744073709551615", &e, &o);
	assert_string_equal(o.stream_id, "1835481599999-18446744073709551615");
	assert_string_equal(o.order_id, id);
	assert_string_equal(o.created_at, want_at);
	assert_int_equal(o.body_len, json.len);
	assert_memory_equal(o.body, json.data, json.len);
	assert_int_equal(o.n_lines, in.order.n_items);
	for (size_t i = 0; i < in.order.n_items; i++)
		assert_line(&o, i, in.order.items[i].sku, in.order.items[i].qty);
	if (in.order.customer) {
		assert_non_null(o.customer);
		assert_int_equal(o.customer_len, strlen(in.order.customer));
		assert_memory_equal(o.customer, in.order.customer, o.customer_len + 1);
	} else {
		assert_null(o.customer);
		assert_int_equal(o.customer_len, 0);
	}
	drain_order_free(&o);
	entry_clear(&e);
	strbuf_free(&json);
	order_input_free(&in);
}

static void test_order_write_json(void **state)
{
	struct timespec ts = {1795758287, 123999999}, leap = {1835481599, 999000000};
	struct strbuf req = STRBUF_INIT;
	char num[8];

	(void)state;
	check_api_round_trip("{\"items\":[{\"sku\":\"A\",\"qty\":1}]}", &ts, AT_SQL);
	check_api_round_trip("{\"token\":\"" ID_UPPER "\",\"items\":[{\"qty\":7,\"sku\":\"" SKU64
	                     "\"},{\"sku\":\"x_y\",\"qty\":1000}],\"customer\":\"J\\u00fcrgen "
	                     "\\\"Q\\\" \\\\ \\t\\u0001 \xe2\x82\xac\"}",
	                     &leap, "2028-02-29 23:59:59.999");
	check_api_round_trip("{\"items\":[{\"sku\":\"A\",\"qty\":1}],\"customer\":null}", &ts,
	                     AT_SQL);
	check_api_round_trip("{\"items\":[{\"sku\":\"A\",\"qty\":1}],\"customer\":\"\"}", &ts,
	                     AT_SQL);
	strbuf_puts(&req, "{\"items\":[");
	for (int i = 1; i <= ORDER_MAX_ITEMS; i++) {
		snprintf(num, sizeof num, "%d", i);
		strbuf_puts(&req, i > 1 ? ",{\"sku\":\"S" : "{\"sku\":\"S");
		strbuf_puts(&req, num);
		strbuf_puts(&req, "\",\"qty\":");
		strbuf_puts(&req, num);
		strbuf_putc(&req, '}');
	}
	strbuf_puts(&req, "],\"customer\":\"");
	for (int i = 0; i < ORDER_CUSTOMER_MAX / 2; i++)
		strbuf_puts(&req, "\xc3\xa9");
	strbuf_puts(&req, "\"}");
	check_api_round_trip(req.data, &ts, AT_SQL);
	strbuf_free(&req);
}

static void test_no_customer(void **state)
{
	struct parts p = good;
	struct drain_order o;

	(void)state;
	p.customer = NULL;
	expect_parts_ok(&p, &o);
	assert_null(o.customer);
	assert_int_equal(o.customer_len, 0);
	assert_int_equal(o.n_lines, 2);
	drain_order_free(&o);
	p.customer = "null";
	expect_parts_ok(&p, &o);
	assert_null(o.customer);
	assert_int_equal(o.customer_len, 0);
	drain_order_free(&o);
}

static void test_customer_values(void **state)
{
	struct strbuf c = STRBUF_INIT;
	struct parts p = good;
	struct drain_order o;

	(void)state;
	p.customer = "\"\"";
	expect_parts_ok(&p, &o);
	assert_non_null(o.customer);
	assert_int_equal(o.customer_len, 0);
	assert_string_equal(o.customer, "");
	drain_order_free(&o);
	/* Escapes count as the bytes they stand for. */
	p.customer = "\"J\\u00fcrgen \\\"Q\\\"\\n\"";
	expect_parts_ok(&p, &o);
	assert_int_equal(o.customer_len, 12);
	assert_memory_equal(o.customer, "J\xc3\xbcrgen \"Q\"\n", 13);
	drain_order_free(&o);
	/* 256 bytes: 128 x U+00E9 written as escapes. */
	strbuf_putc(&c, '"');
	for (int i = 0; i < ORDER_CUSTOMER_MAX / 2; i++)
		strbuf_puts(&c, "\\u00e9");
	strbuf_putc(&c, '"');
	p.customer = c.data;
	expect_parts_ok(&p, &o);
	assert_int_equal(o.customer_len, ORDER_CUSTOMER_MAX);
	assert_int_equal(strlen(o.customer), ORDER_CUSTOMER_MAX);
	drain_order_free(&o);
	strbuf_free(&c);
}

static void test_fifty_lines(void **state)
{
	struct strbuf items = STRBUF_INIT;
	struct parts p = good;
	struct drain_order o;
	char sku[16], item[64];

	(void)state;
	strbuf_putc(&items, '[');
	for (int i = 1; i <= ORDER_MAX_ITEMS; i++) {
		snprintf(item, sizeof item, "%s{\"sku\":\"L%02d\",\"qty\":%d}", i > 1 ? "," : "", i,
		         i * 20);
		strbuf_puts(&items, item);
	}
	strbuf_putc(&items, ']');
	p.items = items.data;
	expect_parts_ok(&p, &o);
	assert_int_equal(o.n_lines, ORDER_MAX_ITEMS);
	for (int i = 1; i <= ORDER_MAX_ITEMS; i++) {
		snprintf(sku, sizeof sku, "L%02d", i);
		assert_line(&o, (size_t)i - 1, sku, i * 20);
	}
	drain_order_free(&o);
	strbuf_free(&items);
}

static void test_line_bounds(void **state)
{
	struct parts p = good;
	struct drain_order o;

	(void)state;
	p.items = "[{\"sku\":\"" SKU64 "\",\"qty\":1},{\"qty\":1000,\"sku\":\"_\"}]";
	expect_parts_ok(&p, &o);
	assert_int_equal(o.n_lines, 2);
	assert_line(&o, 0, SKU64, 1);
	assert_line(&o, 1, "_", 1000);
	drain_order_free(&o);
}

static void test_extra_fields_ignored(void **state)
{
	struct strbuf body = STRBUF_INIT;
	struct entry e = {0};
	struct drain_order o;

	(void)state;
	put_body(&body, &good);
	add_field(&e, "source", "api");
	add_field(&e, "order_", "x");
	add_field(&e, "order", body.data);
	add_field(&e, "ORDER_ID", "not checked");
	add_field(&e, "order_idx", "");
	add_field(&e, "", "");
	add_field(&e, "order_id", ID);
	add_field(&e, "orde", "{");
	expect_ok("extra fields", SID, &e, &o);
	assert_string_equal(o.order_id, ID);
	assert_int_equal(o.body_len, body.len);
	assert_memory_equal(o.body, body.data, body.len);
	drain_order_free(&o);
	entry_clear(&e);
	strbuf_free(&body);
}

static void test_stream_ids(void **state)
{
	static const char *const ok[] = {"0-0", "1-1", "1795758287123-42",
	                                 "18446744073709551615-18446744073709551615"};
	struct strbuf body = STRBUF_INIT;
	struct entry e = {0};
	struct drain_order o;

	(void)state;
	put_body(&body, &good);
	usual_entry(&e, ID, body.data, body.len);
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		expect_ok(ok[i], ok[i], &e, &o);
		assert_string_equal(o.stream_id, ok[i]);
		drain_order_free(&o);
	}
	entry_clear(&e);
	strbuf_free(&body);
}

static void test_bad_stream_id(void **state)
{
	static const char *const bad[] = {
	    "",
	    "-",
	    "1",
	    "1-",
	    "-1",
	    "a-1",
	    "1-b",
	    "1--1",
	    "1-1-1",
	    " 1-0",
	    "1-0 ",
	    "+1-0",
	    "0x1-0",
	    "1.5-0",
	    "184467440737095516150-0", /* 21 digits */
	    "0-184467440737095516150",
	    "18446744073709551615-184467440737095516150", /* 42 bytes */
	};
	struct strbuf body = STRBUF_INIT;
	struct entry e = {0};

	(void)state;
	put_body(&body, &good);
	usual_entry(&e, ID, body.data, body.len);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		expect_rejected_len(bad[i], bad[i], strlen(bad[i]), &e, "stream");
	expect_rejected_len("NUL inside",
	                    "1-0\0"
	                    "1",
	                    5, &e, "stream");
	entry_clear(&e);
	strbuf_free(&body);
}

/* ---- rejected entries: the fields ---- */

static void test_missing_field(void **state)
{
	struct strbuf body = STRBUF_INIT;
	struct entry e = {0};

	(void)state;
	put_body(&body, &good);
	expect_rejected("no fields", &e, NULL);
	add_field(&e, "order", body.data);
	expect_rejected("no order_id", &e, "order_id");
	add_field(&e, "Order_id", ID);
	expect_rejected("Order_id is another field", &e, "order_id");
	entry_clear(&e);
	add_field(&e, "order_id", ID);
	expect_rejected("no order", &e, "order");
	add_field(&e, "orders", body.data);
	expect_rejected("orders is another field", &e, "order");
	entry_clear(&e);
	strbuf_free(&body);
}

static void test_field_twice(void **state)
{
	struct strbuf body = STRBUF_INIT;
	struct entry e = {0};

	(void)state;
	put_body(&body, &good);
	usual_entry(&e, ID, body.data, body.len);
	add_field(&e, "order_id", ID);
	expect_rejected("order_id twice, same value", &e, NULL);
	entry_clear(&e);
	usual_entry(&e, ID, body.data, body.len);
	add_field(&e, "order", body.data);
	expect_rejected("order twice, same value", &e, NULL);
	entry_clear(&e);
	add_field(&e, "order", body.data);
	add_field(&e, "x", "y");
	add_field(&e, "order_id", OTHER_ID);
	add_field(&e, "order_id", ID);
	expect_rejected("order_id twice, the second right", &e, NULL);
	entry_clear(&e);
	strbuf_free(&body);
}

static void test_order_id_not_uuid(void **state)
{
	static const char *const bad[] = {
	    "",
	    "0f8fad5b-d9cb-469f-a165-70867728950",   /* 35 */
	    "0f8fad5b-d9cb-469f-a165-70867728950e0", /* 37 */
	    "0f8fad5bd9cb469fa16570867728950e",
	    "{0f8fad5b-d9cb-469f-a165-70867728950e}",
	    "0f8fad5b-d9cb-469f-a165-70867728950g",
	    "0f8fad5b_d9cb-469f-a165-70867728950e",
	    "0f8fad5b-d9cb-469f-a16570867728950e-",
	    " 0f8fad5b-d9cb-469f-a165-70867728950",
	    "00000000-0000-0000-0000-000000000000", /* the probe's */
	};
	struct strbuf body = STRBUF_INIT, member = STRBUF_INIT;
	struct parts p = good;
	struct entry e = {0};

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		/* The JSON says the same, so the field's syntax is what is wrong. */
		strbuf_reset(&member);
		strbuf_putc(&member, '"');
		strbuf_puts(&member, bad[i]);
		strbuf_putc(&member, '"');
		p.order_id = member.data;
		put_body(&body, &p);
		usual_entry(&e, bad[i], body.data, body.len);
		expect_rejected(bad[i], &e, "order_id");
		entry_clear(&e);
	}
	put_body(&body, &good);
	add_field_len(&e, "order_id", ID "\0", TOKEN_LEN + 1);
	add_field(&e, "order", body.data);
	expect_rejected("order_id with a NUL after it", &e, "order_id");
	entry_clear(&e);
	strbuf_free(&member);
	strbuf_free(&body);
}

/* ---- rejected entries: the JSON ---- */

static void test_not_json(void **state)
{
	static const char *const bad[] = {
	    "",
	    " ",
	    "{",
	    "{\"order_id\":",
	    "{\"order_id\":\"" ID "\",\"status\":\"created\",\"items\":" ITEMS2
	    ",\"created_at\":\"" AT "\"",
	    "{\"order_id\":\"" ID "\",\"status\":\"created\",\"items\":" ITEMS2
	    ",\"created_at\":\"" AT "\"} x",
	    "{\"order_id\":\"" ID "\",\"status\":\"created\",\"items\":" ITEMS2
	    ",\"created_at\":\"" AT "\"}{}",
	    "{'order_id':'" ID "'}",
	    "{\"order_id\":\"" ID "\",\"status\":\"created\",\"items\":" ITEMS2
	    ",\"created_at\":\"" AT "\",}",
	    "{\"order_id\":\"" ID "\",\"status\":\"created\",\"items\":" ITEMS2
	    ",\"customer\":\"\xff\",\"created_at\":\"" AT "\"}",
	    "{\"order_id\":\"" ID "\",\"status\":\"created\",\"items\":" ITEMS2
	    ",\"customer\":\"a\\u0000b\",\"created_at\":\"" AT "\"}",
	};
	struct strbuf body = STRBUF_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		expect_body_rejected(bad[i], "JSON");
	put_body(&body, &good);
	strbuf_putc(&body, '\0');
	expect_body_rejected_len("a NUL after the object", body.data, body.len, "JSON");
	strbuf_free(&body);
}

static void test_not_an_object(void **state)
{
	static const char *const bad[] = {
	    "[]", "[{\"order_id\":\"" ID "\"}]", "\"" ID "\"", "42", "null", "true",
	};

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		expect_body_rejected(bad[i], "JSON");
}

static void test_json_order_id_differs(void **state)
{
	static const char *const bad[] = {
	    "\"" OTHER_ID "\"",
	    "\"0f8fad5b-d9cb-469f-a165-70867728950f\"",
	    "\"0f8fad5b-d9cb-469f-a165-70867728950\"",
	    "\"" ID " \"",
	    "\"\"",
	    "null",
	    "42",
	    "[\"" ID "\"]",
	    "{\"id\":\"" ID "\"}",
	};
	struct parts p = good;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		p.order_id = bad[i];
		expect_parts_rejected(&p, "order_id");
	}
	p.order_id = NULL;
	expect_parts_rejected(&p, "order_id");
}

static void test_status_not_created(void **state)
{
	static const char *const bad[] = {
	    "\"Created\"", "\"created \"", "\"cancelled\"", "\"\"", "null", "1", "[\"created\"]",
	};
	struct parts p = good;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		p.status = bad[i];
		expect_parts_rejected(&p, "status");
	}
	p.status = NULL;
	expect_parts_rejected(&p, "status");
}

static void test_items_shape(void **state)
{
	static const char *const bad[] = {
	    "[]", "null", "{}", "{\"sku\":\"A\",\"qty\":1}", "\"A\"", "1",
	};
	static const char *const bad_line[] = {
	    "[1]", "[null]", "[\"A\"]", "[[\"A\",1]]", "[{}]", "[{\"sku\":\"A\",\"qty\":1},[]]",
	};
	struct strbuf items = STRBUF_INIT;
	struct parts p = good;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		p.items = bad[i];
		expect_parts_rejected(&p, "items");
	}
	for (size_t i = 0; i < sizeof bad_line / sizeof bad_line[0]; i++) {
		p.items = bad_line[i];
		expect_parts_rejected(&p, NULL);
	}
	p.items = NULL;
	expect_parts_rejected(&p, "items");
	/* 51 lines */
	strbuf_putc(&items, '[');
	for (int i = 0; i <= ORDER_MAX_ITEMS; i++) {
		char item[64];
		snprintf(item, sizeof item, "%s{\"sku\":\"L%d\",\"qty\":1}", i ? "," : "", i);
		strbuf_puts(&items, item);
	}
	strbuf_putc(&items, ']');
	p.items = items.data;
	expect_parts_rejected(&p, "items");
	strbuf_free(&items);
}

static void test_bad_sku(void **state)
{
	static const char *const bad[] = {
	    "[{\"sku\":\"\",\"qty\":1}]",
	    "[{\"sku\":\"" SKU64 "_\",\"qty\":1}]",
	    "[{\"sku\":\"a b\",\"qty\":1}]",
	    "[{\"sku\":\"a/b\",\"qty\":1}]",
	    "[{\"sku\":\"\xc3\xa9\",\"qty\":1}]",
	    "[{\"sku\":\"a\\n\",\"qty\":1}]",
	    "[{\"sku\":1,\"qty\":1}]",
	    "[{\"sku\":null,\"qty\":1}]",
	    "[{\"sku\":[\"A\"],\"qty\":1}]",
	    "[{\"qty\":1}]",
	    "[{\"sku\":\"A\",\"qty\":1},{\"sku\":\"B C\",\"qty\":1}]",
	};
	struct parts p = good;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		p.items = bad[i];
		expect_parts_rejected(&p, "sku");
	}
}

static void test_bad_qty(void **state)
{
	static const char *const bad[] = {
	    "0",   "1001", "-1",   "-0",  "\"2\"",      "2.5",        "2.0",
	    "1e2", "true", "null", "[1]", "4294967297", "2147483649", "9223372036854775807",
	};
	struct strbuf items = STRBUF_INIT;
	struct parts p = good;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		strbuf_reset(&items);
		strbuf_puts(&items, "[{\"sku\":\"A\",\"qty\":1},{\"sku\":\"B\",\"qty\":");
		strbuf_puts(&items, bad[i]);
		strbuf_puts(&items, "}]");
		p.items = items.data;
		expect_parts_rejected(&p, "qty");
	}
	p.items = "[{\"sku\":\"A\"}]";
	expect_parts_rejected(&p, "qty");
	/* A number jansson cannot hold is a JSON error, not a qty one. */
	p.items = "[{\"sku\":\"A\",\"qty\":99999999999999999999}]";
	expect_parts_rejected(&p, NULL);
	strbuf_free(&items);
}

static void test_bad_customer(void **state)
{
	static const char *const bad[] = {"5", "true", "false", "{}", "[\"x\"]", "[]"};
	struct strbuf c = STRBUF_INIT;
	struct parts p = good;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		p.customer = bad[i];
		expect_parts_rejected(&p, "customer");
	}
	/* 257 bytes, plain */
	strbuf_putc(&c, '"');
	for (int i = 0; i <= ORDER_CUSTOMER_MAX; i++)
		strbuf_putc(&c, 'c');
	strbuf_putc(&c, '"');
	p.customer = c.data;
	expect_parts_rejected(&p, "customer");
	/* 257 bytes: 128 x U+00E9 and one more, although 129 characters */
	strbuf_reset(&c);
	strbuf_putc(&c, '"');
	for (int i = 0; i < ORDER_CUSTOMER_MAX / 2; i++)
		strbuf_puts(&c, "\xc3\xa9");
	strbuf_puts(&c, "c\"");
	p.customer = c.data;
	expect_parts_rejected(&p, "customer");
	/* 257 bytes written as 256 escapes and a letter */
	strbuf_reset(&c);
	strbuf_putc(&c, '"');
	for (int i = 0; i < ORDER_CUSTOMER_MAX; i++)
		strbuf_puts(&c, "\\\"");
	strbuf_puts(&c, "c\"");
	p.customer = c.data;
	expect_parts_rejected(&p, "customer");
	strbuf_free(&c);
}

static void test_created_at_ok(void **state)
{
	static const struct {
		const char *json, *sql;
	} ok[] = {
	    {"\"2026-01-01T00:00:00.000Z\"", "2026-01-01 00:00:00.000"},
	    {"\"2026-12-31T23:59:59.999Z\"", "2026-12-31 23:59:59.999"},
	    {"\"2024-02-29T12:00:00.500Z\"", "2024-02-29 12:00:00.500"},
	    {"\"2000-02-29T00:00:00.001Z\"", "2000-02-29 00:00:00.001"},
	    {"\"2026-04-30T01:02:03.004Z\"", "2026-04-30 01:02:03.004"},
	    {"\"2026-02-28T23:59:59.999Z\"", "2026-02-28 23:59:59.999"},
	    {"\"2026\\u002d11-27T05:44:47.123Z\"", AT_SQL}, /* an escape is the byte */
	};
	struct parts p = good;
	struct drain_order o;

	(void)state;
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		p.created_at = ok[i].json;
		expect_parts_ok(&p, &o);
		assert_string_equal(o.created_at, ok[i].sql);
		drain_order_free(&o);
	}
}

static void test_created_at_malformed(void **state)
{
	static const char *const bad[] = {
	    "\"\"",
	    "\"2026-11-27T05:44:47Z\"",
	    "\"2026-11-27T05:44:47.123\"",
	    "\"2026-11-27T05:44:47.1234Z\"",
	    "\"2026-11-27T05:44:47.12Z\"",
	    "\"2026-11-27 05:44:47.123Z\"",
	    "\"2026-11-27 05:44:47.123\"",
	    "\"2026-11-27t05:44:47.123Z\"",
	    "\"2026-11-27T05:44:47.123z\"",
	    "\"2026-11-27T05:44:47.123+00:00\"",
	    "\"2026-11-27T05:44:47,123Z\"",
	    "\"2026/11/27T05:44:47.123Z\"",
	    "\"2026-1-27T05:44:47.123Z\"",
	    "\"2026-11-2xT05:44:47.123Z\"",
	    "\"+026-11-27T05:44:47.123Z\"",
	    "\" 2026-11-27T05:44:47.123Z\"",
	    "\"2026-11-27T05:44:47.123Z \"",
	    "\"\xd9\xa2"
	    "026-11-27T05:44:47.123Z\"",
	    "1795758287123",
	    "null",
	    "[\"" AT "\"]",
	};
	struct parts p = good;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		p.created_at = bad[i];
		expect_parts_rejected(&p, "created_at");
	}
	p.created_at = NULL;
	expect_parts_rejected(&p, "created_at");
}

static void test_created_at_impossible(void **state)
{
	static const char *const bad[] = {
	    "\"2026-02-30T00:00:00.000Z\"", "\"2025-02-29T00:00:00.000Z\"",
	    "\"2100-02-29T00:00:00.000Z\"", "\"2026-04-31T00:00:00.000Z\"",
	    "\"2026-06-31T00:00:00.000Z\"", "\"2026-09-31T00:00:00.000Z\"",
	    "\"2026-11-31T00:00:00.000Z\"", "\"2026-01-32T00:00:00.000Z\"",
	    "\"2026-01-00T00:00:00.000Z\"", "\"2026-00-10T00:00:00.000Z\"",
	    "\"2026-13-10T00:00:00.000Z\"", "\"2026-11-27T24:00:00.000Z\"",
	    "\"2026-11-27T05:60:00.000Z\"", "\"2026-11-27T05:44:60.000Z\"",
	    "\"2026-11-27T99:99:99.999Z\"",
	};
	struct parts p = good;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		p.created_at = bad[i];
		expect_parts_rejected(&p, "created_at");
	}
}

/* The good order padded with blanks inside the object to len bytes. */
static void padded_body(struct strbuf *sb, size_t len)
{
	put_body(sb, &good);
	assert_true(sb->len < len);
	sb->len--; /* drop '}' */
	while (sb->len < len - 1)
		strbuf_putc(sb, ' ');
	strbuf_putc(sb, '}');
	assert_int_equal(sb->len, len);
}

static void test_body_size(void **state)
{
	struct strbuf body = STRBUF_INIT;
	struct entry e = {0};
	struct drain_order o;

	(void)state;
	padded_body(&body, DRAIN_BODY_MAX);
	usual_entry(&e, ID, body.data, body.len);
	expect_ok("DRAIN_BODY_MAX bytes", SID, &e, &o);
	assert_int_equal(o.body_len, DRAIN_BODY_MAX);
	assert_memory_equal(o.body, body.data, DRAIN_BODY_MAX);
	drain_order_free(&o);
	entry_clear(&e);
	padded_body(&body, DRAIN_BODY_MAX + 1);
	expect_body_rejected_len("DRAIN_BODY_MAX + 1 bytes", body.data, body.len, NULL);
	padded_body(&body, 4 * DRAIN_BODY_MAX);
	expect_body_rejected_len("4 x DRAIN_BODY_MAX bytes", body.data, body.len, NULL);
	strbuf_free(&body);
}

static void test_duplicate_json_keys(void **state)
{
	static const char *const bad[] = {
	    "{\"order_id\":\"" ID "\",\"order_id\":\"" ID "\",\"status\":\"created\","
	    "\"items\":" ITEMS2 ",\"created_at\":\"" AT "\"}",
	    "{\"order_id\":\"" ID "\",\"status\":\"created\",\"status\":\"created\","
	    "\"items\":" ITEMS2 ",\"created_at\":\"" AT "\"}",
	    "{\"order_id\":\"" ID "\",\"status\":\"created\",\"items\":" ITEMS2 ",\"items\":" ITEMS2
	    ",\"created_at\":\"" AT "\"}",
	    "{\"order_id\":\"" ID "\",\"status\":\"created\",\"items\":" ITEMS2
	    ",\"customer\":\"a\",\"customer\":\"a\",\"created_at\":\"" AT "\"}",
	    "{\"order_id\":\"" ID "\",\"status\":\"created\",\"items\":" ITEMS2
	    ",\"created_at\":\"" AT "\",\"created_at\":\"" AT "\"}",
	    "{\"order_id\":\"" ID "\",\"status\":\"created\","
	    "\"items\":[{\"sku\":\"A\",\"sku\":\"A\",\"qty\":1}],\"created_at\":\"" AT "\"}",
	    "{\"order_id\":\"" ID "\",\"status\":\"created\",\"items\":[{\"sku\":\"A\",\"qty\":1,"
	    "\"qty\":1}],\"created_at\":\"" AT "\"}",
	    "{\"order_id\":\"" OTHER_ID "\",\"status\":\"created\",\"items\":" ITEMS2
	    ",\"created_at\":\"" AT "\",\"order_id\":\"" ID "\"}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		expect_body_rejected(bad[i], NULL);
}

/* ---- drain_order_free ---- */

static void test_free_twice(void **state)
{
	struct strbuf body = STRBUF_INIT;
	struct entry e = {0};
	struct drain_order o;
	char why[DRAIN_WHY_MAX];

	(void)state;
	put_body(&body, &good);
	usual_entry(&e, ID, body.data, body.len);
	expect_ok("good order", SID, &e, &o);
	drain_order_free(&o);
	drain_order_free(&o);
	assert_null(o.customer);
	assert_null(o.body);
	entry_clear(&e);
	/* after a failure too */
	usual_entry(&e, OTHER_ID, body.data, body.len);
	assert_int_equal(run(SID, strlen(SID), &e, &o, why), -1);
	drain_order_free(&o);
	drain_order_free(&o);
	entry_clear(&e);
	memset(&o, 0, sizeof o);
	drain_order_free(&o);
	strbuf_free(&body);
}

/* ---- edges of the contract (each was once broken) ---- */

/* "order_id equal to the field": the same UUID, whatever the case of
 * either; kept lowercase. */
static void test_order_id_any_case(void **state)
{
	struct parts p = good;
	struct strbuf body = STRBUF_INIT;
	struct entry e = {0};
	struct drain_order o;

	(void)state;
	p.order_id = "\"" ID_UPPER "\"";
	put_body(&body, &p);
	usual_entry(&e, ID_UPPER, body.data, body.len);
	expect_ok("field and JSON upper case", SID, &e, &o);
	assert_string_equal(o.order_id, ID);
	drain_order_free(&o);
	entry_clear(&e);
	usual_entry(&e, ID, body.data, body.len);
	expect_ok("field lower, JSON upper case", SID, &e, &o);
	assert_string_equal(o.order_id, ID);
	drain_order_free(&o);
	entry_clear(&e);
	strbuf_free(&body);
}

/* "items ... by the API's rules": the API refuses a SKU given twice
 * (test_order.c, test_json_duplicate_sku). */
static void test_duplicate_sku(void **state)
{
	struct parts p = good;

	(void)state;
	p.items = "[{\"sku\":\"A\",\"qty\":1},{\"sku\":\"A\",\"qty\":2}]";
	expect_parts_rejected(&p, "sku");
	p.items = "[{\"sku\":\"A\",\"qty\":1},{\"sku\":\"B\",\"qty\":1},{\"sku\":\"A\",\"qty\":1}]";
	expect_parts_rejected(&p, "sku");
}

/* "<ms>-<seq>: two 64-bit decimals": 20 digits above 2^64 - 1 do not. */
static void test_stream_id_above_64_bits(void **state)
{
	struct strbuf body = STRBUF_INIT;
	struct entry e = {0};

	(void)state;
	put_body(&body, &good);
	usual_entry(&e, ID, body.data, body.len);
	expect_rejected_len("ms 2^64", "18446744073709551616-0", 22, &e, "stream");
	expect_rejected_len("seq 10^20 - 1", "0-99999999999999999999", 22, &e, "stream");
	entry_clear(&e);
	strbuf_free(&body);
}

/* A NUL byte is no JSON whitespace: a body holding one is no JSON object.
 * jansson's json_loadb lets one pass right after a number or a literal
 * (akheron/jansson#331, n_multidigit_number_then_00); a copy made with
 * xstrndup would stop there, shorter than body_len, and whoever reads
 * body_len bytes of it (orderdb's escaping) would read past it. */
static void test_nul_inside_body(void **state)
{
	static const char after_number[] = "{\"order_id\":\"" ID "\",\"status\":\"created\","
	                                   "\"items\":[{\"sku\":\"A\",\"qty\":26\0}],"
	                                   "\"created_at\":\"" AT "\"}";
	static const char after_null[] = "{\"order_id\":\"" ID "\",\"status\":\"created\","
	                                 "\"items\":" ITEMS2 ",\"customer\":null\0,"
	                                 "\"created_at\":\"" AT "\"}";

	(void)state;
	expect_body_rejected_len("NUL after a number", after_number, sizeof after_number - 1, NULL);
	expect_body_rejected_len("NUL after null", after_null, sizeof after_null - 1, NULL);
}

/* "nested at most DRAIN_JSON_DEPTH_MAX deep": MariaDB's JSON check refuses
 * 32 levels and would fail the batch for ever; brackets inside strings do
 * not count. The order object itself is level 1. */
static void test_nesting_depth(void **state)
{
	struct strbuf body = STRBUF_INIT;
	struct drain_order o;
	int extra = DRAIN_JSON_DEPTH_MAX - 1; /* arrays inside the object */

	(void)state;
	for (int round = 0; round < 2; round++, extra++) {
		strbuf_reset(&body);
		strbuf_puts(&body,
		            "{\"order_id\":\"" ID "\",\"status\":\"created\",\"items\":" ITEMS2
		            ",\"x\":\"[[[[[[[[[[{{{{{{{{{{\",\"deep\":");
		for (int i = 0; i < extra; i++)
			strbuf_putc(&body, '[');
		for (int i = 0; i < extra; i++)
			strbuf_putc(&body, ']');
		strbuf_puts(&body, ",\"created_at\":\"" AT "\"}");
		if (round == 0) {
			expect_body_ok(body.data, &o);
			drain_order_free(&o);
		} else {
			expect_body_rejected(body.data, "nested");
		}
	}
	strbuf_free(&body);
}

/* A copy owns its own strings: it outlives the original. */
static void test_copy(void **state)
{
	struct strbuf body = STRBUF_INIT;
	struct entry e = {0};
	struct drain_order o, copy;

	(void)state;
	put_body(&body, &good);
	usual_entry(&e, ID, body.data, body.len);
	expect_ok("good order", SID, &e, &o);
	drain_order_copy(&copy, &o);
	assert_ptr_not_equal(copy.body, o.body);
	assert_ptr_not_equal(copy.customer, o.customer);
	drain_order_free(&o);
	assert_string_equal(copy.order_id, ID);
	assert_string_equal(copy.stream_id, SID);
	assert_int_equal(copy.body_len, body.len);
	assert_memory_equal(copy.body, body.data, body.len + 1);
	assert_int_equal(copy.customer_len, 3);
	assert_memory_equal(copy.customer, "Ann", 4);
	assert_int_equal(copy.n_lines, 2);
	assert_line(&copy, 1, "b.2", 1000);
	drain_order_free(&copy);
	entry_clear(&e);
	strbuf_free(&body);
}

/* "NULL-safe" (STYLE.md: a matching NULL-safe _free). */
static void test_free_null(void **state)
{
	(void)state;
	drain_order_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_nesting_depth),
	    cmocka_unit_test(test_valid_entry),
	    cmocka_unit_test(test_lengths_not_nul),
	    cmocka_unit_test(test_order_write_json),
	    cmocka_unit_test(test_no_customer),
	    cmocka_unit_test(test_customer_values),
	    cmocka_unit_test(test_fifty_lines),
	    cmocka_unit_test(test_line_bounds),
	    cmocka_unit_test(test_extra_fields_ignored),
	    cmocka_unit_test(test_stream_ids),
	    cmocka_unit_test(test_bad_stream_id),
	    cmocka_unit_test(test_missing_field),
	    cmocka_unit_test(test_field_twice),
	    cmocka_unit_test(test_order_id_not_uuid),
	    cmocka_unit_test(test_not_json),
	    cmocka_unit_test(test_not_an_object),
	    cmocka_unit_test(test_json_order_id_differs),
	    cmocka_unit_test(test_status_not_created),
	    cmocka_unit_test(test_items_shape),
	    cmocka_unit_test(test_bad_sku),
	    cmocka_unit_test(test_bad_qty),
	    cmocka_unit_test(test_bad_customer),
	    cmocka_unit_test(test_created_at_ok),
	    cmocka_unit_test(test_created_at_malformed),
	    cmocka_unit_test(test_created_at_impossible),
	    cmocka_unit_test(test_body_size),
	    cmocka_unit_test(test_duplicate_json_keys),
	    cmocka_unit_test(test_free_twice),
	    cmocka_unit_test(test_order_id_any_case),
	    cmocka_unit_test(test_duplicate_sku),
	    cmocka_unit_test(test_stream_id_above_64_bits),
	    cmocka_unit_test(test_nul_inside_body),
	    cmocka_unit_test(test_free_null),
	    cmocka_unit_test(test_copy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
