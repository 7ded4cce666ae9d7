/* Fuzz target: the Idempotency-Key parser in both modes. A key taken is
 * 1..IDEM_KEY_MAX printable ASCII bytes; keys = issued takes only UUIDs;
 * the key written back as an sf-string parses to the same key; its Redis
 * name is always IDEM_KEY_NAME_LEN characters. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "idem_key.h"

static void check_key(const struct idem_key *k)
{
	char name[IDEM_KEY_NAME_LEN + 1], quoted[2 * IDEM_KEY_MAX + 3];
	struct idem_key again;
	size_t n = 0;

	if (k->len == 0 || k->len > IDEM_KEY_MAX || k->text[k->len] != '\0')
		abort();
	for (size_t i = 0; i < k->len; i++)
		if (k->text[i] < 0x20 || k->text[i] > 0x7e)
			abort();
	quoted[n++] = '"';
	for (size_t i = 0; i < k->len; i++) {
		if (k->text[i] == '"' || k->text[i] == '\\')
			quoted[n++] = '\\';
		quoted[n++] = k->text[i];
	}
	quoted[n++] = '"';
	quoted[n] = '\0';
	if (idem_key_from_header(quoted, 1, &again) != TOKEN_OK || again.len != k->len ||
	    memcmp(again.text, k->text, k->len) != 0 || again.is_token != k->is_token)
		abort();
	idem_key_name("i:fuzz", k, name);
	if (strlen(name) != IDEM_KEY_NAME_LEN)
		abort();
}

FUZZ_TARGET(idem_key)
{
	char *value = malloc(size + 1);
	struct idem_key k;

	memcpy(value, data, size);
	value[size] = '\0';
	if (idem_key_from_header(value, 1, &k) == TOKEN_OK)
		check_key(&k);
	if (idem_key_from_header(value, 0, &k) == TOKEN_OK && !k.is_token)
		abort();
	if (idem_key_from_text((const char *)data, size, 1, &k) == TOKEN_OK)
		check_key(&k);
	free(value);
	return 0;
}
