/* gate_request: what a gate request asks, read from its params: the key
 * and the request it would let through. Pure. */
#ifndef AR_GATE_REQUEST_H
#define AR_GATE_REQUEST_H

#include "idem_key.h"
#include "request.h"
#include "strbuf.h"

/* A query string with more fields than this is not searched for a token. */
#define GATE_QUERY_FIELDS_MAX 64

/* The key: the Idempotency-Key header (idem_key_from_request), else the
 * token parameter of the protected URL's query (REQUEST_URI: nginx's
 * auth_request sends its own QUERY_STRING), which is all a plain HTML
 * form can carry. A token parameter given twice, holding a NUL, or a query
 * that cannot be decoded is TOKEN_MALFORMED, and so is a quoted key that
 * starts or ends with a space (it goes on in a header, which fronts trim). */
enum token_status gate_request_key(const struct ar_request *req, int allow_client,
                                   struct idem_key *out);

/* Appends "METHOD /path" of the protected request, its query left out:
 * what a later use must match to be the same request. -1 (nothing
 * appended) when the front sent no method or no URI. */
int gate_request_name(const struct ar_request *req, struct strbuf *out);

#endif
