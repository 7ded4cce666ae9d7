/* form_redirect: the 303 that replaces a form post's answer. */
#include "form_redirect.h"

#include <string.h>

#include "accept.h"
#include "strbuf.h"
#include "token.h"

_Static_assert(CONFIG_FORM_URL_MAX < RESPONSE_HEADER_VALUE_MAX,
               "a filled form URL must fit in a Location header");
_Static_assert(TOKEN_LEN <= CONFIG_FORM_VALUE_MAX, "an order id must fit its placeholder");

int form_redirect_wanted(const struct ar_config *cfg, const char *accept)
{
	return cfg->form_success_url[0] != '\0' && accept_prefers_html(accept);
}

/* s in a double-quoted HTML attribute: the config check keeps quotes and
 * angle brackets out of the URL, so '&' is the one to escape. */
static void put_attribute(struct strbuf *sb, const char *s)
{
	for (; *s; s++) {
		if (*s == '&')
			strbuf_puts(sb, "&amp;");
		else
			strbuf_putc(sb, *s);
	}
}

/* An answer that stands for an order: created, replayed, or named by a
 * duplicate_request. */
static int names_an_order(const struct ar_response *resp, const char *order_id)
{
	if (resp->status == 201)
		return 1;
	return order_id && resp->error_code &&
	       strcmp(resp->error_code, response_error_code(ERR_DUPLICATE_REQUEST)) == 0;
}

void form_redirect_apply(const struct ar_config *cfg, struct ar_response *resp,
                         const char *order_id)
{
	const char *error = resp->error_code ? resp->error_code : "internal_error";
	const struct strbuf_var vars[] = {{"order_id", order_id ? order_id : ""}, {"error", error}};
	/* The config lets each URL hold only its own placeholder. */
	const char *tmpl =
	    names_an_order(resp, order_id) ? cfg->form_success_url : cfg->form_error_url;
	const char *label = resp->log_label;
	struct strbuf url = STRBUF_INIT, body = STRBUF_INIT;
	size_t len;

	/* The config check bounds the filled URL, and the values (a UUID, an
	 * error code) need no escaping in it. */
	strbuf_put_template(&url, tmpl, strlen(tmpl), vars, sizeof vars / sizeof vars[0]);
	/* RFC 9110 asks for a short hypertext note with the link. */
	strbuf_puts(&body, "<!DOCTYPE html>\n<title>See Other</title>\n<a href=\"");
	put_attribute(&body, url.data);
	strbuf_puts(&body, "\">Continue</a>\n");
	response_free(resp);
	char *text = strbuf_detach(&body, &len);
	response_set_body(resp, 303, "text/html; charset=utf-8", text, len);
	response_add_header(resp, "Location", "%s", url.data);
	resp->log_label = label;
	strbuf_free(&url);
}
