/* GET|PUT /stock/{sku}: read a SKU's stock; set it with the admin token. */
#include "app.h"

#include <string.h>
#include <strings.h>

#include "util.h"

static json_t *stock_json(const char *sku, long long available)
{
	return json_pack("{s:s, s:I}", "sku", sku, "available", (json_int_t)available);
}

/* 1 if the request carries "Authorization: Bearer <admin_token>"; else
 * answers 403 or 401 and returns 0. */
static int admin_allowed(const struct ar_config *cfg, const struct ar_request *req,
                         struct ar_response *resp)
{
	const char *auth = request_param(req, "HTTP_AUTHORIZATION");
	const char *given = "";

	if (!cfg->admin_token[0]) {
		response_error(resp, ERR_ADMIN_DISABLED, NULL);
		return 0;
	}
	/* The scheme name is case-insensitive (RFC 9110, section 11.1). */
	if (auth && strncasecmp(auth, "Bearer ", 7) == 0 &&
	    request_param_count(req, "HTTP_AUTHORIZATION") == 1)
		given = auth + 7;
	if (!util_consttime_equal(given, strlen(given), cfg->admin_token,
	                          strlen(cfg->admin_token))) {
		response_error(resp, ERR_UNAUTHORIZED, NULL);
		response_add_header(resp, "WWW-Authenticate", "Bearer");
		return 0;
	}
	return 1;
}

/* The N of a {"available": N} body, or -1. */
static long long parse_available(const struct ar_request *req)
{
	json_t *root, *v;
	long long n = -1;

	if (req->body_state != BODY_OK)
		return -1;
	root = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, NULL);
	v = json_object_get(root, "available");
	if (json_is_integer(v) && json_integer_value(v) >= 0 &&
	    json_integer_value(v) <= ORDER_STOCK_MAX)
		n = json_integer_value(v);
	json_decref(root);
	return n;
}

static void put_stock(struct ar_app *app, const struct ar_request *req, const char *sku,
                      struct ar_response *resp)
{
	long long n;

	if (!admin_allowed(app->config, req, resp))
		return;
	if (req->body_state == BODY_TOO_LARGE) {
		response_error(resp, ERR_BODY_TOO_LARGE, NULL);
		return;
	}
	if (req->body_state == BODY_INCOMPLETE) {
		response_error(resp, ERR_INCOMPLETE_BODY, NULL);
		return;
	}
	n = parse_available(req);
	if (n < 0) {
		response_error(resp, ERR_INVALID_STOCK, NULL);
		return;
	}
	enum store_status st = store_set_stock(app->store, sku, n);
	if (st != STORE_OK) {
		app_store_failed(resp, st);
		return;
	}
	response_set_json(resp, 200, stock_json(sku, n));
	resp->log_label = "stock_set";
}

void handle_stock(struct ar_app *app, const struct ar_request *req, const struct ar_route_match *m,
                  struct ar_response *resp)
{
	long long available;
	int found;

	if (m->method == METHOD_PUT) {
		put_stock(app, req, m->arg, resp);
		return;
	}
	enum store_status st = store_get_stock(app->store, m->arg, &available, &found);
	if (st != STORE_OK) {
		app_store_failed(resp, st);
		return;
	}
	if (!found) {
		response_error(resp, ERR_NOT_FOUND, NULL);
		return;
	}
	response_set_json(resp, 200, stock_json(m->arg, available));
	resp->log_label = "ok";
}
