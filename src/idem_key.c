/* idem_key: client and issued key syntax, the key's Redis name. */
#include "idem_key.h"

#include <string.h>

#include "sha256.h"
#include "util.h"

/* A character of the bare form: visible ASCII but ',' and '"'. */
static int is_bare_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != ',' && c != '"';
}

/* Classifies the unquoted key in out: a UUID becomes a lowercase token. */
static enum token_status classify(struct idem_key *out, int allow_client)
{
	char token[TOKEN_LEN + 1];

	if (token_parse(out->text, out->len, token) == TOKEN_OK) {
		memcpy(out->text, token, TOKEN_LEN + 1);
		out->is_token = 1;
		return TOKEN_OK;
	}
	out->is_token = 0;
	return allow_client ? TOKEN_OK : TOKEN_MALFORMED;
}

enum token_status idem_key_from_text(const char *s, size_t len, int allow_client,
                                     struct idem_key *out)
{
	out->len = 0;
	out->text[0] = '\0';
	if (len == 0 || len > IDEM_KEY_MAX)
		return TOKEN_MALFORMED;
	for (size_t i = 0; i < len; i++)
		if (!is_bare_char((unsigned char)s[i]))
			return TOKEN_MALFORMED;
	memcpy(out->text, s, len);
	out->text[len] = '\0';
	out->len = len;
	return classify(out, allow_client);
}

/* The inside of an sf-string (RFC 8941 3.3.3), s[0..len) between the
 * quotes: printable ASCII, '"' and '\' only escaped. */
static enum token_status unquote(const char *s, size_t len, int allow_client, struct idem_key *out)
{
	size_t n = 0;

	out->len = 0;
	out->text[0] = '\0';
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\\') {
			if (++i == len || (s[i] != '"' && s[i] != '\\'))
				return TOKEN_MALFORMED;
			c = (unsigned char)s[i];
		} else if (c < 0x20 || c >= 0x7f || c == '"') {
			return TOKEN_MALFORMED;
		}
		if (n == IDEM_KEY_MAX)
			return TOKEN_MALFORMED;
		out->text[n++] = (char)c;
	}
	if (n == 0)
		return TOKEN_MALFORMED;
	out->text[n] = '\0';
	out->len = n;
	return classify(out, allow_client);
}

static int is_ows(char c)
{
	return c == ' ' || c == '\t';
}

enum token_status idem_key_from_header(const char *value, int allow_client, struct idem_key *out)
{
	out->len = 0;
	out->text[0] = '\0';
	if (!value)
		return TOKEN_ABSENT;
	const char *start = value, *end = value + strlen(value);
	while (start < end && is_ows(*start))
		start++;
	while (end > start && is_ows(end[-1]))
		end--;
	if (start == end)
		return TOKEN_ABSENT;
	if (*start == '"') {
		if (end - start < 2 || end[-1] != '"')
			return TOKEN_MALFORMED;
		return unquote(start + 1, (size_t)(end - start - 2), allow_client, out);
	}
	return idem_key_from_text(start, (size_t)(end - start), allow_client, out);
}

_Static_assert(IDEM_KEY_NAME_LEN == UTIL_BASE64URL_LEN(SHA256_LEN), "a SHA-256 is 32 bytes");

void idem_key_name(const char *identity, const struct idem_key *key,
                   char out[IDEM_KEY_NAME_LEN + 1])
{
	unsigned char d[SHA256_LEN];
	struct sha256 h;

	/* The identity ends at its NUL: no key can be another identity's. */
	sha256_init(&h);
	sha256_update(&h, identity, strlen(identity) + 1);
	sha256_update(&h, key->text, key->len);
	sha256_final(&h, d);
	util_base64url(d, sizeof d, out);
}

enum token_status idem_key_from_request(const struct ar_request *req, int allow_client,
                                        struct idem_key *out)
{
	/* nginx passes a repeated header twice; Apache/lighttpd join with ", ",
	 * which no key holds. */
	if (request_param_count(req, "HTTP_IDEMPOTENCY_KEY") > 1)
		return TOKEN_MALFORMED;
	return idem_key_from_header(request_param(req, "HTTP_IDEMPOTENCY_KEY"), allow_client, out);
}
