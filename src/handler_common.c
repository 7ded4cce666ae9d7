/* handler_common: what the handlers share (app.h): a failed store call
 * as a response, and the scope of a key the client made. Below every
 * handler_*.c, so app.c -> handlers -> here runs one way. */
#include "app.h"

int app_check_key_scope(const struct idem_key *key, const char *identity, struct ar_response *resp)
{
	/* Without an identity every such client would share one key space and
	 * could replay another's order. Issued tokens carry their own binding. */
	if (key->is_token || identity[0] != '\0')
		return 0;
	response_error_msg(resp, ERR_INVALID_IDENTITY,
	                   "a key the client makes needs an identity (bind); none was sent", NULL);
	return -1;
}

void app_store_failed(struct ar_response *resp, enum store_status status)
{
	if (status == STORE_ERR_REPLY) {
		response_error(resp, ERR_INTERNAL, NULL);
	} else if (status == STORE_ERR_NOT_REPLICATED) {
		response_error_msg(resp, ERR_UNAVAILABLE,
		                   "not yet on enough Redis replicas to survive a failover; retry "
		                   "(an order or a gated request with the same key)",
		                   NULL);
		response_add_header(resp, "Retry-After", "1");
	} else {
		response_unavailable(resp);
	}
}
