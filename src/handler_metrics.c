/* GET /metrics: the counters kept in Redis, in the Prometheus text format,
 * so they add up across every process and host; and how far each consumer
 * group of the orders stream (antireplay-drain's) is behind. */
#include "app.h"

#include <stdio.h>
#include <stdlib.h>

#include "util.h"

#define METRICS_MAX (2048 + STORE_GROUPS_MAX * 2 * (96 + 2 * STORE_GROUP_NAME_MAX))

/* A group name as a label value: \\, \" and \n escaped (the text format). */
static size_t put_label(char *out, const char *name)
{
	size_t n = 0;

	for (; *name; name++) {
		if (*name == '\\' || *name == '"' || *name == '\n')
			out[n++] = '\\';
		out[n++] = *name == '\n' ? 'n' : *name;
	}
	out[n] = '\0';
	return n;
}

static size_t write_groups(char *text, size_t off, const struct store_stream_group *g, size_t n)
{
	char label[2 * STORE_GROUP_NAME_MAX + 1];

	off += (size_t)snprintf(text + off, METRICS_MAX - off,
	                        "# HELP antireplay_stream_pending Orders stream entries read by "
	                        "a consumer group and not yet acknowledged.\n"
	                        "# TYPE antireplay_stream_pending gauge\n");
	for (size_t i = 0; i < n; i++) {
		put_label(label, g[i].name);
		off += (size_t)snprintf(text + off, METRICS_MAX - off,
		                        "antireplay_stream_pending{group=\"%s\"} %lld\n", label,
		                        g[i].pending);
	}
	off += (size_t)snprintf(text + off, METRICS_MAX - off,
	                        "# HELP antireplay_stream_lag Orders stream entries not yet read "
	                        "by a consumer group.\n"
	                        "# TYPE antireplay_stream_lag gauge\n");
	/* Redis cannot tell the lag after an XDEL in the range: no sample then. */
	for (size_t i = 0; i < n; i++) {
		if (g[i].lag < 0)
			continue;
		put_label(label, g[i].name);
		off += (size_t)snprintf(text + off, METRICS_MAX - off,
		                        "antireplay_stream_lag{group=\"%s\"} %lld\n", label,
		                        g[i].lag);
	}
	return off;
}

void handle_metrics(struct ar_app *app, const struct ar_request *req,
                    const struct ar_route_match *m, struct ar_response *resp)
{
	struct store_counters c;
	struct store_stream_group groups[STORE_GROUPS_MAX];
	size_t n_groups;
	char *text;
	size_t off = 0;

	(void)req, (void)m;
	enum store_status st = store_get_counters(app->store, &c);
	if (st == STORE_OK)
		st = store_get_stream_groups(app->store, groups, STORE_GROUPS_MAX, &n_groups);
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
	off = write_groups(text, off, groups, n_groups);
	response_set_body(resp, 200, "text/plain; version=0.0.4", text, off);
	resp->outcome = "ok";
}
