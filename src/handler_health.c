/* GET /healthz: 200 when Redis answers PING, 503 when it does not. */
#include "app.h"

void handle_health(struct ar_app *app, const struct ar_request *req, const struct ar_route_match *m,
                   struct ar_response *resp)
{
	(void)req, (void)m;
	if (store_ping(app->store) == STORE_OK) {
		response_set_json(resp, 200, json_pack("{s:s}", "status", "ok"));
		resp->log_label = "ok";
		return;
	}
	response_set_json(resp, 503,
	                  json_pack("{s:s, s:s, s:s}", "status", "unavailable", "error",
	                            response_error_code(ERR_UNAVAILABLE), "message",
	                            "Redis does not answer"));
	response_add_header(resp, "Retry-After", "1");
	resp->log_label = "unavailable";
}
