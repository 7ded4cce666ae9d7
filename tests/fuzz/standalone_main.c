/* replay: runs a fuzz target over files, without libFuzzer: how `make
 * check` replays the seed corpora and every crash ever found, with any
 * compiler.
 *
 *   replay TARGET PATH...   each PATH a file, or a folder whose files all run
 *   replay --list           the targets linked in, one a line */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

#define INPUT_MAX (1024 * 1024)

static int run_file(fuzz_fn target, const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	size_t n;

	if (!f) {
		perror(path);
		return -1;
	}
	buf = malloc(INPUT_MAX);
	n = fread(buf, 1, INPUT_MAX, f);
	fclose(f);
	/* An exact-size copy, so ASan sees reads past the input's end. */
	uint8_t *exact = malloc(n ? n : 1);
	memcpy(exact, buf, n);
	free(buf);
	target(exact, n);
	free(exact);
	return 0;
}

static int run_path(fuzz_fn target, const char *path, unsigned *count)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		perror(path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		(*count)++;
		return run_file(target, path);
	}
	DIR *d = opendir(path);
	struct dirent *e;
	int rc = 0;
	if (!d) {
		perror(path);
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		char child[4096];
		if (e->d_name[0] == '.')
			continue;
		snprintf(child, sizeof child, "%s/%s", path, e->d_name);
		if (run_path(target, child, count) < 0)
			rc = -1;
	}
	closedir(d);
	return rc;
}

int main(int argc, char **argv)
{
	unsigned count = 0;
	int rc = 0;
	fuzz_fn target;

	if (argc == 2 && strcmp(argv[1], "--list") == 0) {
		fuzz_list();
		return 0;
	}
	if (argc < 3) {
		fprintf(stderr, "usage: %s TARGET PATH... | --list\n", argv[0]);
		return 2;
	}
	target = fuzz_find(argv[1]);
	if (!target)
		return 2;
	for (int i = 2; i < argc; i++)
		if (run_path(target, argv[i], &count) < 0)
			rc = 1;
	printf("%s %s: %u inputs run\n", argv[0], argv[1], count);
	if (count == 0) {
		fprintf(stderr, "%s %s: no input files\n", argv[0], argv[1]);
		return 1;
	}
	return rc;
}
