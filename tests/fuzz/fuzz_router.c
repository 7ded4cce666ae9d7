/* Fuzz target: route path computation and route matching, and what a gate
 * request reads from the same params (its key from the URL's token
 * parameter, its name). Input: "METHOD\0BASE_PATH\0REQUEST_URI" (a
 * missing piece is NULL). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "gate_request.h"
#include "router.h"

/* As a gate request: a key is one idem_key accepts, and the name is the
 * method and the path, never the query. */
static void check_gate(const char *method, const char *uri)
{
	method = method ? method : "";
	struct strbuf env0 = STRBUF_INIT, env1 = STRBUF_INIT, name = STRBUF_INIT;
	struct idem_key key;

	strbuf_puts(&env0, "REQUEST_METHOD=");
	strbuf_puts(&env0, method);
	strbuf_puts(&env1, "REQUEST_URI=");
	strbuf_puts(&env1, uri ? uri : "");
	char *const env[] = {env0.data, env1.data, NULL};
	struct ar_request req = {.role = ROLE_AUTHORIZER, .env = env};
	for (int allow_client = 0; allow_client <= 1; allow_client++) {
		if (gate_request_key(&req, allow_client, &key) != TOKEN_OK)
			continue;
		if (key.len == 0 || key.len > IDEM_KEY_MAX || strlen(key.text) != key.len ||
		    (!allow_client && !key.is_token))
			abort();
	}
	/* "METHOD /path": the method is the front's, the path stops at '?'. */
	if (gate_request_name(&req, &name) == 0 &&
	    (name.len <= strlen(method) || strchr(name.data + strlen(method) + 1, '?')))
		abort();
	strbuf_free(&env0);
	strbuf_free(&env1);
	strbuf_free(&name);
}

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
	check_gate(piece[0], piece[2]);
	free(buf);
	return 0;
}
