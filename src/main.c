/* antireplay-fcgi: arguments, signals and the FastCGI accept loop. One
 * process serves one request at a time on the listening socket handed to it
 * as fd 0; how many processes run is the supervisor's business. The only
 * file that exits. */
#include "ac_config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "cli.h"
#include "config.h"
#include "fcgi_io.h"
#include "log.h"
#include "store.h"
#include "util.h"

static volatile sig_atomic_t stop_requested;

static void usage(FILE *out)
{
	fputs("Usage: antireplay-fcgi [-c FILE] [--check-config]\n"
	      "       antireplay-fcgi --help | --version\n"
	      "\n"
	      "A FastCGI responder that stops duplicate orders with one-time tokens kept\n"
	      "in Redis. It serves FastCGI on the listening socket it is given as file\n"
	      "descriptor 0, one request at a time, until SIGTERM, SIGINT, SIGHUP or\n"
	      "SIGUSR1; the request in flight is finished first, then it exits 0.\n"
	      "SIGUSR2 and SIGPIPE are ignored.\n"
	      "\n"
	      "Run several processes under a supervisor, for example:\n"
	      "  spawn-fcgi -s /run/antireplay/antireplay.sock -M 0660 -U www-data \\\n"
	      "    -b 8 -n -- /usr/bin/multiwatch -f 4 -- antireplay-fcgi -c FILE\n"
	      "or systemd socket activation (StandardInput=socket), lighttpd's bin-path,\n"
	      "or Apache mod_fcgid.\n"
	      "\n",
	      out);
	cli_print_options(out, NULL, 0);
	fputs("\n"
	      "The configuration is a file of 'key = value' lines; '#' at the start of a\n"
	      "line begins a comment. Keys:",
	      out);
	cli_print_keys(out, CONFIG_FCGI, 27);
	fprintf(out,
	        ".\n"
	        "See antireplay.conf(5), antireplay-fcgi(8), and the commented example\n"
	        "shipped with the package.\n"
	        "\n"
	        "Logs go to syslog (facility daemon) unless 'log = stderr'.\n"
	        "\n"
	        "Exit status: 0 on a clean shutdown or a valid --check-config; 1 for a bad\n"
	        "configuration, a bad argument, or when file descriptor 0 is not a FastCGI\n"
	        "listening socket.\n"
	        "\n"
	        "Report bugs to: %s\n",
	        PACKAGE_BUGREPORT);
}

/* Runs for SIGTERM/SIGINT/SIGHUP/SIGUSR1, installed without SA_RESTART so a
 * blocking accept() returns. Requests in flight have these blocked. */
static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
	fcgi_io_shutdown_pending();
}

static void install_signals(sigset_t *deferred)
{
	static const int stop_signals[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1};
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL); /* hiredis writes with plain write() */
	/* multiwatch passes USR2 on to its children; by default it would kill
	 * every worker mid-request. We have nothing to reload: ignore it. */
	sigaction(SIGUSR2, &sa, NULL);

	sigemptyset(deferred);
	sa.sa_handler = on_stop_signal;
	sa.sa_flags = 0;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof stop_signals / sizeof stop_signals[0]; i++) {
		sigaction(stop_signals[i], &sa, NULL);
		sigaddset(deferred, stop_signals[i]);
	}
}

static void log_request(const struct ar_request *req, const char *route,
                        const struct ar_response *resp, double started)
{
	const char *method = request_param(req, "REQUEST_METHOD");
	log_info("%s %s %d %.2fms %s", method ? method : "-", route, resp->status,
	         util_now_ms() - started, resp->log_label);
}

/* Serves requests until a stop signal or a listening-socket error. */
static void serve(struct ar_app *app, struct fcgi_conn *conn, const sigset_t *deferred)
{
	while (!stop_requested) {
		struct ar_request req;
		struct ar_response resp;
		const char *route;

		if (fcgi_io_accept(conn) < 0)
			break;
		/* libfcgi does not retry reads and writes on EINTR: keep the stop
		 * signals pending until the request is finished. */
		sigprocmask(SIG_BLOCK, deferred, NULL);
		double started = util_now_ms();
		response_init(&resp);
		fcgi_io_read_request(conn, &req);
		app_handle(app, &req, &resp, &route);
		if (fcgi_io_write_response(conn, &resp) < 0)
			log_info("client went away before the response to %s was written", route);
		log_request(&req, route, &resp, started);
		response_free(&resp);
		fcgi_io_finish(conn);
		sigprocmask(SIG_UNBLOCK, deferred, NULL);
	}
}

int main(int argc, char **argv)
{
	struct cli_options opt;
	struct ar_config cfg;
	char err[CONFIG_ERR_LEN];
	sigset_t deferred;
	int rc;

	rc = cli_parse(argc, argv, "antireplay-fcgi", usage, NULL, NULL, &opt);
	if (rc)
		return rc - 1;
	rc = cli_load_config("antireplay-fcgi", &opt, &cfg);
	if (rc >= 0)
		return rc;

	log_open("antireplay-fcgi", cfg.log_to_stderr, cfg.log_level);
	install_signals(&deferred);
	struct fcgi_conn *conn =
	    fcgi_io_new(0, cfg.max_body, cfg.client_timeout_ms, err, sizeof err);
	if (!conn) {
		log_error("%s", err);
		if (!cfg.log_to_stderr)
			fprintf(stderr, "antireplay-fcgi: %s\n", err);
		config_free(&cfg);
		return 1;
	}

	struct store *store = store_new(&cfg);
	if (store_connect(store) != STORE_OK)
		log_warn("starting without Redis; requests get 503 until it answers");
	struct ar_app app = {.config = &cfg, .store = store};
	log_info("antireplay-fcgi %s serving (redis %s)", PACKAGE_VERSION, store_where(store));
	if (cfg.form_page_html && !cfg.form_success_url[0])
		/* Fine for a page whose script posts JSON; a plain form posted
		 * from it would show the shopper our JSON. */
		log_warn("form_page is set without form_success_url and form_error_url: a "
		         "plain form posted from it gets JSON, not the shop's pages");
	serve(&app, conn, &deferred);
	log_info("shutting down");

	store_flush(store);
	store_free(store);
	fcgi_io_free(conn);
	config_free(&cfg);
	log_close();
	return 0;
}
