/* response: the error table (the one place that maps an error to a status
 * and a message), JSON bodies and the CGI head. */
#include "response.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "order.h"
#include "strbuf.h"
#include "util.h"

struct error_entry {
	int status;
	const char *code;
	const char *message;
};

static const struct error_entry error_table[ERR_COUNT] = {
    [ERR_NOT_FOUND] = {404, "not_found", "no such resource"},
    [ERR_METHOD_NOT_ALLOWED] = {405, "method_not_allowed", "method not allowed on this resource"},
    [ERR_BODY_TOO_LARGE] = {413, "body_too_large", "request body exceeds max_body"},
    [ERR_INCOMPLETE_BODY] = {400, "incomplete_body",
                             "request body shorter than its Content-Length"},
    [ERR_UNSUPPORTED_MEDIA_TYPE] = {415, "unsupported_media_type",
                                    "use application/json or application/x-www-form-urlencoded"},
    [ERR_INVALID_JSON] = {400, "invalid_json", "request body is not valid JSON"},
    [ERR_MISSING_TOKEN] = {400, "missing_token",
                           "no token: send it in Idempotency-Key or as the token field"},
    [ERR_MALFORMED_TOKEN] = {400, "malformed_token", "the token is not a UUID"},
    [ERR_INVALID_ORDER] = {400, "invalid_order", "the order is not valid"},
    [ERR_INVALID_IDENTITY] = {400, "invalid_identity",
                              "the client identity is too long or holds control bytes"},
    [ERR_INVALID_TOKEN] = {422, "invalid_token", "the token is unknown or has expired"},
    [ERR_UNKNOWN_SKU] = {422, "unknown_sku", "an item names a SKU that does not exist"},
    [ERR_OUT_OF_STOCK] = {409, "out_of_stock", "not enough stock for an item"},
    [ERR_TOKEN_REUSED] = {422, "token_reused",
                          "the token was already used for a different request"},
    [ERR_DUPLICATE_REQUEST] = {409, "duplicate_request", "the token was already used"},
    [ERR_REQUEST_IN_PROGRESS] = {409, "request_in_progress",
                                 "a request with this token is in progress; retry shortly"},
    [ERR_RATE_LIMITED] = {429, "rate_limited", "too many tokens requested; retry later"},
    [ERR_INVALID_STOCK] = {400, "invalid_stock",
                           "body must be {\"available\": N} with 0 <= N <= " UTIL_STR(
                               ORDER_STOCK_MAX)},
    [ERR_ADMIN_DISABLED] = {403, "admin_disabled", "no admin_token is configured"},
    [ERR_UNAUTHORIZED] = {401, "unauthorized", "a valid admin bearer token is required"},
    [ERR_UNAVAILABLE] = {503, "unavailable", "the store is unavailable; retry shortly"},
    [ERR_INTERNAL] = {500, "internal_error", "internal error"},
};

void response_init(struct ar_response *resp)
{
	memset(resp, 0, sizeof *resp);
	resp->log_label = "-";
}

void response_free(struct ar_response *resp)
{
	free(resp->body);
	response_init(resp);
}

void response_add_header(struct ar_response *resp, const char *name, const char *fmt, ...)
{
	va_list ap;

	assert(resp->n_headers < RESPONSE_MAX_HEADERS);
	if (resp->n_headers >= RESPONSE_MAX_HEADERS)
		return;
	struct ar_header *h = &resp->headers[resp->n_headers++];
	h->name = name;
	va_start(ap, fmt);
	vsnprintf(h->value, sizeof h->value, fmt, ap);
	va_end(ap);
}

const char *response_header(const struct ar_response *resp, const char *name)
{
	for (size_t i = 0; i < resp->n_headers; i++)
		if (strcasecmp(resp->headers[i].name, name) == 0)
			return resp->headers[i].value;
	return NULL;
}

void response_set_body(struct ar_response *resp, int status, const char *content_type, char *body,
                       size_t len)
{
	free(resp->body);
	resp->status = status;
	resp->content_type = content_type;
	resp->body = body;
	resp->body_len = len;
}

