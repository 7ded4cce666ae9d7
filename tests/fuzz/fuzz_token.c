/* Fuzz target: token syntax and the Idempotency-Key header parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "token.h"

FUZZ_TARGET(token)
{
	char out[TOKEN_LEN + 1];
	char *value = malloc(size + 1);

	memcpy(value, data, size);
	value[size] = '\0';
	if (token_from_header(value, out) == TOKEN_OK) {
		if (strlen(out) != TOKEN_LEN || !token_is_valid(out, TOKEN_LEN))
			abort();
		for (size_t i = 0; i < TOKEN_LEN; i++)
			if (out[i] >= 'A' && out[i] <= 'F')
				abort(); /* always lowercase */
	}
	if (token_parse((const char *)data, size, out) == TOKEN_OK && size != TOKEN_LEN)
		abort();
	free(value);
	return 0;
}
