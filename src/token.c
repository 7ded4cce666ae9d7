/* token: UUID syntax, generation, the Redis name. */
#include "token.h"

#include <string.h>

#include <uuid/uuid.h>

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

void token_key_name(const char *token, char out[TOKEN_KEY_LEN + 1])
{
	static const char b64url[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned char u[16];
	size_t o = 0;

	/* The token is valid: 32 hex digits and 4 dashes. (uuid_parse would
	 * call strtoul ten times: a tenth of POST /tokens' instructions.) */
	for (size_t i = 0, b = 0; b < sizeof u; i += 2, b++) {
		if (token[i] == '-')
			i++;
		u[b] = (unsigned char)(hex_value(token[i]) << 4 | hex_value(token[i + 1]));
	}
	/* 16 bytes = 5 groups of 3 (20 characters) and one byte (2 more). */
	for (size_t i = 0; i < 15; i += 3) {
		unsigned v = (unsigned)u[i] << 16 | (unsigned)u[i + 1] << 8 | u[i + 2];
		out[o++] = b64url[v >> 18];
		out[o++] = b64url[(v >> 12) & 63];
		out[o++] = b64url[(v >> 6) & 63];
		out[o++] = b64url[v & 63];
	}
	out[o++] = b64url[u[15] >> 2];
	out[o++] = b64url[(u[15] & 3) << 4];
	out[o] = '\0';
}
