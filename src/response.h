/* response: the plain response handlers fill, the one table that maps each
 * error code to its HTTP status and message, and the CGI header rendering.
 * Every response carries Content-Type, Cache-Control (no-store unless a
 * handler says otherwise) and Content-Length; extra headers are added by
 * name. */
#ifndef AR_RESPONSE_H
#define AR_RESPONSE_H

#include <stddef.h>

#include <jansson.h>

enum ar_error {
	ERR_NOT_FOUND,
	ERR_METHOD_NOT_ALLOWED,
	ERR_BODY_TOO_LARGE,
	ERR_INCOMPLETE_BODY,
	ERR_UNSUPPORTED_MEDIA_TYPE,
	ERR_INVALID_JSON,
	ERR_MISSING_TOKEN,
	ERR_MALFORMED_TOKEN,
	ERR_INVALID_ORDER,
	ERR_INVALID_IDENTITY,
	ERR_INVALID_TOKEN,
	ERR_UNKNOWN_SKU,
	ERR_OUT_OF_STOCK,
	ERR_TOKEN_REUSED,
	ERR_DUPLICATE_REQUEST,
	ERR_REQUEST_IN_PROGRESS,
	ERR_RATE_LIMITED,
	ERR_INVALID_STOCK,
	ERR_ADMIN_DISABLED,
	ERR_UNAUTHORIZED,
	ERR_UNAVAILABLE,
	ERR_INTERNAL,
	ERR_COUNT
};

#define RESPONSE_MAX_HEADERS 6
/* Room for the longest value we send: a client's key (IDEM_KEY_MAX, 255)
 * to the gate's front, or an error body in a header for nginx. */
#define RESPONSE_HEADER_VALUE_MAX 320

struct ar_header {
	const char *name; /* static string */
	char value[RESPONSE_HEADER_VALUE_MAX];
};

struct ar_response {
	int status;               /* 0 until set */
	const char *content_type; /* static string */
	char *body;               /* owned */
	size_t body_len;
	struct ar_header headers[RESPONSE_MAX_HEADERS];
	size_t n_headers;
	int omit_body;             /* HEAD: headers (with Content-Length) only */
	const char *log_label;     /* static; the access log's word ("issued", a code) */
	const char *error_code;    /* static; the error's code when one was set, else NULL */
	const char *cache_control; /* static; NULL: "no-store" */
};

/* An empty response (status 0, no body). */
void response_init(struct ar_response *resp);

/* Frees the body; resp is empty again. */
void response_free(struct ar_response *resp);

/* Adds a header; the value is formatted printf-style and cut to fit.
 * Callers add at most RESPONSE_MAX_HEADERS (checked by assert). */
void response_add_header(struct ar_response *resp, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The value of the header called name (case-insensitive), or NULL. */
const char *response_header(const struct ar_response *resp, const char *name);

/* Sets status and body; takes ownership of body (malloc'd, len bytes). */
void response_set_body(struct ar_response *resp, int status, const char *content_type, char *body,
                       size_t len);

/* Sets status and a compact JSON body; takes ownership of obj (one reference). */
void response_set_json(struct ar_response *resp, int status, json_t *obj);

/* Sets the error's status and {"error": code, "message": text} plus the
 * members of extra (may be NULL; ownership taken). log_label and
 * error_code = the code. */
void response_error(struct ar_response *resp, enum ar_error err, json_t *extra);

/* Same with a message other than the table's. */
void response_error_msg(struct ar_response *resp, enum ar_error err, const char *message,
                        json_t *extra);

/* 503 unavailable with Retry-After: 1. */
void response_unavailable(struct ar_response *resp);

/* The error's HTTP status and its code string ("not_found"). */
int response_error_status(enum ar_error err);
const char *response_error_code(enum ar_error err);

/* The reason phrase of a status ("Created"), "Unknown" when we have none. */
const char *response_reason(int status);

/* Writes the CGI head ("Status: 201 Created\r\n...\r\n\r\n") into buf.
 * Returns its length, or 0 if buf is too small. */
size_t response_render_head(const struct ar_response *resp, char *buf, size_t len);

#endif
