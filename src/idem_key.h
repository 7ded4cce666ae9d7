/* idem_key: the key a submission carries (the Idempotency-Key header, or
 * the body's token field), in every form antireplay takes, and its Redis
 * name. Under keys = issued only our tokens (UUIDs) are keys; under
 * keys = client a client may make its own, as the IETF Idempotency-Key
 * draft and Stripe do: a bare value of 1..IDEM_KEY_MAX visible ASCII
 * characters without ',' and '"' (a comma is how Apache and lighttpd join
 * a repeated header), or an sf-string in double quotes (the draft's form:
 * '\"' and '\\' escapes, spaces allowed, the same bound once unquoted).
 * The quoted and bare forms of one key are the same key. */
#ifndef AR_IDEM_KEY_H
#define AR_IDEM_KEY_H

#include <stddef.h>

#include "request.h"
#include "token.h"

#define IDEM_KEY_MAX 255

struct idem_key {
	char text[IDEM_KEY_MAX + 1]; /* unquoted and unescaped */
	size_t len;
	int is_token; /* a UUID (text lowercased): maybe a token we issued */
};

/* One Idempotency-Key header value; surrounding spaces and tabs are
 * ignored. NULL or blank: TOKEN_ABSENT. A UUID in either form: TOKEN_OK
 * with is_token. Any other valid key: TOKEN_OK when allow_client, else
 * TOKEN_MALFORMED, as is anything that is not a key. */
enum token_status idem_key_from_header(const char *value, int allow_client, struct idem_key *out);

/* The request's Idempotency-Key header as idem_key_from_header reads it;
 * a header sent twice (nginx passes each) is TOKEN_MALFORMED. */
enum token_status idem_key_from_request(const struct ar_request *req, int allow_client,
                                        struct idem_key *out);

/* The same for a key given as it is (the body's token field: the bare
 * form only); len 0 is TOKEN_MALFORMED. */
enum token_status idem_key_from_text(const char *s, size_t len, int allow_client,
                                     struct idem_key *out);

/* The name of a client's key in Redis: SHA-256 of the identity it is
 * bound to and the key, in unpadded base64url. Fixed length whatever the
 * key, and a key of one identity cannot name another's. */
#define IDEM_KEY_NAME_LEN 43 /* UTIL_BASE64URL_LEN(32) */
void idem_key_name(const char *identity, const struct idem_key *key,
                   char out[IDEM_KEY_NAME_LEN + 1]);

#endif
