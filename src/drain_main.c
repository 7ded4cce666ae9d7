/* antireplay-drain: arguments, signals and the drain loop with its backoff.
 * One process; run several for throughput or redundancy (each is its own
 * consumer of the group). The only file of the drain that exits. */
#include "ac_config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "drain.h"
#include "log.h"
#include "orderdb.h"
#include "util.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define SUMMARY_INTERVAL_MS 60000.0

static const struct cli_option own_options[] = {
    {"    --init-schema", "create the tables that are missing in db_name (the\n"
                          "built-in conf/mariadb/schema.sql), then exit"},
};

static void usage(FILE *out)
{
	fputs("Usage: antireplay-drain [-c FILE] [--check-config | --init-schema]\n"
	      "       antireplay-drain --help | --version\n"
	      "\n"
	      "Moves every order from the Redis stream <key_prefix>orders into the\n"
	      "shop's MariaDB (tables orders and order_lines), exactly once in effect:\n"
	      "it reads with the consumer group " DRAIN_GROUP ", inserts each batch in\n"
	      "one transaction (an order already there is left as it is), and only\n"
	      "then acknowledges the entries, gives the orders' hashes in Redis their\n"
	      "order_ttl and trims the stream below what every consumer group still\n"
	      "needs. Entries idle for drain_claim_ms in another consumer (a drain that\n"
	      "died) are claimed. An entry that is not an order goes to\n"
	      "<key_prefix>orders:dead with the reason. While Redis or MariaDB fails it\n"
	      "retries the same batch with a backoff, and never exits for that.\n"
	      "SIGTERM, SIGINT, SIGHUP or SIGUSR1: the batch in hand is finished, then\n"
	      "it exits 0. SIGUSR2 and SIGPIPE are ignored. Run as many as you like.\n"
	      "\n",
	      out);
	cli_print_options(out, own_options, sizeof own_options / sizeof own_options[0]);
	fputs("\n"
	      "The configuration file is antireplay-fcgi's; the drain checks every key\n"
	      "and uses:",
	      out);
	cli_print_keys(out, CONFIG_DRAIN, 10);
	fprintf(out,
	        ".\n"
	        "See antireplay-drain(8), antireplay.conf(5), and the commented example\n"
	        "shipped with the package.\n"
	        "\n"
	        "Logs go to syslog (facility daemon) unless 'log = stderr'.\n"
	        "\n"
	        "Exit status: 0 after a stop signal, a valid --check-config or a\n"
	        "successful --init-schema; 1 for a bad configuration or argument, or a\n"
	        "failed --init-schema.\n"
	        "\n"
	        "Report bugs to: %s\n",
	        PACKAGE_BUGREPORT);
}

/* --init-schema, the drain's own argument. */
static int init_schema_arg(const char *arg, void *ctx)
{
	if (strcmp(arg, "--init-schema") != 0)
		return 0;
	*(int *)ctx = 1;
	return 1;
}

/* The stop signals stay blocked the whole time, so nothing in hiredis or
 * Connector/C ever sees EINTR; the loop looks for them between steps and
 * waits for them during a backoff (sigtimedwait). A step may hold one for
 * up to drain_block_ms (XREADGROUP BLOCK) plus a batch. */
static void block_signals(sigset_t *stop)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	/* As antireplay-fcgi: SIGUSR1 stops, SIGUSR2 is ignored (neither may
	 * kill the process by default mid-batch). */
	sigaction(SIGUSR2, &sa, NULL);
	sigemptyset(stop);
	sigaddset(stop, SIGTERM);
	sigaddset(stop, SIGINT);
	sigaddset(stop, SIGHUP);
	sigaddset(stop, SIGUSR1);
	sigprocmask(SIG_BLOCK, stop, NULL);
}

/* Waits up to ms for a stop signal: 1 if one came. */
static int stop_signal_within(const sigset_t *stop, long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	int sig;

	do
		sig = sigtimedwait(stop, NULL, &ts);
	while (sig < 0 && errno == EINTR);
	if (sig > 0)
		log_info("%s received", strsignal(sig));
	return sig > 0;
}

static void log_summary(const struct drain_stats *now, struct drain_stats *last)
{
	if (now->persisted == last->persisted && now->redelivered == last->redelivered &&
	    now->dead == last->dead)
		return;
	log_info("last minute: %llu orders persisted, %llu redelivered and skipped (in the "
	         "database already), %llu dead-lettered; %llu persisted since start",
	         now->persisted - last->persisted, now->redelivered - last->redelivered,
	         now->dead - last->dead, now->persisted);
	*last = *now;
}

/* Steps until a stop signal; Redis or database failures back off from 0.1 s
 * to 5 s. */
static void run(struct drain *d, const sigset_t *stop)
{
	struct drain_stats stats, last = {0};
	double next_summary = util_now_ms() + SUMMARY_INTERVAL_MS;
	long backoff = BACKOFF_MIN_MS;

	while (!stop_signal_within(stop, 0)) {
		if (drain_step(d) == DRAIN_FAILED) {
			if (stop_signal_within(stop, backoff))
				break;
			backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
		} else {
			backoff = BACKOFF_MIN_MS;
		}
		if (util_now_ms() >= next_summary) {
			drain_get_stats(d, &stats);
			log_summary(&stats, &last);
			next_summary = util_now_ms() + SUMMARY_INTERVAL_MS;
		}
	}
	drain_get_stats(d, &stats);
	log_summary(&stats, &last);
	if (drain_in_hand(d))
		log_warn("exiting with %u entries not yet acknowledged: they stay pending and are "
		         "claimed by a drain after drain_claim_ms (the database keeps whatever of "
		         "them was committed)",
		         drain_in_hand(d));
}

static int init_schema(const struct ar_config *cfg)
{
	struct orderdb *db = orderdb_new(cfg);
	int rc = orderdb_init_schema(db);

	if (rc == 0)
		log_info("mariadb %s: schema applied to database %s", orderdb_where(db),
		         cfg->db_name);
	orderdb_free(db);
	return rc < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct cli_options opt;
	struct ar_config cfg;
	char host[128], consumer[192];
	int init_only = 0;
	sigset_t stop;
	int rc;

	rc = cli_parse(argc, argv, "antireplay-drain", usage, init_schema_arg, &init_only, &opt);
	if (rc)
		return rc - 1;
	rc = cli_load_config("antireplay-drain", &opt, &cfg);
	if (rc >= 0)
		return rc;

	log_open("antireplay-drain", cfg.log_to_stderr || init_only, cfg.log_level);
	if (init_only) {
		rc = init_schema(&cfg);
		config_free(&cfg);
		log_close();
		return rc;
	}
	block_signals(&stop);
	if (gethostname(host, sizeof host) < 0)
		strcpy(host, "localhost");
	host[sizeof host - 1] = '\0';
	snprintf(consumer, sizeof consumer, "%s:%ld", host, (long)getpid());

	struct drain *d = drain_new(&cfg, consumer);
	log_info("antireplay-drain %s: consumer %s of group %s on %sorders, into database %s",
	         PACKAGE_VERSION, consumer, DRAIN_GROUP, cfg.key_prefix, cfg.db_name);
	run(d, &stop);
	log_info("shutting down");
	drain_free(d);
	config_free(&cfg);
	log_close();
	return 0;
}
