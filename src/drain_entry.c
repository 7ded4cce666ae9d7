/* drain_entry: stream entry -> drain_order, with jansson for the JSON. */
#include "drain_entry.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "util.h"

static int fail(char why[DRAIN_WHY_MAX], const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int fail(char why[DRAIN_WHY_MAX], const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, DRAIN_WHY_MAX, fmt, ap);
	va_end(ap);
	return -1;
}

static int is_digits(const char *s, size_t len)
{
	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* s[0..len) is a decimal of at most 2^64 - 1. */
static int is_u64(const char *s, size_t len)
{
	static const char max[] = "18446744073709551615";

	return is_digits(s, len) &&
	       (len < sizeof max - 1 || (len == sizeof max - 1 && memcmp(s, max, len) <= 0));
}

/* "<ms>-<seq>", two 64-bit unsigned decimals. */
static int stream_id_is_valid(const char *s, size_t len)
{
	const char *dash = memchr(s, '-', len);

	if (!dash || len > DRAIN_STREAM_ID_MAX)
		return 0;
	size_t ms = (size_t)(dash - s);
	return is_u64(s, ms) && is_u64(dash + 1, len - ms - 1);
}

/* The value of field name, or NULL; -1 if it is there twice. */
static int find_field(const struct drain_field *fields, size_t n, const char *name,
                      const struct drain_field **out)
{
	size_t len = strlen(name);

	*out = NULL;
	for (size_t i = 0; i < n; i++) {
		if (fields[i].name_len != len || memcmp(fields[i].name, name, len) != 0)
			continue;
		if (*out)
			return -1;
		*out = &fields[i];
	}
	return 0;
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" -> "YYYY-MM-DD HH:MM:SS.mmm", with the
 * calendar ranges checked (MariaDB would refuse a day 31 of April in strict
 * mode; refuse it here so the batch is not retried forever). */
static int convert_created_at(const char *s, size_t len, char out[DRAIN_DATETIME_LEN + 1])
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (len != sizeof shape - 1)
		return -1;
	for (size_t i = 0; i < len; i++)
		if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
			return -1;
	int year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	int mon = (s[5] - '0') * 10 + (s[6] - '0'), day = (s[8] - '0') * 10 + (s[9] - '0');
	int hour = (s[11] - '0') * 10 + (s[12] - '0'), min = (s[14] - '0') * 10 + (s[15] - '0');
	int sec = (s[17] - '0') * 10 + (s[18] - '0');
	int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	if (year < 1970 || mon < 1 || mon > 12 || day < 1 || day > mdays[mon - 1] ||
	    (mon == 2 && day == 29 && !leap) || hour > 23 || min > 59 || sec > 59)
		return -1;
	memcpy(out, s, DRAIN_DATETIME_LEN);
	out[10] = ' ';
	out[DRAIN_DATETIME_LEN] = '\0';
	return 0;
}

static int parse_lines(json_t *items, struct drain_order *o, char why[DRAIN_WHY_MAX])
{
	size_t n = json_array_size(items);

	if (!json_is_array(items) || n < 1 || n > ORDER_MAX_ITEMS)
		return fail(why, "items is not an array of 1 to %d lines", ORDER_MAX_ITEMS);
	for (size_t i = 0; i < n; i++) {
		json_t *item = json_array_get(items, i);
		json_t *sku = json_object_get(item, "sku"), *qty = json_object_get(item, "qty");
		const char *s = json_string_value(sku);
		size_t len = json_string_length(sku);

		if (!json_is_object(item) || !s || !order_sku_is_valid(s, len))
			return fail(why, "line %zu: sku missing or invalid", i + 1);
		for (size_t k = 0; k < i; k++)
			if (strcmp(o->lines[k].sku, s) == 0)
				return fail(why, "line %zu: sku %s given twice", i + 1, s);
		if (!json_is_integer(qty) || json_integer_value(qty) < 1 ||
		    json_integer_value(qty) > ORDER_QTY_MAX)
			return fail(why, "line %zu: qty is not an integer from 1 to %d", i + 1,
			            ORDER_QTY_MAX);
		memcpy(o->lines[i].sku, s, len + 1);
		o->lines[i].qty = (int)json_integer_value(qty);
	}
	o->n_lines = n;
	return 0;
}

/* The JSON's members into o (order_id already set from the field). */
static int parse_body(json_t *root, struct drain_order *o, char why[DRAIN_WHY_MAX])
{
	json_t *id = json_object_get(root, "order_id"), *status = json_object_get(root, "status");
	json_t *customer = json_object_get(root, "customer");
	json_t *created = json_object_get(root, "created_at");

	if (!json_is_object(root))
		return fail(why, "order is not a JSON object");
	if (!json_is_string(id) || json_string_length(id) != TOKEN_LEN ||
	    strncasecmp(json_string_value(id), o->order_id, TOKEN_LEN) != 0)
		return fail(why, "order_id of the JSON differs from the entry's");
	if (!json_is_string(status) || strcmp(json_string_value(status), "created") != 0)
		return fail(why, "status is not \"created\"");
	if (parse_lines(json_object_get(root, "items"), o, why) < 0)
		return -1;
	if (!json_is_string(created) ||
	    convert_created_at(json_string_value(created), json_string_length(created),
	                       o->created_at) < 0)
		return fail(why, "created_at is not YYYY-MM-DDTHH:MM:SS.mmmZ");
	if (customer && !json_is_null(customer)) {
		if (!json_is_string(customer) || json_string_length(customer) > ORDER_CUSTOMER_MAX)
			return fail(why, "customer is not a string of at most %d bytes",
			            ORDER_CUSTOMER_MAX);
		o->customer_len = json_string_length(customer);
		o->customer = xstrndup(json_string_value(customer), o->customer_len);
	}
	return 0;
}

int drain_entry_parse(const char *stream_id, size_t id_len, const struct drain_field *fields,
                      size_t n, struct drain_order *out, char why[DRAIN_WHY_MAX])
{
	const struct drain_field *id, *body;
	json_error_t jerr;
	json_t *root;
	int rc;

	memset(out, 0, sizeof *out);
	if (!stream_id_is_valid(stream_id, id_len))
		return fail(why, "not a stream id");
	memcpy(out->stream_id, stream_id, id_len);
	if (find_field(fields, n, "order_id", &id) < 0 || find_field(fields, n, "order", &body) < 0)
		return fail(why, "a field given twice");
	if (!id || !body)
		return fail(why, "field %s missing", id ? "order" : "order_id");
	if (!token_is_valid(id->value, id->value_len))
		return fail(why, "order_id is not a UUID");
	for (size_t i = 0; i < TOKEN_LEN; i++)
		out->order_id[i] = id->value[i] >= 'A' && id->value[i] <= 'F'
		                       ? (char)(id->value[i] - 'A' + 'a')
		                       : id->value[i];
	/* Never a token (version 4), and the id of orderdb's probe. */
	if (strcmp(out->order_id, DRAIN_NIL_UUID) == 0)
		return fail(why, "order_id is the nil UUID");
	if (body->value_len > DRAIN_BODY_MAX)
		return fail(why, "order larger than %d bytes", DRAIN_BODY_MAX);
	/* jansson stops at a NUL after a value and calls the rest fine. */
	if (memchr(body->value, '\0', body->value_len))
		return fail(why, "order is not JSON: a NUL byte");
	/* MariaDB's JSON check refuses 32 levels and would fail the batch for
	 * ever: such an entry is not one of ours (3 levels). */
	if (order_json_depth(body->value, body->value_len) > DRAIN_JSON_DEPTH_MAX)
		return fail(why, "order is not JSON of ours: nested deeper than %d",
		            DRAIN_JSON_DEPTH_MAX);
	root = json_loadb(body->value, body->value_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return fail(why, "order is not JSON: %s", jerr.text);
	rc = parse_body(root, out, why);
	json_decref(root);
	if (rc < 0) {
		drain_order_free(out);
		return -1;
	}
	out->body = xmalloc(body->value_len + 1);
	memcpy(out->body, body->value, body->value_len);
	out->body[body->value_len] = '\0';
	out->body_len = body->value_len;
	return 0;
}

void drain_order_copy(struct drain_order *dst, const struct drain_order *src)
{
	*dst = *src;
	if (src->customer) {
		dst->customer = xmalloc(src->customer_len + 1);
		memcpy(dst->customer, src->customer, src->customer_len + 1);
	}
	dst->body = xmalloc(src->body_len + 1);
	memcpy(dst->body, src->body, src->body_len + 1);
}

void drain_order_free(struct drain_order *o)
{
	if (!o)
		return;
	free(o->customer);
	o->customer = NULL;
	free(o->body);
	o->body = NULL;
}
