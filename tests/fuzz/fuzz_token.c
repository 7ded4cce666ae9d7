/* Fuzz target: token syntax, and the Idempotency-Key header under keys =
 * issued (idem_key: only tokens are keys). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "idem_key.h"
#include "token.h"

FUZZ_TARGET(token)
{
	char out[TOKEN_LEN + 1];
	char *value = malloc(size + 1);
	struct idem_key key;

	memcpy(value, data, size);
	value[size] = '\0';
	if (idem_key_from_header(value, 0, &key) == TOKEN_OK) {
		if (!key.is_token || key.len != TOKEN_LEN || !token_is_valid(key.text, TOKEN_LEN))
			abort();
		for (size_t i = 0; i < TOKEN_LEN; i++)
			if (key.text[i] >= 'A' && key.text[i] <= 'F')
				abort(); /* always lowercase */
	}
	if (token_parse((const char *)data, size, out) == TOKEN_OK && size != TOKEN_LEN)
		abort();
	free(value);
	return 0;
}
