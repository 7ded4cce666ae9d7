/* token: syntax of anti-replay tokens (36-character UUIDs, any case, kept
 * lowercase), their generation and their Redis name. The Idempotency-Key
 * header, in every form, is idem_key's. */
#ifndef AR_TOKEN_H
#define AR_TOKEN_H

#include <stddef.h>

#define TOKEN_LEN 36

enum token_status { TOKEN_OK, TOKEN_ABSENT, TOKEN_MALFORMED };

/* 1 if s[0..len) is a UUID in 8-4-4-4-12 hex form (any case), else 0. */
int token_is_valid(const char *s, size_t len);

/* Checks s[0..len) and writes it lowercased to out. TOKEN_OK or
 * TOKEN_MALFORMED (len 0 counts as malformed here). */
enum token_status token_parse(const char *s, size_t len, char out[TOKEN_LEN + 1]);

/* A fresh random (version 4) UUID, lowercase, from libuuid's
 * uuid_generate_random (the kernel's CSPRNG through getrandom). */
void token_generate(char out[TOKEN_LEN + 1]);

/* The name-based (version 5, SHA-1) UUID of name[0..len) in namespace ns
 * (a UUID, lowercase), RFC 4122 section 4.3; lowercase. */
void token_uuid5(const char ns[TOKEN_LEN + 1], const char *name, size_t len,
                 char out[TOKEN_LEN + 1]);

/* The id of the order made with an issued token: token_uuid5 of identity,
 * a NUL and the token, in antireplay's own namespace. The same token and
 * identity always name the same order, so an order that a failover lost
 * and the client's retry made again keeps its id; the token's 122 random
 * bits make it as unguessable as a random id, and it reveals nothing of
 * the token. token must be lowercase (token_parse). */
void token_order_id(const char *identity, const char *token, char out[TOKEN_LEN + 1]);

/* The token's name in Redis: its 16 bytes in unpadded base64url, 22
 * characters, the field of its issue window's hash while unused and, once
 * used, the end of its own key (README, Redis key layout). Shorter than the
 * 36-character text: a field of Redis's 32-byte allocation class. token
 * must be valid (token_parse). */
#define TOKEN_KEY_LEN 22 /* UTIL_BASE64URL_LEN(16) */
void token_key_name(const char *token, char out[TOKEN_KEY_LEN + 1]);

#endif
