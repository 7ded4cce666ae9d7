/* token: UUID syntax, generation, the Redis name. */
#include "token.h"

#include <stdlib.h>
#include <string.h>

#include <uuid/uuid.h>

#include "strbuf.h"
#include "util.h"

static int is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static unsigned hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return (unsigned)(c - '0');
	if (c >= 'a' && c <= 'f')
		return (unsigned)(c - 'a' + 10);
	return (unsigned)(c - 'A' + 10);
}

int token_is_valid(const char *s, size_t len)
{
	if (len != TOKEN_LEN)
		return 0;
	for (size_t i = 0; i < TOKEN_LEN; i++) {
		int dash = (i == 8 || i == 13 || i == 18 || i == 23);
		if (dash ? s[i] != '-' : !is_hex(s[i]))
			return 0;
	}
	return 1;
}

enum token_status token_parse(const char *s, size_t len, char out[TOKEN_LEN + 1])
{
	if (!token_is_valid(s, len))
		return TOKEN_MALFORMED;
	for (size_t i = 0; i < TOKEN_LEN; i++)
		out[i] = (s[i] >= 'A' && s[i] <= 'F') ? (char)(s[i] - 'A' + 'a') : s[i];
	out[TOKEN_LEN] = '\0';
	return TOKEN_OK;
}

/* libuuid, as the contract asks. It costs: util-linux 2.38 reseeds libc's
 * random() on every call (srandom plus getpid/getuid/getppid/gettid:
 * ~9,000 instructions and 5 syscalls per UUID, measured with callgrind and
 * strace), about a third of POST /tokens' instructions in our process. */
void token_generate(char out[TOKEN_LEN + 1])
{
	uuid_t u;
	uuid_generate_random(u);
	uuid_unparse_lower(u, out);
}

_Static_assert(TOKEN_KEY_LEN == UTIL_BASE64URL_LEN(16), "a token is 16 bytes");

void token_key_name(const char *token, char out[TOKEN_KEY_LEN + 1])
{
	unsigned char u[16];

	/* The token is valid: 32 hex digits and 4 dashes. (uuid_parse would
	 * call strtoul ten times: a tenth of POST /tokens' instructions.) */
	for (size_t i = 0, b = 0; b < sizeof u; i += 2, b++) {
		if (token[i] == '-')
			i++;
		u[b] = (unsigned char)(hex_value(token[i]) << 4 | hex_value(token[i + 1]));
	}
	util_base64url(u, sizeof u, out);
}

/* antireplay's namespace for order ids (a random UUID, fixed for good:
 * changing it renames every future order of a retried token). */
static const char order_id_namespace[TOKEN_LEN + 1] = "5b0c3f7e-8d2a-4c61-9e57-3a1f6d28b4c9";

void token_uuid5(const char ns[TOKEN_LEN + 1], const char *name, size_t len,
                 char out[TOKEN_LEN + 1])
{
	uuid_t space, id;

	if (uuid_parse(ns, space) != 0)
		abort(); /* a namespace is one of our constants */
	uuid_generate_sha1(id, space, name, len);
	uuid_unparse_lower(id, out);
}

void token_order_id(const char *identity, const char *token, char out[TOKEN_LEN + 1])
{
	struct strbuf name = STRBUF_INIT;

	strbuf_puts(&name, identity);
	strbuf_putc(&name, '\0');
	strbuf_puts(&name, token);
	token_uuid5(order_id_namespace, name.data, name.len, out);
	strbuf_free(&name);
}
