/* drain_entry: one entry of the orders stream -> the rows it becomes in the
 * database, every field checked against what antireplay-fcgi writes; or
 * why it cannot be (the reason of a dead letter). Pure: no Redis, no
 * database, so the unit tests and a fuzzer drive it directly. */
#ifndef AR_DRAIN_ENTRY_H
#define AR_DRAIN_ENTRY_H

#include <stddef.h>

#include "order.h"
#include "token.h"

/* "<ms>-<seq>": two 64-bit decimals. */
#define DRAIN_STREAM_ID_MAX 41
/* An order JSON larger than this is not one of ours (50 lines of 64-byte
 * SKUs and a 256-byte customer, escaped, stay far below). */
#define DRAIN_BODY_MAX 65536
/* Ours nest 3 deep (order, items, line); MariaDB's JSON check refuses 32. */
#define DRAIN_JSON_DEPTH_MAX 8
#define DRAIN_WHY_MAX 160
/* Refused as an order_id: orderdb writes its probe under it. */
#define DRAIN_NIL_UUID "00000000-0000-0000-0000-000000000000"
/* DATETIME(3): "2026-11-27 05:44:47.123" */
#define DRAIN_DATETIME_LEN 23

/* One field/value pair of a stream entry, as Redis returned it. */
struct drain_field {
	const char *name;
	size_t name_len;
	const char *value;
	size_t value_len;
};

struct drain_line {
	char sku[ORDER_SKU_MAX + 1];
	int qty;
};

/* The rows of one order. */
struct drain_order {
	char stream_id[DRAIN_STREAM_ID_MAX + 1];
	char order_id[TOKEN_LEN + 1];
	char *customer; /* owned; NULL when absent */
	size_t customer_len;
	char created_at[DRAIN_DATETIME_LEN + 1];
	char *body; /* owned: the order JSON, byte for byte */
	size_t body_len;
	struct drain_line lines[ORDER_MAX_ITEMS]; /* request order */
	size_t n_lines;
};

/* Parses the entry stream_id with fields[0..n) into out. Returns 0, or -1
 * with the reason in why (out then holds nothing to free). Rules: the
 * fields order_id (a UUID, not the nil one) and order (a JSON object of at most
 * DRAIN_BODY_MAX bytes, no NUL, nested at most DRAIN_JSON_DEPTH_MAX deep)
 * present once each, others ignored; in the
 * JSON, order_id equal to the field (any case; kept lowercase), status
 * "created", items 1 to 50 of {sku, qty} by the API's rules (no SKU twice),
 * customer absent, null or a string of at most 256 bytes, created_at
 * "YYYY-MM-DDTHH:MM:SS.mmmZ", a real date from 1970 on. */
int drain_entry_parse(const char *stream_id, size_t id_len, const struct drain_field *fields,
                      size_t n, struct drain_order *out, char why[DRAIN_WHY_MAX]);

/* dst = a deep copy of src (dst holds nothing to free before). */
void drain_order_copy(struct drain_order *dst, const struct drain_order *src);

/* Frees what out owns; NULL-safe, may be called twice. */
void drain_order_free(struct drain_order *o);

#endif
