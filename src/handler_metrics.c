/* GET /metrics: the counters kept in Redis, in the Prometheus text format,
 * so they add up across every process and host. */
#include "app.h"

#include <stdio.h>
#include <stdlib.h>

#include "util.h"

#define METRICS_MAX 2048

void handle_metrics(struct ar_app *app, const struct ar_request *req,
                    const struct ar_route_match *m, struct ar_response *resp)
{
	struct store_counters c;
	char *text;
	size_t off = 0;

	(void)req, (void)m;
	enum store_status st = store_get_counters(app->store, &c);
	if (st != STORE_OK) {
		app_store_failed(resp, st);
		return;
	}
	text = xmalloc(METRICS_MAX);
	off += (size_t)snprintf(text + off, METRICS_MAX - off,
	                        "# HELP antireplay_tokens_issued_total Tokens issued.\n"
	                        "# TYPE antireplay_tokens_issued_total counter\n"
	                        "antireplay_tokens_issued_total %lld\n"
	                        "# HELP antireplay_rate_limited_total Token requests refused by "
	                        "the rate limit.\n"
	                        "# TYPE antireplay_rate_limited_total counter\n"
	                        "antireplay_rate_limited_total %lld\n"
	                        "# HELP antireplay_submissions_total Order submissions by outcome.\n"
	                        "# TYPE antireplay_submissions_total counter\n",
	                        c.tokens_issued, c.rate_limited);
	for (int i = 0; i < SUBMIT_RESULT_COUNT; i++)
		off += (size_t)snprintf(text + off, METRICS_MAX - off,
		                        "antireplay_submissions_total{outcome=\"%s\"} %lld\n",
		                        store_submit_result_name((enum submit_result)i),
		                        c.submissions[i]);
	response_set_body(resp, 200, "text/plain; version=0.0.4", text, off);
	resp->outcome = "ok";
}
