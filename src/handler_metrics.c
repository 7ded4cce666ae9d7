/* GET /metrics: the counters kept in Redis, in the Prometheus text format,
 * so they add up across every process and host; and how far each consumer
 * group of the orders stream (antireplay-drain's) is behind. */
#include "app.h"

#include "strbuf.h"
#include "util.h"

/* A group name as a label value: \\, \" and \n escaped (the text format). */
static void put_label(struct strbuf *out, const char *name)
{
	for (; *name; name++) {
		if (*name == '\\' || *name == '"' || *name == '\n')
			strbuf_putc(out, '\\');
		strbuf_putc(out, *name == '\n' ? 'n' : *name);
	}
}

/* One sample: name{label="value"} v, or name v when label is NULL. */
static void put_sample(struct strbuf *out, const char *name, const char *label, const char *value,
                       long long v)
{
	strbuf_puts(out, name);
	if (label) {
		strbuf_putc(out, '{');
		strbuf_puts(out, label);
		strbuf_puts(out, "=\"");
		put_label(out, value);
		strbuf_puts(out, "\"}");
	}
	strbuf_putc(out, ' ');
	strbuf_put_int(out, v);
	strbuf_putc(out, '\n');
}

static void put_header(struct strbuf *out, const char *name, const char *type, const char *help)
{
	strbuf_puts(out, "# HELP ");
	strbuf_puts(out, name);
	strbuf_putc(out, ' ');
	strbuf_puts(out, help);
	strbuf_puts(out, "\n# TYPE ");
	strbuf_puts(out, name);
	strbuf_putc(out, ' ');
	strbuf_puts(out, type);
	strbuf_putc(out, '\n');
}

static void put_groups(struct strbuf *out, const struct store_stream_group *g, size_t n)
{
	put_header(out, "antireplay_stream_pending", "gauge",
	           "Orders stream entries read by a consumer group and not yet acknowledged.");
	for (size_t i = 0; i < n; i++)
		put_sample(out, "antireplay_stream_pending", "group", g[i].name, g[i].pending);
	put_header(out, "antireplay_stream_lag", "gauge",
	           "Orders stream entries not yet read by a consumer group.");
	/* Redis cannot tell the lag after an XDEL in the range: no sample then. */
	for (size_t i = 0; i < n; i++)
		if (g[i].lag >= 0)
			put_sample(out, "antireplay_stream_lag", "group", g[i].name, g[i].lag);
}

void handle_metrics(struct ar_app *app, const struct ar_request *req,
                    const struct ar_route_match *m, struct ar_response *resp)
{
	struct store_counters c;
	struct store_stream_group groups[STORE_GROUPS_MAX];
	size_t n_groups, len;
	struct strbuf text = STRBUF_INIT;

	(void)req, (void)m;
	enum store_status st = store_get_counters(app->store, &c);
	if (st == STORE_OK)
		st = store_get_stream_groups(app->store, groups, STORE_GROUPS_MAX, &n_groups);
	if (st != STORE_OK) {
		app_store_failed(resp, st);
		return;
	}
	put_header(&text, "antireplay_tokens_issued_total", "counter", "Tokens issued.");
	put_sample(&text, "antireplay_tokens_issued_total", NULL, NULL, c.tokens_issued);
	put_header(&text, "antireplay_rate_limited_total", "counter",
	           "Token requests refused by the rate limit.");
	put_sample(&text, "antireplay_rate_limited_total", NULL, NULL, c.rate_limited);
	put_header(&text, "antireplay_submissions_total", "counter",
	           "Order submissions by outcome.");
	for (int i = 0; i < SUBMIT_RESULT_COUNT; i++)
		put_sample(&text, "antireplay_submissions_total", "outcome",
		           store_submit_result_name((enum submit_result)i), c.submissions[i]);
	put_header(&text, "antireplay_gate_total", "counter",
	           "Gate requests (a front asking whether a request may run) by outcome.");
	for (int i = 0; i < GATE_RESULT_COUNT; i++)
		put_sample(&text, "antireplay_gate_total", "outcome",
		           store_gate_result_name((enum gate_result)i), c.gate[i]);
	put_groups(&text, groups, n_groups);
	char *body = strbuf_detach(&text, &len);
	response_set_body(resp, 200, "text/plain; version=0.0.4", body, len);
	resp->log_label = "ok";
}
