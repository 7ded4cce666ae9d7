/* Fuzz target: the application/x-www-form-urlencoded decoder. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "form.h"

FUZZ_TARGET(form)
{
	struct form f;
	char err[128];

	if (form_parse((const char *)data, size, 64, &f, err, sizeof err) == 0) {
		/* Every decoded value is no longer than the whole body. */
		for (size_t i = 0; i < f.n_fields; i++)
			if (f.fields[i].value_len > size || strlen(f.fields[i].name) > size)
				abort();
		(void)form_count(&f, "sku");
		(void)form_get(&f, "token");
		form_free(&f);
	} else if (f.n_fields != 0 || f.fields != NULL) {
		abort(); /* a failed parse leaves the form empty */
	}
	return 0;
}
