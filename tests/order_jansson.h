/* order_jansson.h: the oracle for order_write_json, shared by the unit test
 * and the order fuzzer. The same order built as a jansson tree and dumped
 * the way the app once did (compact, members in contract order): the bytes
 * order_write_json promises to give. Returns a malloc'd string; aborts on
 * allocation failure. Header-only: each test program includes it once. */
#ifndef AR_TESTS_ORDER_JANSSON_H
#define AR_TESTS_ORDER_JANSSON_H

#include <stdlib.h>

#include <jansson.h>

#include "order.h"

static char *order_json_by_jansson(const struct order *o, const char *order_id,
                                   const char *created_at)
{
	json_t *obj = json_object(), *items = json_array();
	char *text;

	json_object_set_new(obj, "order_id", json_string(order_id));
	json_object_set_new(obj, "status", json_string("created"));
	for (size_t i = 0; i < o->n_items; i++)
		json_array_append_new(
		    items, json_pack("{s:s, s:i}", "sku", o->items[i].sku, "qty", o->items[i].qty));
	json_object_set_new(obj, "items", items);
	if (o->customer)
		json_object_set_new(obj, "customer", json_string(o->customer));
	json_object_set_new(obj, "created_at", json_string(created_at));
	text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(obj);
	if (!text)
		abort();
	return text;
}

#endif
