/* GET /order-form: the shop's order form for browsers without JavaScript,
 * the form_page template with a fresh token in it. Served by us rather
 * than by the front (SSI, PHP) so that it works behind any front, the
 * token comes from the same code as POST /tokens, and its cache headers
 * are right: Back must show the page again as it was (the same token, so
 * a resubmit replays the first order), while a new visit gets a new one. */
#include "app.h"

#include "form_redirect.h"
#include "strbuf.h"

void handle_order_form(struct ar_app *app, const struct ar_request *req,
                       const struct ar_route_match *m, struct ar_response *resp)
{
	const struct ar_config *cfg = app->config;
	char token[TOKEN_LEN + 1];
	struct strbuf page = STRBUF_INIT;
	size_t len;

	(void)m;
	if (!cfg->form_page_html) {
		response_error(resp, ERR_NOT_FOUND, NULL);
		return;
	}
	if (app_issue_token(app, req, token, resp) < 0) {
		/* Rate limited or Redis down: the shop's error page, if it has one. */
		if (form_redirect_wanted(cfg, request_param(req, "HTTP_ACCEPT")))
			form_redirect(cfg, resp, NULL);
		return;
	}
	const struct strbuf_var vars[] = {{"token", token}};
	strbuf_put_template(&page, cfg->form_page_html, cfg->form_page_len, vars, 1);
	char *text = strbuf_detach(&page, &len);
	response_set_body(resp, 200, "text/html; charset=utf-8", text, len);
	/* Not no-store: that would keep the page out of the back/forward
	 * cache, and a refetch on Back would carry a new token. no-cache:
	 * every new navigation asks again, and gets a new token. */
	resp->cache_control = "private, no-cache";
	resp->log_label = "issued";
}
