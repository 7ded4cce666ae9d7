/* GET /order-form: the order form of a shop page without JavaScript, the
 * form_page template with a fresh token in it. Served by us, not by the
 * front (SSI, PHP): it works behind any front, the token comes from the
 * code of POST /tokens, and its cache headers let Back reuse the page. */
#include "app.h"

#include <string.h>

#include "form_redirect.h"
#include "strbuf.h"

/* What a HEAD is measured with: no token is issued for a page not sent. */
static const char head_token[] = "00000000-0000-0000-0000-000000000000";
_Static_assert(sizeof head_token == TOKEN_LEN + 1, "a HEAD measures with a token's length");

void handle_order_form(struct ar_app *app, const struct ar_request *req,
                       const struct ar_route_match *m, struct ar_response *resp)
{
	const struct ar_config *cfg = app->config;
	char token[TOKEN_LEN + 1];
	struct strbuf page = STRBUF_INIT;
	size_t len;

	if (!cfg->form_page_html) {
		response_error(resp, ERR_NOT_FOUND, NULL);
		return;
	}
	if (m->method == METHOD_HEAD)
		memcpy(token, head_token, sizeof token);
	else if (app_issue_token(app, req, token, resp) < 0) {
		/* Rate limited or Redis down: the shop's error page, if it has one. */
		if (form_redirect_wanted(cfg, request_param(req, "HTTP_ACCEPT")))
			form_redirect_apply(cfg, resp, NULL);
		return;
	}
	const struct strbuf_var vars[] = {{"token", token}};
	strbuf_put_template(&page, cfg->form_page_html, cfg->form_page_len, vars, 1);
	char *text = strbuf_detach(&page, &len);
	response_set_body(resp, 200, "text/html; charset=utf-8", text, len);
	/* Not no-store: that keeps the page out of the back/forward cache, and
	 * a refetch on Back would carry a new token (Back + submit: a second
	 * order). no-cache: every new visit asks again and gets a new token. */
	resp->cache_control = "private, no-cache";
	/* A purchase form: never inside another site's frame (clickjacking). */
	response_add_header(resp, "X-Frame-Options", "SAMEORIGIN");
	resp->log_label = m->method == METHOD_HEAD ? "head" : "issued";
}
