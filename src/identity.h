/* identity: the client identity a token is bound to (config "bind"), and
 * the key the issuance rate limit counts on. Pure. */
#ifndef AR_IDENTITY_H
#define AR_IDENTITY_H

#include <stddef.h>

#include "config.h"
#include "request.h"

#define IDENTITY_MAX 256

/* Writes the identity for req under cfg->bind into out (IDENTITY_MAX + 1
 * bytes): REMOTE_USER, the header's param (repeats joined with ", ", as
 * Apache and lighttpd do), or the cookie's value (first match, quotes
 * removed); "" when absent or bind is none. Returns 0, or -1 when the value
 * is longer than IDENTITY_MAX or holds a control byte. */
int identity_extract(const struct ar_config *cfg, const struct ar_request *req,
                     char out[IDENTITY_MAX + 1]);

/* The value of cookie name in a Cookie header, or -1 if absent. Writes at
 * most outlen-1 bytes; returns the full length of the value. */
int identity_cookie_value(const char *cookie_header, const char *name, char *out, size_t outlen);

/* The rate-limit client key: "i:" + identity, or "a:" + REMOTE_ADDR when
 * the identity is empty. Returns 0, or -1 if it does not fit. */
int identity_client_key(const char *identity, const char *remote_addr, char *out, size_t outlen);

/* Room for identity_client_key's out. */
#define IDENTITY_CLIENT_MAX (IDENTITY_MAX + 64)

/* Both for req: its identity and its rate-limit client. Returns 0, or -1
 * when either fails (the request is answered invalid_identity). */
int identity_of_request(const struct ar_config *cfg, const struct ar_request *req,
                        char identity[IDENTITY_MAX + 1], char client[IDENTITY_CLIENT_MAX]);

#endif
