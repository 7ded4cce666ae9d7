/* Fuzz target: drain_entry_parse, the drain's reader of stream entries.
 * The input is split at '\n' into the stream id, then field name, value,
 * name, value... (at most 8 fields), so a seed like
 * "1-0\norder_id\n<uuid>\norder\n{...}" reaches the JSON checks. An entry
 * taken must hold rows the database accepts; one refused, a reason. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "drain_entry.h"
#include "order.h"
#include "token.h"

#define MAX_FIELDS 8

/* The only field called name, or NULL. */
static const struct drain_field *only_field(const struct drain_field *f, size_t n, const char *name)
{
	const struct drain_field *found = NULL;
	size_t len = strlen(name);

	for (size_t i = 0; i < n; i++) {
		if (f[i].name_len != len || memcmp(f[i].name, name, len) != 0)
			continue;
		if (found)
			abort(); /* taken with a field given twice */
		found = &f[i];
	}
	if (!found)
		abort(); /* taken without it */
	return found;
}

static void check_taken(const struct drain_order *o, const char *id, size_t id_len,
                        const struct drain_field *f, size_t n)
{
	static const char shape[] = "dddd-dd-dd dd:dd:dd.ddd";
	const struct drain_field *order_id = only_field(f, n, "order_id");
	const struct drain_field *body = only_field(f, n, "order");

	if (strlen(o->stream_id) != id_len || memcmp(o->stream_id, id, id_len) != 0)
		abort();
	/* order_id: the field's UUID, lowercase */
	if (strlen(o->order_id) != TOKEN_LEN || !token_is_valid(o->order_id, TOKEN_LEN) ||
	    order_id->value_len != TOKEN_LEN)
		abort();
	for (size_t i = 0; i < TOKEN_LEN; i++) {
		char c = order_id->value[i];
		if ((o->order_id[i] >= 'A' && o->order_id[i] <= 'Z') ||
		    o->order_id[i] != (c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c))
			abort();
	}
	if (o->n_lines < 1 || o->n_lines > ORDER_MAX_ITEMS)
		abort();
	for (size_t i = 0; i < o->n_lines; i++)
		if (!order_sku_is_valid(o->lines[i].sku, strlen(o->lines[i].sku)) ||
		    o->lines[i].qty < 1 || o->lines[i].qty > ORDER_QTY_MAX)
			abort();
	if (strlen(o->created_at) != DRAIN_DATETIME_LEN)
		abort();
	for (size_t i = 0; i < DRAIN_DATETIME_LEN; i++)
		if (shape[i] == 'd' ? o->created_at[i] < '0' || o->created_at[i] > '9'
		                    : o->created_at[i] != shape[i])
			abort();
	/* body: the field's bytes */
	if (!o->body || o->body_len != body->value_len || o->body_len > DRAIN_BODY_MAX ||
	    memcmp(o->body, body->value, body->value_len) != 0 || o->body[o->body_len] != '\0')
		abort();
	if (o->customer
	        ? o->customer_len > ORDER_CUSTOMER_MAX || strlen(o->customer) != o->customer_len
	        : o->customer_len != 0)
		abort();
}

FUZZ_TARGET(drain_entry)
{
	const char *p = (const char *)data, *end = p + size, *nl;
	const char *part[1 + 2 * MAX_FIELDS];
	size_t len[1 + 2 * MAX_FIELDS], n_parts = 0, n;
	struct drain_field fields[MAX_FIELDS];
	struct drain_order o;
	char why[DRAIN_WHY_MAX];

	/* Split at '\n'; a last part without a value is dropped. */
	while (n_parts < sizeof part / sizeof part[0]) {
		nl = memchr(p, '\n', (size_t)(end - p));
		part[n_parts] = p;
		len[n_parts++] = (size_t)((nl ? nl : end) - p);
		if (!nl)
			break;
		p = nl + 1;
	}
	n = (n_parts - 1) / 2;
	for (size_t i = 0; i < n; i++)
		fields[i] = (struct drain_field){part[1 + 2 * i], len[1 + 2 * i], part[2 + 2 * i],
		                                 len[2 + 2 * i]};
	memset(why, 'x', sizeof why);
	if (drain_entry_parse(part[0], len[0], fields, n, &o, why) == 0) {
		check_taken(&o, part[0], len[0], fields, n);
	} else {
		if (!memchr(why, '\0', sizeof why) || why[0] == '\0')
			abort();
		if (o.customer || o.body)
			abort(); /* refused, yet owns memory */
	}
	drain_order_free(&o);
	drain_order_free(&o);
	return 0;
}
