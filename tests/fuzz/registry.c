/* fuzz registry: the targets linked into this program (see fuzz.h). */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_TARGETS_MAX 32

static struct {
	const char *name;
	fuzz_fn fn;
} targets[FUZZ_TARGETS_MAX];
static int n_targets;

void fuzz_register(const char *name, fuzz_fn fn)
{
	if (n_targets == FUZZ_TARGETS_MAX) {
		fprintf(stderr, "fuzz: more than %d targets; raise FUZZ_TARGETS_MAX\n",
		        FUZZ_TARGETS_MAX);
		abort();
	}
	targets[n_targets].name = name;
	targets[n_targets].fn = fn;
	n_targets++;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void fuzz_list(void)
{
	const char *names[FUZZ_TARGETS_MAX];

	for (int i = 0; i < n_targets; i++)
		names[i] = targets[i].name;
	qsort(names, (size_t)n_targets, sizeof names[0], by_name);
	for (int i = 0; i < n_targets; i++)
		printf("%s\n", names[i]);
}

fuzz_fn fuzz_find(const char *name)
{
	for (int i = 0; i < n_targets; i++)
		if (strcmp(targets[i].name, name) == 0)
			return targets[i].fn;
	fprintf(stderr, "fuzz: no target '%s'; the targets are:\n", name ? name : "(none)");
	for (int i = 0; i < n_targets; i++)
		fprintf(stderr, "  %s\n", targets[i].name);
	return NULL;
}
