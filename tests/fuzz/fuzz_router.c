/* Fuzz target: route path computation and route matching. Input:
 * "METHOD\0BASE_PATH\0REQUEST_URI" (a missing piece is NULL). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "router.h"

FUZZ_TARGET(router)
{
	char *buf = malloc(size + 1);
	const char *piece[3] = {NULL, NULL, NULL};
	char path[1024];
	size_t n = 0;
	struct ar_route_match m;

	memcpy(buf, data, size);
	buf[size] = '\0';
	for (char *p = buf; p <= buf + size && n < 3; p += strlen(p) + 1)
		piece[n++] = p;
	const char *base = piece[1] ? piece[1] : "";
	if (router_route_path(base, piece[2], "/x", "/y", path, sizeof path) == 0) {
		if (path[0] != '/' || strstr(path, "//") || strchr(path, '%'))
			abort(); /* fail closed: nothing odd gets through */
		if (router_match(piece[0], path, &m) == ROUTER_OK && strlen(m.arg) > ROUTER_ARG_MAX)
			abort();
	}
	free(buf);
	return 0;
}
