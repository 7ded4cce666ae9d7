/* scripts: lookups over the table that scripts/embed.sh generates (ar_scripts). */
#include "scripts.h"

#include <string.h>

extern const struct ar_script ar_scripts_table[];
extern const unsigned ar_scripts_count;

const struct ar_script *scripts_all(unsigned *n)
{
	*n = ar_scripts_count;
	return ar_scripts_table;
}

const struct ar_script *scripts_find(const char *name)
{
	for (unsigned i = 0; i < ar_scripts_count; i++)
		if (strcmp(ar_scripts_table[i].name, name) == 0)
			return &ar_scripts_table[i];
	return NULL;
}
