/* POST /orders and GET /orders/{id}: the submission, checked in the
 * contract's order (size, type, syntax, token, rules), then the one atomic
 * step in Redis; and reading an order back. */
#include "app.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "form_redirect.h"
#include "idem_key.h"
#include "identity.h"
#include "log.h"
#include "order.h"
#include "strbuf.h"
#include "token.h"
#include "util.h"

enum media_type { MEDIA_JSON, MEDIA_FORM, MEDIA_OTHER };

/* The media type of CONTENT_TYPE, parameters (such as charset) ignored. */
static enum media_type media_type_of(const char *content_type)
{
	static const char json[] = "application/json";
	static const char form[] = "application/x-www-form-urlencoded";
	size_t len;

	if (!content_type)
		return MEDIA_OTHER;
	len = strcspn(content_type, "; \t");
	if (len == sizeof json - 1 && strncasecmp(content_type, json, len) == 0)
		return MEDIA_JSON;
	if (len == sizeof form - 1 && strncasecmp(content_type, form, len) == 0)
		return MEDIA_FORM;
	return MEDIA_OTHER;
}

/* The key: Idempotency-Key wins over the body's token. Under keys =
 * issued only a UUID is one. Returns 0 with out set, or -1 after
 * answering missing_token / malformed_token. */
static int pick_key(const struct ar_app *app, const struct ar_request *req,
                    const struct order_input *in, struct idem_key *out, struct ar_response *resp)
{
	int client_keys = app->config->keys == KEYS_CLIENT;
	enum token_status ts = idem_key_from_request(req, client_keys, out);

	if (ts == TOKEN_ABSENT) {
		ts = in->body_token;
		if (ts == TOKEN_OK) {
			*out = in->body_key;
			if (!client_keys && !out->is_token)
				ts = TOKEN_MALFORMED;
		}
	}
	if (ts == TOKEN_ABSENT)
		response_error(resp, ERR_MISSING_TOKEN, NULL);
	else if (ts == TOKEN_MALFORMED)
		response_error(resp, ERR_MALFORMED_TOKEN, NULL);
	return ts == TOKEN_OK ? 0 : -1;
}

static void set_location(struct ar_app *app, struct ar_response *resp, const char *order_id)
{
	response_add_header(resp, "Location", "%s/orders/%s", app->config->base_path, order_id);
}

/* Answers an outcome of the atomic step: the order, or the error. Replays
 * render the recorded outcome with the same code, so the bytes match. */
static void answer_outcome(struct ar_app *app, enum submit_outcome outcome,
                           const struct store_submit_result *res, char *body, size_t body_len,
                           struct ar_response *resp)
{
	switch (outcome) {
	case OUTCOME_CREATED:
		response_set_body(resp, 201, "application/json", body, body_len);
		set_location(app, resp, res->order_id);
		return;
	case OUTCOME_UNKNOWN_SKU:
		response_error(resp, ERR_UNKNOWN_SKU, json_pack("{s:s}", "sku", res->sku));
		break;
	case OUTCOME_OUT_OF_STOCK:
		response_error(resp, ERR_OUT_OF_STOCK,
		               json_pack("{s:s, s:I}", "sku", res->sku, "available",
		                         (json_int_t)res->available));
		break;
	case OUTCOME_NONE:
		response_error(resp, ERR_INTERNAL, NULL);
		break;
	}
	free(body);
}

static void answer_submission(struct ar_app *app, struct store_submit_result *res,
                              struct ar_response *resp)
{
	char *body = res->body;
	size_t body_len = res->body_len;

	res->body = NULL; /* ownership moves to the response */
	switch (res->result) {
	case SUBMIT_CREATED:
	case SUBMIT_UNKNOWN_SKU:
	case SUBMIT_OUT_OF_STOCK:
		answer_outcome(app, res->outcome, res, body, body_len, resp);
		break;
	case SUBMIT_REPLAYED:
		answer_outcome(app, res->outcome, res, body, body_len, resp);
		response_add_header(resp, "Idempotent-Replayed", "true");
		break;
	case SUBMIT_REJECTED:
		free(body);
		response_error(resp, ERR_DUPLICATE_REQUEST,
		               res->outcome == OUTCOME_CREATED
		                   ? json_pack("{s:s}", "order_id", res->order_id)
		                   : NULL);
		break;
	case SUBMIT_TOKEN_REUSED:
		free(body);
		response_error(resp, ERR_TOKEN_REUSED, NULL);
		break;
	case SUBMIT_IN_PROGRESS:
		free(body);
		response_error(resp, ERR_REQUEST_IN_PROGRESS, NULL);
		response_add_header(resp, "Retry-After", "1");
		break;
	case SUBMIT_RATE_LIMITED:
		free(body);
		response_error_msg(resp, ERR_RATE_LIMITED, "too many submissions; retry later",
		                   NULL);
		response_add_header(resp, "Retry-After", "%ld", res->retry_after);
		break;
	case SUBMIT_INVALID_TOKEN:
	case SUBMIT_RESULT_COUNT:
		free(body);
		response_error(resp, ERR_INVALID_TOKEN, NULL);
		break;
	}
	resp->log_label = store_submit_result_name(res->result);
}

/* Parses and checks the body of media type type; answers and returns -1
 * on any problem. */
