/* token: UUID syntax, the Idempotency-Key header forms, generation. */
#include "token.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sys/random.h>
#include <uuid/uuid.h>

#include "log.h"

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

static int is_ows(char c)
{
	return c == ' ' || c == '\t';
}

enum token_status token_from_header(const char *value, char out[TOKEN_LEN + 1])
{
	if (!value)
		return TOKEN_ABSENT;
	const char *start = value, *end = value + strlen(value);
	while (start < end && is_ows(*start))
		start++;
	while (end > start && is_ows(end[-1]))
		end--;
	if (start == end)
		return TOKEN_ABSENT;
	/* The structured-field form of the IETF draft: a quoted string. */
	if (end - start >= 2 && *start == '"' && end[-1] == '"') {
		start++;
		end--;
	}
	return token_parse(start, (size_t)(end - start), out);
}

/* Random bytes for the next UUIDs. libuuid's uuid_generate_random reseeds
 * libc's random() on every call (six syscalls and ~9,000 instructions per
 * UUID, measured with callgrind); one getrandom() per RANDOM_BATCH UUIDs
 * costs a fraction of that. Each byte is used once. A forked child must
 * not hand out its parent's bytes: the atfork handler empties the pool. */
#define RANDOM_BATCH 64
static unsigned char random_pool[RANDOM_BATCH * 16];
static size_t random_used = sizeof random_pool;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void forget_pool(void)
{
	memset(random_pool, 0, sizeof random_pool);
	random_used = sizeof random_pool;
}

static void register_atfork(void)
{
	pthread_atfork(NULL, NULL, forget_pool);
}

static void refill_pool(void)
{
	size_t got = 0;

	pthread_once(&atfork_once, register_atfork);
	while (got < sizeof random_pool) {
		ssize_t n = getrandom(random_pool + got, sizeof random_pool - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_error("getrandom failed: %s; cannot make unguessable tokens",
			          n < 0 ? strerror(errno) : "no bytes");
			abort();
		}
		got += (size_t)n;
	}
	random_used = 0;
}

void token_generate(char out[TOKEN_LEN + 1])
{
	uuid_t u;

	if (random_used + sizeof u > sizeof random_pool)
		refill_pool();
	memcpy(u, random_pool + random_used, sizeof u);
	memset(random_pool + random_used, 0, sizeof u);
	random_used += sizeof u;
	u[6] = (unsigned char)((u[6] & 0x0f) | 0x40); /* version 4 */
	u[8] = (unsigned char)((u[8] & 0x3f) | 0x80); /* RFC 4122 variant */
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
