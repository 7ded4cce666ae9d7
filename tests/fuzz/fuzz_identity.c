/* Fuzz target: identity extraction from params (header and cookie binds)
 * and the Cookie header parser. Input: NUL-separated "NAME=VALUE" params. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "config.h"
#include "identity.h"
#include "request.h"

#define MAX_PARAMS 32

FUZZ_TARGET(identity)
{
	char *buf = malloc(size + 1);
	char *env[MAX_PARAMS + 1];
	size_t n = 0;
	char out[IDENTITY_MAX + 1], key[IDENTITY_MAX + 64];
	struct ar_config cfg;
	struct ar_request req = {0};

	memcpy(buf, data, size);
	buf[size] = '\0';
	for (char *p = buf; p < buf + size && n < MAX_PARAMS; p += strlen(p) + 1)
		env[n++] = p;
	env[n] = NULL;
	req.env = env;

	config_init(&cfg);
	cfg.bind_name = strdup("HTTP_X_USER");
	for (int bind = BIND_NONE; bind <= BIND_COOKIE; bind++) {
		cfg.bind = (enum ar_bind)bind;
		if (bind == BIND_COOKIE) {
			free(cfg.bind_name);
			cfg.bind_name = strdup("sid");
		}
		if (identity_extract(&cfg, &req, out) == 0) {
			if (strlen(out) > IDENTITY_MAX)
				abort();
			(void)identity_client_key(out, request_param(&req, "REMOTE_ADDR"), key,
			                          sizeof key);
		}
	}
	(void)identity_cookie_value(buf, "sid", out, sizeof out);
	config_free(&cfg);
	free(buf);
	return 0;
}
