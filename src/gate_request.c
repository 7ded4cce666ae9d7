/* gate_request: the key and the name of a gate request (gate_request.h). */
#include "gate_request.h"

#include <string.h>

#include "form.h"

static enum token_status key_from_query(const char *uri, int allow_client, struct idem_key *out)
{
	const char *query = uri ? strchr(uri, '?') : NULL;
	struct form f;
	char err[128];
	enum token_status ts;

	if (!query)
		return TOKEN_ABSENT;
	query++;
	if (form_parse(query, strlen(query), GATE_QUERY_FIELDS_MAX, &f, err, sizeof err) < 0)
		return TOKEN_MALFORMED;
	const struct form_field *token = form_get(&f, "token");
	if (!token)
		ts = TOKEN_ABSENT;
	else if (form_count(&f, "token") > 1 || strlen(token->value) != token->value_len)
		ts = TOKEN_MALFORMED;
	else
		ts = idem_key_from_header(token->value, allow_client, out);
	form_free(&f);
	return ts;
}

enum token_status gate_request_key(const struct ar_request *req, int allow_client,
                                   struct idem_key *out)
{
	enum token_status ts = idem_key_from_request(req, allow_client, out);

	if (ts == TOKEN_ABSENT)
		ts = key_from_query(request_param(req, "REQUEST_URI"), allow_client, out);
	/* The key goes on to the application in a header, whose value the
	 * fronts trim: " k" and "k" would reach it as one key. */
	if (ts == TOKEN_OK && (out->text[0] == ' ' || out->text[out->len - 1] == ' '))
		ts = TOKEN_MALFORMED;
	return ts;
}

int gate_request_name(const struct ar_request *req, struct strbuf *out)
{
	const char *method = request_param(req, "REQUEST_METHOD");
	const char *uri = request_param(req, "REQUEST_URI");

	if (!method || !*method || !uri || !*uri)
		return -1;
	strbuf_puts(out, method);
	strbuf_putc(out, ' ');
	strbuf_put(out, uri, strcspn(uri, "?"));
	return 0;
}
