/* Fuzz target: the configuration file parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "config.h"

FUZZ_TARGET(config)
{
	char *text = malloc(size + 1);
	char err[CONFIG_ERR_LEN];
	struct ar_config cfg;

	memcpy(text, data, size);
	text[size] = '\0';
	config_init(&cfg);
	if (config_load_string(&cfg, "fuzz.conf", text, err, sizeof err) < 0) {
		if (strncmp(err, "fuzz.conf:", 10) != 0)
			abort(); /* every error names the file */
	} else if (cfg.token_ttl < 1 || cfg.max_body < 256 || cfg.redis_timeout_ms < 1) {
		abort();
	}
	config_free(&cfg);
	free(text);
	return 0;
}
