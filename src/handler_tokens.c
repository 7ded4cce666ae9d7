/* POST /tokens: issue a one-time token bound to the client's identity,
 * under the per-client issuance rate limit (app_issue_token, which GET
 * /order-form uses too). */
#include "app.h"

#include "identity.h"
#include "log.h"
#include "strbuf.h"
#include "token.h"

int app_issue_token(struct ar_app *app, const struct ar_request *req, char token[TOKEN_LEN + 1],
                    struct ar_response *resp)
{
	char identity[IDENTITY_MAX + 1], client[IDENTITY_CLIENT_MAX];
	char shown[LOG_TOKEN_SHOWN + 4];
	long retry_after = 0;

	if (identity_of_request(app->config, req, identity, client) < 0) {
		response_error(resp, ERR_INVALID_IDENTITY, NULL);
		return -1;
	}
	token_generate(token);
	enum store_status st = store_issue_token(app->store, token, identity, client, &retry_after);
	if (st != STORE_OK) {
		app_store_failed(resp, st);
		return -1;
	}
	if (retry_after > 0) {
		response_error(resp, ERR_RATE_LIMITED, NULL);
		response_add_header(resp, "Retry-After", "%ld", retry_after);
		return -1;
	}
	log_debug("issued token %s", log_token(token, shown));
	return 0;
}

void handle_tokens(struct ar_app *app, const struct ar_request *req, const struct ar_route_match *m,
                   struct ar_response *resp)
{
	char token[TOKEN_LEN + 1];

	(void)m;
	if (app_issue_token(app, req, token, resp) < 0)
		return;
	/* Written directly: this is the hot path of POST /tokens, and the
	 * token (hex and dashes) needs no escaping. */
	struct strbuf body = STRBUF_INIT;
	size_t len;
	strbuf_puts(&body, "{\"token\":\"");
	strbuf_puts(&body, token);
	strbuf_puts(&body, "\",\"expires_in\":");
	strbuf_put_int(&body, app->config->token_ttl);
	strbuf_putc(&body, '}');
	char *text = strbuf_detach(&body, &len);
	response_set_body(resp, 201, "application/json", text, len);
	resp->log_label = "issued";
}
