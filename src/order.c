/* order: parse, validate, canonicalise and render an order. */
#include "order.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "form.h"
#include "util.h"

#define FORM_MAX_FIELDS 512

int order_sku_is_valid(const char *s, size_t len)
{
	if (len < 1 || len > ORDER_SKU_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

/* 1 if s[0..len) is well-formed UTF-8 (no overlongs, surrogates or NUL). */
static int utf8_is_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < len) {
		unsigned c = s[i];
		size_t n;
		unsigned cp;
		if (c == 0)
			return 0;
		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			n = 1, cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2, cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3, cp = c & 0x07;
		} else {
			return 0;
		}
		if (len - i <= n)
			return 0;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += n + 1;
	}
	return 1;
}

size_t order_json_depth(const char *s, size_t len)
{
	size_t depth = 0, deepest = 0;
	int in_string = 0;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = 0;
		} else if (c == '"') {
			in_string = 1;
		} else if (c == '[' || c == '{') {
			if (++depth > deepest)
				deepest = depth;
		} else if ((c == ']' || c == '}') && depth > 0) {
			depth--;
		}
	}
	return deepest;
}

static void set_invalid(struct order_input *in, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void set_invalid(struct order_input *in, const char *fmt, ...)
{
	va_list ap;
	if (!in->valid)
		return; /* the first broken rule wins */
	in->valid = 0;
	va_start(ap, fmt);
	vsnprintf(in->why, sizeof in->why, fmt, ap);
	va_end(ap);
}

static void input_init(struct order_input *in)
{
	memset(in, 0, sizeof *in);
	in->body_token = TOKEN_ABSENT;
	in->valid = 1;
}

/* Adds one line; checks the SKU syntax, qty range and repeats. */
static void add_item(struct order_input *in, const char *sku, size_t skulen, long long qty,
                     int qty_ok)
{
	struct order *o = &in->order;
	size_t idx = o->n_items;

	if (!in->valid)
		return;
	if (idx == ORDER_MAX_ITEMS) {
		set_invalid(in, "at most %d items", ORDER_MAX_ITEMS);
		return;
	}
	if (!order_sku_is_valid(sku, skulen)) {
		set_invalid(in, "items[%lu].sku must match ^[A-Za-z0-9._-]{1,64}$",
		            (unsigned long)idx);
		return;
	}
	if (!qty_ok || qty < 1 || qty > ORDER_QTY_MAX) {
		set_invalid(in, "items[%lu].qty must be an integer from 1 to %d",
		            (unsigned long)idx, ORDER_QTY_MAX);
		return;
	}
	for (size_t i = 0; i < idx; i++) {
		if (strlen(o->items[i].sku) == skulen &&
		    memcmp(o->items[i].sku, sku, skulen) == 0) {
			set_invalid(in, "sku '%.*s' appears twice", (int)skulen, sku);
			return;
		}
	}
	memcpy(o->items[idx].sku, sku, skulen);
	o->items[idx].sku[skulen] = '\0';
	o->items[idx].qty = (int)qty;
	o->n_items++;
}

static void set_customer(struct order_input *in, const char *s, size_t len)
{
	if (len > ORDER_CUSTOMER_MAX || !utf8_is_valid(s, len)) {
		set_invalid(in, "customer must be valid UTF-8 of at most %d bytes",
		            ORDER_CUSTOMER_MAX);
		return;
	}
	in->order.customer = xstrndup(s, len);
}

static void json_token(struct order_input *in, json_t *tok)
{
	if (!tok || json_is_null(tok))
		return;
	if (!json_is_string(tok)) {
		in->body_token = TOKEN_MALFORMED;
		return;
	}
	/* Only null counts as absent: "" is a malformed key. */
	in->body_token =
	    idem_key_from_text(json_string_value(tok), json_string_length(tok), 1, &in->body_key);
}

static void json_items(struct order_input *in, json_t *items)
{
	size_t n = json_is_array(items) ? json_array_size(items) : 0;

	if (n < 1 || n > ORDER_MAX_ITEMS) {
		set_invalid(in, "items must be an array of 1 to %d lines", ORDER_MAX_ITEMS);
		return;
	}
	for (size_t i = 0; i < n && in->valid; i++) {
		json_t *item = json_array_get(items, i);
		json_t *sku = json_object_get(item, "sku");
		json_t *qty = json_object_get(item, "qty");
		if (!json_is_object(item)) {
			set_invalid(in, "items[%lu] must be an object", (unsigned long)i);
		} else if (!json_is_string(sku)) {
			set_invalid(in, "items[%lu].sku must be a string", (unsigned long)i);
		} else {
			add_item(in, json_string_value(sku), json_string_length(sku),
			         json_is_integer(qty) ? json_integer_value(qty) : 0,
			         json_is_integer(qty));
		}
	}
}

enum order_parse_status order_parse_json(const char *body, size_t len, struct order_input *in)
{
	json_error_t jerr;
	json_t *root;

	input_init(in);
	if (order_json_depth(body, len) > ORDER_JSON_MAX_DEPTH) {
		snprintf(in->why, sizeof in->why, "JSON nested deeper than %d",
		         ORDER_JSON_MAX_DEPTH);
		return ORDER_BAD_SYNTAX;
	}
	/* Any JSON value parses (a scalar is valid JSON but not an order), and
	 * \u0000 is valid JSON too: the order rules reject it where it lands. */
	root =
	    json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	if (!root) {
		snprintf(in->why, sizeof in->why, "%.100s (line %d, column %d)", jerr.text,
		         jerr.line, jerr.column);
		return ORDER_BAD_SYNTAX;
	}
	if (!json_is_object(root)) {
		set_invalid(in, "body must be a JSON object");
		json_decref(root);
		return ORDER_PARSED;
	}
	json_token(in, json_object_get(root, "token"));
	json_items(in, json_object_get(root, "items"));
	json_t *customer = json_object_get(root, "customer");
	if (in->valid && customer && !json_is_null(customer)) {
		if (json_is_string(customer))
			set_customer(in, json_string_value(customer), json_string_length(customer));
		else
			set_invalid(in, "customer must be a string");
	}
	json_decref(root);
	return ORDER_PARSED;
}

static void form_token(struct order_input *in, const struct form *f)
{
	size_t n = form_count(f, "token");
	if (n == 0)
		return;
	if (n > 1) {
		in->body_token = TOKEN_MALFORMED;
		return;
	}
	const struct form_field *t = form_get(f, "token");
	in->body_token = idem_key_from_text(t->value, t->value_len, 1, &in->body_key);
}

enum order_parse_status order_parse_form(const char *body, size_t len, struct order_input *in)
{
	struct form f;
	size_t n_sku, n_qty, si = 0, qi = 0;

	input_init(in);
	if (form_parse(body, len, FORM_MAX_FIELDS, &f, in->why, sizeof in->why) < 0)
		return ORDER_BAD_SYNTAX;
	form_token(in, &f);

	n_sku = form_count(&f, "sku");
	n_qty = form_count(&f, "qty");
	if (n_sku == 0)
		set_invalid(in, "at least one sku and qty pair is required");
	else if (n_sku != n_qty)
		set_invalid(in, "every sku needs one qty (got %lu sku, %lu qty)",
		            (unsigned long)n_sku, (unsigned long)n_qty);
	else if (n_sku > ORDER_MAX_ITEMS)
		set_invalid(in, "at most %d items", ORDER_MAX_ITEMS);

	/* Pair the i-th sku with the i-th qty, in body order. */
	while (in->valid && si < f.n_fields) {
		if (strcmp(f.fields[si].name, "sku") != 0) {
			si++;
			continue;
		}
		while (strcmp(f.fields[qi].name, "qty") != 0)
			qi++;
		const struct form_field *s = &f.fields[si], *q = &f.fields[qi];
		long qty = 0;
		int qty_ok =
		    util_parse_long(q->value, q->value_len, 0, ORDER_QTY_MAX + 1, &qty) == 0;
		add_item(in, s->value, s->value_len, qty, qty_ok);
		si++;
		qi++;
	}

	if (in->valid && form_count(&f, "customer") > 1)
		set_invalid(in, "customer given twice");
	const struct form_field *c = form_get(&f, "customer");
	if (in->valid && c)
		set_customer(in, c->value, c->value_len);
	form_free(&f);
	return ORDER_PARSED;
}

void order_input_free(struct order_input *in)
{
	free(in->order.customer);
	in->order.customer = NULL;
}

static int item_cmp(const void *a, const void *b)
{
	return strcmp(((const struct order_item *)a)->sku, ((const struct order_item *)b)->sku);
}

void order_canonical(const struct order *o, struct strbuf *out)
{
	struct order_item sorted[ORDER_MAX_ITEMS];

	memcpy(sorted, o->items, o->n_items * sizeof sorted[0]);
	qsort(sorted, o->n_items, sizeof sorted[0], item_cmp);
	strbuf_puts(out, "v1\n");
	for (size_t i = 0; i < o->n_items; i++) {
		strbuf_puts(out, sorted[i].sku);
		strbuf_putc(out, ' ');
		strbuf_put_int(out, sorted[i].qty);
		strbuf_putc(out, '\n');
	}
	if (o->customer) {
		strbuf_puts(out, "c:");
		strbuf_puts(out, o->customer);
	} else {
		strbuf_puts(out, "c-");
	}
}

/* Written directly, not through a jansson tree: this runs for every
 * submission. SKUs, the id and the timestamp need no escaping (their
 * syntax is checked or ours); the customer is escaped as jansson would. */
void order_write_json(const struct order *o, const char *order_id, const char *created_at,
                      struct strbuf *out)
{
	static const char head[] = "{\"order_id\":\"";
	_Static_assert(sizeof head - 1 == ORDER_JSON_ID_AT, "the id's place in the JSON");

	strbuf_puts(out, head);
	strbuf_puts(out, order_id);
	strbuf_puts(out, "\",\"status\":\"created\",\"items\":[");
	for (size_t i = 0; i < o->n_items; i++) {
		strbuf_puts(out, i ? ",{\"sku\":\"" : "{\"sku\":\"");
		strbuf_puts(out, o->items[i].sku);
		strbuf_puts(out, "\",\"qty\":");
		strbuf_put_int(out, o->items[i].qty);
		strbuf_putc(out, '}');
	}
	strbuf_putc(out, ']');
	if (o->customer) {
		strbuf_puts(out, ",\"customer\":");
		strbuf_put_json_string(out, o->customer, strlen(o->customer));
	}
	strbuf_puts(out, ",\"created_at\":\"");
	strbuf_puts(out, created_at);
	strbuf_puts(out, "\"}");
}
