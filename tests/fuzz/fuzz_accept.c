/* Fuzz target: the Accept header (accept.h): any bytes give a quality in
 * 0..1000, and "prefers HTML" agrees with the two qualities it compares. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "accept.h"
#include "fuzz.h"

FUZZ_TARGET(accept)
{
	char *value = malloc(size + 1);

	memcpy(value, data, size);
	value[size] = '\0';
	int html = accept_quality(value, "text", "html");
	int json = accept_quality(value, "application", "json");
	if (html < 0 || html > 1000 || json < 0 || json > 1000)
		abort();
	if (accept_prefers_html(value) != (html > 0 && html > json))
		abort();
	free(value);
	return 0;
}
