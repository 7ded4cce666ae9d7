/* app: route a plain request to its handler; 404 and 405 are answered here. */
#include "app.h"

#include <string.h>

typedef void (*handler_fn)(struct ar_app *app, const struct ar_request *req,
                           const struct ar_route_match *m, struct ar_response *resp);

static const struct {
	handler_fn fn;
	const char *name;
} handlers[] = {
    [ROUTE_TOKENS] = {handle_tokens, "tokens"},
    [ROUTE_ORDERS] = {handle_submit_order, "orders"},
    [ROUTE_ORDER] = {handle_get_order, "order"},
    [ROUTE_STOCK] = {handle_stock, "stock"},
    [ROUTE_HEALTH] = {handle_health, "healthz"},
    [ROUTE_METRICS] = {handle_metrics, "metrics"},
    [ROUTE_ORDER_FORM] = {handle_order_form, "order-form"},
};

void app_handle(struct ar_app *app, const struct ar_request *req, struct ar_response *resp,
                const char **route_name)
{
	char path[1024];
	struct ar_route_match m;
	enum router_status rs = ROUTER_NOT_FOUND;

	*route_name = "-";
	if (request_is_gate(req)) {
		*route_name = "gate";
		handle_gate(app, req, resp);
		return;
	}
	memset(&m, 0, sizeof m);
	if (router_route_path(app->config->base_path, request_param(req, "REQUEST_URI"),
	                      request_param(req, "SCRIPT_NAME"), request_param(req, "PATH_INFO"),
	                      path, sizeof path) == 0)
		rs = router_match(request_param(req, "REQUEST_METHOD"), path, &m);

	switch (rs) {
	case ROUTER_NOT_FOUND:
		response_error(resp, ERR_NOT_FOUND, NULL);
		return;
	case ROUTER_METHOD_NOT_ALLOWED:
		response_error(resp, ERR_METHOD_NOT_ALLOWED, NULL);
		response_add_header(resp, "Allow", "%s", m.allow);
		return;
	case ROUTER_OK:
		break;
	}
	*route_name = handlers[m.route].name;
	handlers[m.route].fn(app, req, &m, resp);
	if (m.method == METHOD_HEAD)
		resp->omit_body = 1;
}
