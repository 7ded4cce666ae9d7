/* cli: the shared arguments and the configuration load. */
#include "ac_config.h"

#include "cli.h"

#include <string.h>

int cli_parse(int argc, char **argv, const char *prog, void (*usage)(FILE *out), cli_extra_fn extra,
              void *ctx, struct cli_options *opt)
{
	opt->config_path = CLI_DEFAULT_CONFIG;
	opt->check_only = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return 0 + 1;
		} else if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
			printf("%s %s\n", prog, PACKAGE_VERSION);
			return 0 + 1;
		} else if (strcmp(a, "-t") == 0 || strcmp(a, "--check-config") == 0) {
			opt->check_only = 1;
		} else if ((strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) && i + 1 < argc) {
			opt->config_path = argv[++i];
		} else if (strncmp(a, "--config=", 9) == 0) {
			opt->config_path = a + 9;
		} else if (!extra || !extra(a, ctx)) {
			fprintf(stderr, "%s: bad argument '%s'\n", prog, a);
			usage(stderr);
			return 1 + 1;
		}
	}
	return 0;
}

/* The options every program takes, as cli_parse reads them; the program's
 * own go after SHARED_BEFORE_OWN of them. */
static const struct cli_option shared_options[] = {
    {"-c, --config FILE", "read the configuration from FILE\n(default: " CLI_DEFAULT_CONFIG ")"},
    {"-t, --check-config", "validate the configuration, print the problem if any,\n"
                           "and exit: 0 when it is valid, 1 when it is not"},
    {"-h, --help", "print this help and exit"},
    {"-V, --version", "print the version and exit"},
};
#define SHARED_BEFORE_OWN 2
#define OPTION_NAMES_WIDTH 18

static void print_option(FILE *out, const struct cli_option *o)
{
	const char *line = o->help;

	fprintf(out, "  %-*s ", OPTION_NAMES_WIDTH, o->names);
	for (;;) {
		size_t len = strcspn(line, "\n");
		fprintf(out, "%.*s\n", (int)len, line);
		if (line[len] == '\0')
			break;
		line += len + 1;
		fprintf(out, "%*s", 2 + OPTION_NAMES_WIDTH + 1, "");
	}
}

void cli_print_options(FILE *out, const struct cli_option *own, size_t n)
{
	size_t n_shared = sizeof shared_options / sizeof shared_options[0];

	fputs("Options:\n", out);
	for (size_t i = 0; i < SHARED_BEFORE_OWN; i++)
		print_option(out, &shared_options[i]);
	for (size_t i = 0; i < n; i++)
		print_option(out, &own[i]);
	for (size_t i = SHARED_BEFORE_OWN; i < n_shared; i++)
		print_option(out, &shared_options[i]);
}

void cli_print_keys(FILE *out, unsigned reader, size_t col)
{
	const char *key;
	unsigned readers;
	int first = 1;

	for (size_t i = 0; (key = config_key(i, &readers)); i++) {
		if (!(readers & reader))
			continue;
		if (!first) {
			fputc(',', out);
			col++;
		}
		/* " key" and the ',' or '.' after it must fit in 76 columns. */
		if (col + 1 + strlen(key) + 1 > 76) {
			fputc('\n', out);
			col = 0;
		} else {
			fputc(' ', out);
			col++;
		}
		fputs(key, out);
		col += strlen(key);
		first = 0;
	}
}

int cli_load_config(const char *prog, const struct cli_options *opt, struct ar_config *cfg)
{
	char err[CONFIG_ERR_LEN];

	config_init(cfg);
	if (config_load_file(cfg, opt->config_path, err, sizeof err) < 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		config_free(cfg);
		return 1;
	}
	if (opt->check_only) {
		printf("%s: configuration OK\n", opt->config_path);
		config_free(cfg);
		return 0;
	}
	return -1;
}
