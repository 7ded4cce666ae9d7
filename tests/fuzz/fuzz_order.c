/* Fuzz target: the JSON and form order parsers, validation and canonical
 * form. The first byte picks the parser. A valid order rendered back to JSON
 * must parse to the same canonical form (the fingerprint is stable). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "order.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_round_trip(const struct order *o)
{
	struct order_input again;
	size_t len;
	char *canonical = order_canonical(o);
	char *json = order_to_json(o, "0f8fad5b-d9cb-469f-a165-70867728950e",
	                           "2026-11-27T05:44:47.123Z", &len);

	if (order_parse_json(json, len, &again) != ORDER_PARSED || !again.valid)
		abort();
	char *canonical_again = order_canonical(&again.order);
	if (strcmp(canonical, canonical_again) != 0)
		abort();
	free(canonical_again);
	order_input_free(&again);
	free(json);
	free(canonical);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
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
	if (in.body_token == TOKEN_OK && !token_is_valid(in.token, strlen(in.token)))
		abort();
	order_input_free(&in);
	return 0;
}
