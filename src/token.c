/* token: UUID syntax, the Idempotency-Key header forms, generation. */
#include "token.h"

#include <string.h>

#include <uuid/uuid.h>

static int is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
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

void token_generate(char out[TOKEN_LEN + 1])
{
	uuid_t u;
	uuid_generate_random(u);
	uuid_unparse_lower(u, out);
}
