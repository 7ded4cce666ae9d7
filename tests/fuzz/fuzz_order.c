/* Fuzz target: the JSON and form order parsers, validation and canonical
 * form. The first byte picks the parser. A valid order rendered back to JSON
 * must parse to the same canonical form (the fingerprint is stable), and
 * the rendering must be byte for byte what jansson writes for it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "order.h"
#include "strbuf.h"
#include "../order_jansson.h"

#define ID "0f8fad5b-d9cb-469f-a165-70867728950e"
#define AT "2026-11-27T05:44:47.123Z"

static void check_round_trip(const struct order *o)
{
	struct order_input again;
	struct strbuf canonical = STRBUF_INIT, json = STRBUF_INIT, canonical_again = STRBUF_INIT;
	char *want = order_json_by_jansson(o, ID, AT);

	order_canonical(o, &canonical);
	order_write_json(o, ID, AT, &json);
	if (strlen(want) != json.len || memcmp(want, json.data, json.len) != 0)
		abort();
	if (order_parse_json(json.data, json.len, &again) != ORDER_PARSED || !again.valid)
		abort();
	order_canonical(&again.order, &canonical_again);
	if (strcmp(canonical.data, canonical_again.data) != 0)
		abort();
	strbuf_free(&canonical_again);
	order_input_free(&again);
	strbuf_free(&json);
	strbuf_free(&canonical);
	free(want);
}

FUZZ_TARGET(order)
{
	struct order_input in;
	enum order_parse_status st;

	if (size < 1)
		return 0;
	if (data[0] & 1)
		st = order_parse_json((const char *)data + 1, size - 1, &in);
	else
		st = order_parse_form((const char *)data + 1, size - 1, &in);
	if (st == ORDER_PARSED && in.valid) {
		if (in.order.n_items < 1 || in.order.n_items > ORDER_MAX_ITEMS)
			abort();
		check_round_trip(&in.order);
	}
	/* A key taken from the body: 1..IDEM_KEY_MAX bytes, a UUID lowercased. */
	if (in.body_token == TOKEN_OK &&
	    (in.body_key.len < 1 || in.body_key.len > IDEM_KEY_MAX ||
	     strlen(in.body_key.text) != in.body_key.len ||
	     (in.body_key.is_token && !token_is_valid(in.body_key.text, in.body_key.len))))
		abort();
	order_input_free(&in);
	return 0;
}