void response_set_json(struct ar_response *resp, int status, json_t *obj)
{
	char *text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(obj);
	if (!text) {
		/* jansson fails only on allocation here; treat as fatal like xmalloc. */
		text = xstrdup("{\"error\":\"internal_error\",\"message\":\"internal error\"}");
		status = 500;
	}
	response_set_body(resp, status, "application/json", text, strlen(text));
}

void response_error_msg(struct ar_response *resp, enum ar_error err, const char *message,
                        json_t *extra)
{
	const struct error_entry *e = &error_table[err];
	json_t *obj = json_object();

	json_t *text = json_string(message);

	/* json_string() refuses invalid UTF-8: keep the fixed message then. */
	json_object_set_new(obj, "error", json_string(e->code));
	json_object_set_new(obj, "message", text ? text : json_string(e->message));
	if (extra) {
		json_object_update(obj, extra);
		json_decref(extra);
	}
	response_set_json(resp, e->status, obj);
	resp->log_label = e->code;
	resp->error_code = e->code;
}

void response_error(struct ar_response *resp, enum ar_error err, json_t *extra)
{
	response_error_msg(resp, err, error_table[err].message, extra);
}

void response_unavailable(struct ar_response *resp)
{
	response_error(resp, ERR_UNAVAILABLE, NULL);
	response_add_header(resp, "Retry-After", "1");
}

int response_error_status(enum ar_error err)
{
	return error_table[err].status;
}

const char *response_error_code(enum ar_error err)
{
	return error_table[err].code;
}

const char *response_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 303:
		return "See Other";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 413:
		return "Content Too Large";
	case 415:
		return "Unsupported Media Type";
	case 422:
		return "Unprocessable Content";
	case 429:
		return "Too Many Requests";
	case 500:
		return "Internal Server Error";
	case 503:
		return "Service Unavailable";
	default:
		return "Unknown";
	}
}

/* Appends s[0..n) at *off if it fits in len; -1 (and nothing written) if not. */
static int put(char *buf, size_t len, size_t *off, const char *s, size_t n)
{
	if (n > len - *off)
		return -1;
	memcpy(buf + *off, s, n);
	*off += n;
	return 0;
}

static int put_str(char *buf, size_t len, size_t *off, const char *s)
{
	return put(buf, len, off, s, strlen(s));
}

/* Built with memcpy, not snprintf: it runs for every response. */
size_t response_render_head(const struct ar_response *resp, char *buf, size_t len)
{
	char num[21];
	size_t off = 0;
	int bad = 0;

	bad |= put_str(buf, len, &off, "Status: ");
	bad |= put(buf, len, &off, num, strbuf_format_int(num, resp->status));
	bad |= put_str(buf, len, &off, " ");
	bad |= put_str(buf, len, &off, response_reason(resp->status));
	bad |= put_str(buf, len, &off, "\r\nContent-Type: ");
	bad |=
	    put_str(buf, len, &off, resp->content_type ? resp->content_type : "application/json");
	bad |= put_str(buf, len, &off, "\r\nCache-Control: ");
	bad |= put_str(buf, len, &off, resp->cache_control ? resp->cache_control : "no-store");
	bad |= put_str(buf, len, &off, "\r\nContent-Length: ");
	bad |= put(buf, len, &off, num, strbuf_format_int(num, (long long)resp->body_len));
	bad |= put_str(buf, len, &off, "\r\n");
	for (size_t i = 0; i < resp->n_headers; i++) {
		bad |= put_str(buf, len, &off, resp->headers[i].name);
		bad |= put_str(buf, len, &off, ": ");
		bad |= put_str(buf, len, &off, resp->headers[i].value);
		bad |= put_str(buf, len, &off, "\r\n");
	}
	/* The blank line, and a NUL after it that the length does not count. */
	bad |= put(buf, len, &off, "\r\n", 3);
	return bad ? 0 : off - 1;
}
