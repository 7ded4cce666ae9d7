/* cli: what the command lines of antireplay-fcgi and antireplay-drain
 * share: -c/--config FILE, -t/--check-config, -h/--help, -V/--version,
 * and loading the configuration file with the error on stderr. */
#ifndef AR_CLI_H
#define AR_CLI_H

#include <stdio.h>

#include "config.h"

#define CLI_DEFAULT_CONFIG SYSCONFDIR "/antireplay/antireplay.conf"

struct cli_options {
	const char *config_path; /* CLI_DEFAULT_CONFIG unless -c */
	int check_only;          /* -t */
};

/* An option as --help shows it. */
struct cli_option {
	const char *names; /* "-c, --config FILE" */
	const char *help;  /* lines joined by '\n' */
};

/* For --help: "Options:" then every option, the shared ones with the
 * program's own (own[0..n), shown after -t), aligned. */
void cli_print_options(FILE *out, const struct cli_option *own, size_t n);

/* A program's own argument: 1 when arg is one (and is recorded in ctx),
 * 0 when it is not. */
typedef int (*cli_extra_fn)(const char *arg, void *ctx);

/* Parses argv for prog; usage prints the help to a stream; extra (may be
 * NULL) is offered each argument that is not a shared one. Returns 0 to
 * go on, or the exit status + 1 when the program should stop (after
 * --help, --version, or a bad argument, which is reported). */
int cli_parse(int argc, char **argv, const char *prog, void (*usage)(FILE *out), cli_extra_fn extra,
              void *ctx, struct cli_options *opt);

/* For --help: the keys `reader` (a CONFIG_* bit) uses, comma-separated
 * and wrapped at 76 columns, the first after column col of the line
 * printed so far; no newline at the end. */
void cli_print_keys(FILE *out, unsigned reader, size_t col);

/* config_init and config_load_file for opt: returns -1 to go on with cfg
 * loaded, or the exit status (1: the error is on stderr; 0: --check-config
 * and the file is valid). cfg is freed unless it returns -1. */
int cli_load_config(const char *prog, const struct cli_options *opt, struct ar_config *cfg);

#endif
