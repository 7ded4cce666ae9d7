/* redis_sentinel: asking Sentinels for the primary, and checking it. */
#include "redis_sentinel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redis_dial.h"
#include "util.h"

struct redis_sentinel {
	const struct ar_config *cfg;
	int first; /* the Sentinel that answered last: asked first */
};

struct redis_sentinel *redis_sentinel_new(const struct ar_config *cfg)
{
	struct redis_sentinel *s = xcalloc(1, sizeof *s);

	s->cfg = cfg;
	return s;
}

void redis_sentinel_free(struct redis_sentinel *s)
{
	free(s);
}

/* Appends to why (kept NUL-terminated, cut when full). */
static void add_why(char *why, size_t whylen, const char *fmt, const char *host, int port,
                    const char *what)
{
	size_t used = strlen(why);

	if (used + 1 < whylen)
		snprintf(why + used, whylen - used, fmt, used ? "; " : "", host, port, what);
}

/* One Sentinel's answer: 0 with host and *port, or -1 with what went wrong
 * in what (a static string or the context's error). */
static int ask_one(const struct ar_config *cfg, const struct ar_host_port *at, int timeout_ms,
                   char *host, int *port, char *what, size_t whatlen)
{
	redisContext *ctx = redis_dial(at, timeout_ms, "", cfg->sentinel_password, what, whatlen);
	redisReply *r;
	int rc = -1;

	if (!ctx)
		return -1;
	r = redisCommand(ctx, "SENTINEL get-master-addr-by-name %s", cfg->sentinel_master);
	if (!r) {
		snprintf(what, whatlen, "%s", ctx->errstr);
	} else if (r->type == REDIS_REPLY_ERROR) {
		snprintf(what, whatlen, "%s", r->str);
	} else if (r->type == REDIS_REPLY_NIL) {
		snprintf(what, whatlen, "does not know '%s'", cfg->sentinel_master);
	} else if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	           r->element[0]->type != REDIS_REPLY_STRING ||
	           r->element[1]->type != REDIS_REPLY_STRING || r->element[0]->len == 0 ||
	           r->element[0]->len > SENTINEL_HOST_MAX) {
		snprintf(what, whatlen, "an unexpected answer");
	} else {
		long p;
		if (util_parse_long(r->element[1]->str, r->element[1]->len, 1, 65535, &p) < 0) {
			snprintf(what, whatlen, "an unexpected port");
		} else {
			memcpy(host, r->element[0]->str, r->element[0]->len);
			host[r->element[0]->len] = '\0';
			*port = (int)p;
			rc = 0;
		}
	}
	freeReplyObject(r);
	redisFree(ctx);
	return rc;
}

int redis_sentinel_find_primary(struct redis_sentinel *s, int timeout_ms, char *host, int *port,
                                char *why, size_t whylen)
{
	const struct ar_config *cfg = s->cfg;
	char what[160];

	why[0] = '\0';
	for (int k = 0; k < cfg->n_redis_nodes; k++) {
		int i = (s->first + k) % cfg->n_redis_nodes;
		const struct ar_host_port *at = &cfg->redis_node[i];

		if (ask_one(cfg, at, timeout_ms, host, port, what, sizeof what) == 0) {
			s->first = i;
			return 0;
		}
		add_why(why, whylen, "%sSentinel %s:%d: %s", at->host, at->port, what);
	}
	return -1;
}

int redis_sentinel_is_primary(redisContext *ctx, char *why, size_t whylen)
{
	redisReply *r = redisCommand(ctx, "ROLE");
	int rc = 0;

	if (!r)
		return -1;
	if (r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
	    r->element[0]->type == REDIS_REPLY_STRING && strcmp(r->element[0]->str, "master") == 0)
		rc = 1;
	else if (r->type == REDIS_REPLY_ERROR)
		snprintf(why, whylen, "ROLE: %s", r->str);
	else if (r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
	         r->element[0]->type == REDIS_REPLY_STRING)
		snprintf(why, whylen, "ROLE says %s, not master", r->element[0]->str);
	else
		snprintf(why, whylen, "an unexpected answer to ROLE");
	freeReplyObject(r);
	return rc;
}
