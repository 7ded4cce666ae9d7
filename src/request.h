/* request: the plain request handlers see, filled by fcgi_io (or by a test)
 * with no FastCGI type in sight. Everything here is borrowed. */
#ifndef AR_REQUEST_H
#define AR_REQUEST_H

#include <stddef.h>

enum ar_body_state {
	BODY_OK,         /* body[0..body_len) is the whole body */
	BODY_TOO_LARGE,  /* over max_body: not (all) read */
	BODY_INCOMPLETE, /* fewer bytes than CONTENT_LENGTH, or a read error */
};

/* The FastCGI role the web server asked for. */
enum ar_role {
	ROLE_RESPONDER, /* and the filter role, answered as one */
	ROLE_AUTHORIZER,
};

struct ar_request {
	enum ar_role role;
	char *const *env; /* NULL-terminated "NAME=VALUE" FastCGI params */
	const char *body;
	size_t body_len;
	enum ar_body_state body_state;
};

/* The value of the first param called name, or NULL. */
const char *request_param(const struct ar_request *req, const char *name);

/* How many params are called name (nginx repeats a repeated header). */
size_t request_param_count(const struct ar_request *req, const char *name);

/* 1 for a gate request: a FastCGI authorizer's (lighttpd, Apache
 * mod_authnz_fcgi), or one carrying ANTIREPLAY_GATE=1 (nginx's
 * auth_request, a responder whose REQUEST_URI is the protected URL). Its
 * body is never read: lighttpd and Apache send an authorizer no end of
 * stdin, and nginx's CONTENT_LENGTH is the protected request's. */
int request_is_gate(const struct ar_request *req);

#endif