static int read_order(const struct ar_request *req, enum media_type type, struct order_input *in,
                      struct ar_response *resp)
{
	if (req->body_state == BODY_TOO_LARGE) {
		response_error(resp, ERR_BODY_TOO_LARGE, NULL);
		return -1;
	}
	if (req->body_state == BODY_INCOMPLETE) {
		response_error(resp, ERR_INCOMPLETE_BODY, NULL);
		return -1;
	}
	if (type == MEDIA_OTHER) {
		response_error(resp, ERR_UNSUPPORTED_MEDIA_TYPE, NULL);
		return -1;
	}
	if (type == MEDIA_JSON && order_parse_json(req->body, req->body_len, in) != ORDER_PARSED) {
		log_debug("invalid JSON body: %s", in->why);
		response_error(resp, ERR_INVALID_JSON, NULL);
		return -1;
	}
	if (type == MEDIA_FORM && order_parse_form(req->body, req->body_len, in) != ORDER_PARSED) {
		response_error_msg(resp, ERR_INVALID_ORDER, in->why, NULL);
		return -1;
	}
	return 0;
}

/* Answers the submission; created_id gets the order id where the answer
 * names one: created, replayed, or the order a duplicate_request names
 * (reject mode); not a token_reused, whose JSON names none either. */
static void submit(struct ar_app *app, const struct ar_request *req, struct order_input *in,
                   struct ar_response *resp, char created_id[TOKEN_LEN + 1])
{
	char order_id[TOKEN_LEN + 1], issued_order_id[TOKEN_LEN + 1] = "";
	char identity[IDENTITY_MAX + 1], client[IDENTITY_CLIENT_MAX];
	char created_at[UTIL_RFC3339_LEN + 1], shown[LOG_TOKEN_SHOWN + 4];
	struct idem_key key;
	struct store_submit_result res;
	struct timespec now;

	if (pick_key(app, req, in, &key, resp) < 0)
		return;
	if (!in->valid) {
		response_error_msg(resp, ERR_INVALID_ORDER, in->why, NULL);
		return;
	}
	if (identity_of_request(app->config, req, identity, client) < 0) {
		response_error(resp, ERR_INVALID_IDENTITY, NULL);
		return;
	}
	if (app_check_key_scope(&key, identity, resp) < 0)
		return;
	/* A fresh id for an order made with a key the client made, so a key
	 * used again after it expired never names an earlier order; for a
	 * token we issued, one derived from it, so the order a failover lost
	 * and the retry makes again keeps its id (the script picks). */
	token_generate(order_id);
	if (key.is_token)
		token_order_id(identity, key.text, issued_order_id);
	clock_gettime(CLOCK_REALTIME, &now);
	util_format_rfc3339_ms(&now, created_at);

	struct strbuf canonical = STRBUF_INIT, json = STRBUF_INIT;
	order_canonical(&in->order, &canonical);
	order_write_json(&in->order, order_id, created_at, &json);
	struct store_submission sub = {.key = &key,
	                               .client_keys =
	                                   app->config->keys == KEYS_CLIENT && identity[0] != '\0',
	                               .identity = identity,
	                               .client = client,
	                               .order = &in->order,
	                               .canonical = canonical.data,
	                               .order_id = order_id,
	                               .issued_order_id = issued_order_id,
	                               .order_json = json.data,
	                               .order_json_len = json.len};
	enum store_status st = store_submit_order(app->store, &sub, &res);
	strbuf_free(&canonical);
	strbuf_free(&json);
	if (st != STORE_OK) {
		/* On a timeout the script may have run: the retry with the same
		 * key gets the recorded outcome, so stock still moves once. */
		log_warn("order with key %s: store unavailable (%d)", log_token(key.text, shown),
		         st);
		app_store_failed(resp, st);
		return;
	}
	log_debug("order with key %s: %s", log_token(key.text, shown),
	          store_submit_result_name(res.result));
	if (res.outcome == OUTCOME_CREATED && res.result != SUBMIT_TOKEN_REUSED)
		snprintf(created_id, TOKEN_LEN + 1, "%s", res.order_id);
	answer_submission(app, &res, resp);
	store_submit_result_free(&res);
}

void handle_submit_order(struct ar_app *app, const struct ar_request *req,
                         const struct ar_route_match *m, struct ar_response *resp)
{
	enum media_type type = media_type_of(request_param(req, "CONTENT_TYPE"));
	struct order_input in;
	char created_id[TOKEN_LEN + 1] = "";

	(void)m;
	memset(&in, 0, sizeof in);
	if (read_order(req, type, &in, resp) == 0)
		submit(app, req, &in, resp, created_id);
	order_input_free(&in);
	/* A browser's form post (urlencoded, or a form we cannot read, such as
	 * multipart: its shopper needs a page too): the answer becomes a
	 * redirect to the shop's page, whatever it was (even 413 or 503). A
	 * script's JSON is answered in JSON. */
	if (type != MEDIA_JSON &&
	    form_redirect_wanted(app->config, request_param(req, "HTTP_ACCEPT")))
		form_redirect_apply(app->config, resp, created_id[0] ? created_id : NULL);
}

void handle_get_order(struct ar_app *app, const struct ar_request *req,
                      const struct ar_route_match *m, struct ar_response *resp)
{
	char identity[IDENTITY_MAX + 1];
	char *json;
	size_t len;

	if (identity_extract(app->config, req, identity) < 0) {
		response_error(resp, ERR_INVALID_IDENTITY, NULL);
		return;
	}
	enum store_status st = store_get_order(app->store, m->arg, identity,
	                                       app->config->bind != BIND_NONE, &json, &len);
	if (st != STORE_OK) {
		app_store_failed(resp, st);
		return;
	}
	if (!json) {
		response_error(resp, ERR_NOT_FOUND, NULL);
		return;
	}
	response_set_body(resp, 200, "application/json", json, len);
	resp->log_label = "ok";
}
