/* fuzz: how a fuzz target is written, and the registry that finds it by
 * name. Every tests/fuzz/fuzz_<name>.c defines one target with
 * FUZZ_TARGET(name) { ... } and is linked into both programs: `replay`
 * (make check: replays the corpora with any compiler) and, with
 * --enable-fuzzing, `fuzz` (libFuzzer). The sources listed once in
 * tests/fuzz/local.mk are the list of targets: each registers itself before
 * main, so nothing else names them. */
#ifndef AR_FUZZ_H
#define AR_FUZZ_H

#include <stddef.h>
#include <stdint.h>

typedef int (*fuzz_fn)(const uint8_t *data, size_t size);

/* Adds a target (called before main by FUZZ_TARGET). */
void fuzz_register(const char *name, fuzz_fn fn);

/* The target called name, or NULL (then the names are on stderr). */
fuzz_fn fuzz_find(const char *name);

/* Prints each target's name on a line of its own, sorted. */
void fuzz_list(void);

/* Defines target name: the body takes data and size and aborts on a bug. */
#define FUZZ_TARGET(name)                                                   \
	static int fuzz_##name(const uint8_t *data, size_t size);           \
	__attribute__((constructor)) static void fuzz_register_##name(void) \
	{                                                                   \
		fuzz_register(#name, fuzz_##name);                          \
	}                                                                   \
	static int fuzz_##name(const uint8_t *data, size_t size)

#endif
