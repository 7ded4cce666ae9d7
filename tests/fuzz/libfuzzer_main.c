/* The libFuzzer program: every target in one binary, the one to fuzz named
 * by AR_FUZZ_TARGET (libFuzzer owns the command line). `make fuzz` sets it
 * for each target in turn. */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static fuzz_fn target;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	target = fuzz_find(getenv("AR_FUZZ_TARGET"));
	if (!target) {
		fprintf(stderr, "fuzz: set AR_FUZZ_TARGET to one of the targets above\n");
		exit(2);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return target(data, size);
}
