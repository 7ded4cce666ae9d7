/* redis_cluster: the slot of the hash tag, its primary, and redirects. */
#include "redis_cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redis_dial.h"
#include "util.h"

/* CRC16-CCITT (XMODEM: polynomial 0x1021, initial 0), which Redis Cluster
 * hashes keys with; bit by bit, as it runs once per connect. */
static unsigned crc16(const char *s, size_t len)
{
	unsigned crc = 0;

	for (size_t i = 0; i < len; i++) {
		crc ^= (unsigned)(unsigned char)s[i] << 8;
		for (int b = 0; b < 8; b++)
			crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
		crc &= 0xffff;
	}
	return crc;
}

unsigned redis_cluster_slot(const char *tag, size_t len)
{
	return crc16(tag, len) % CLUSTER_SLOTS;
}

unsigned redis_cluster_slot_of(const struct ar_config *cfg)
{
	size_t len = 0;
	int at = config_hash_tag(cfg->key_prefix, &len);

	return at > 0 ? redis_cluster_slot(cfg->key_prefix + at, len) : 0;
}

/* The primary of slot in a CLUSTER SLOTS reply: 0 with host and *port. */
static int primary_in(const redisReply *r, unsigned slot, const char *asked, char *host, int *port)
{
	if (r->type != REDIS_REPLY_ARRAY)
		return -1;
	for (size_t i = 0; i < r->elements; i++) {
		const redisReply *range = r->element[i];
		if (range->type != REDIS_REPLY_ARRAY || range->elements < 3 ||
		    range->element[0]->type != REDIS_REPLY_INTEGER ||
		    range->element[1]->type != REDIS_REPLY_INTEGER ||
		    range->element[2]->type != REDIS_REPLY_ARRAY ||
		    range->element[2]->elements < 2 ||
		    range->element[2]->element[0]->type != REDIS_REPLY_STRING ||
		    range->element[2]->element[1]->type != REDIS_REPLY_INTEGER)
			continue;
		if ((long long)slot < range->element[0]->integer ||
		    (long long)slot > range->element[1]->integer)
			continue;
		const redisReply *h = range->element[2]->element[0];
		/* "" or "?": the node knows no address of its own; the one asked. */
		const char *name = h->len == 0 || strcmp(h->str, "?") == 0 ? asked : h->str;
		if (strlen(name) > CLUSTER_HOST_MAX)
			return -1;
		strcpy(host, name);
		*port = (int)range->element[2]->element[1]->integer;
		return 0;
	}
	return -1;
}

/* One node's answer, or -1 with what went wrong. */
static int ask_one(const struct ar_config *cfg, const struct ar_host_port *at, unsigned slot,
                   int timeout_ms, char *host, int *port, char *what, size_t whatlen)
{
	redisContext *ctx =
	    redis_dial(at, timeout_ms, cfg->redis_user, cfg->redis_password, what, whatlen);
	redisReply *r;
	int rc = -1;

	if (!ctx)
		return -1;
	r = redisCommand(ctx, "CLUSTER SLOTS");
	if (!r)
		snprintf(what, whatlen, "%s", ctx->errstr);
	else if (r->type == REDIS_REPLY_ERROR)
		snprintf(what, whatlen, "%s", r->str);
	else if (primary_in(r, slot, at->host, host, port) < 0)
		snprintf(what, whatlen, "no primary for slot %u", slot);
	else
		rc = 0;
	freeReplyObject(r);
	redisFree(ctx);
	return rc;
}

int redis_cluster_find_primary(const struct ar_config *cfg, unsigned slot, int timeout_ms,
                               char *host, int *port, char *why, size_t whylen)
{
	char what[160];

	why[0] = '\0';
	for (int i = 0; i < cfg->n_redis_nodes; i++) {
		const struct ar_host_port *at = &cfg->redis_node[i];
		size_t used = strlen(why);

		if (ask_one(cfg, at, slot, timeout_ms, host, port, what, sizeof what) == 0)
			return 0;
		if (used + 1 < whylen)
			snprintf(why + used, whylen - used, "%snode %s:%d: %s", used ? "; " : "",
			         at->host, at->port, what);
	}
	return -1;
}

enum cluster_redirect redis_cluster_redirect(const redisReply *r, char *host, int *port)
{
	enum cluster_redirect kind;
	const char *p;

	if (r->type != REDIS_REPLY_ERROR)
		return CLUSTER_NOT_REDIRECTED;
	if (strncmp(r->str, "TRYAGAIN", 8) == 0)
		return CLUSTER_TRYAGAIN;
	if (strncmp(r->str, "MOVED ", 6) == 0)
		kind = CLUSTER_MOVED;
	else if (strncmp(r->str, "ASK ", 4) == 0)
		kind = CLUSTER_ASK;
	else
		return CLUSTER_NOT_REDIRECTED;
	/* "MOVED <slot> <host>:<port>" */
	p = strchr(strchr(r->str, ' ') + 1, ' ');
	const char *colon = p ? strrchr(p, ':') : NULL;
	long v;
	if (!p || !colon || colon - p - 1 > CLUSTER_HOST_MAX ||
	    util_parse_long(colon + 1, strlen(colon + 1), 1, 65535, &v) < 0)
		return CLUSTER_NOT_REDIRECTED;
	memcpy(host, p + 1, (size_t)(colon - p - 1));
	host[colon - p - 1] = '\0';
	if (host[0] == '\0')
		return CLUSTER_NOT_REDIRECTED;
	*port = (int)v;
	return kind;
}
