/* redis_dial: connect, set the timeout, AUTH. */
#include "redis_dial.h"

#include <stdio.h>

redisContext *redis_dial(const struct ar_host_port *at, int timeout_ms, const char *user,
                         const char *password, char *what, size_t whatlen)
{
	struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
	redisContext *ctx = redisConnectWithTimeout(at->host, at->port, tv);
	redisReply *r;

	if (!ctx || ctx->err) {
		snprintf(what, whatlen, "%s", ctx ? ctx->errstr : "cannot connect");
		redisFree(ctx);
		return NULL;
	}
	if (redisSetTimeout(ctx, tv) != REDIS_OK) {
		snprintf(what, whatlen, "cannot set the timeout");
		redisFree(ctx);
		return NULL;
	}
	if (!password[0])
		return ctx;
	r = user[0] ? redisCommand(ctx, "AUTH %s %s", user, password)
	            : redisCommand(ctx, "AUTH %s", password);
	if (r && r->type != REDIS_REPLY_ERROR) {
		freeReplyObject(r);
		return ctx;
	}
	snprintf(what, whatlen, "AUTH: %s", r ? r->str : ctx->errstr);
	freeReplyObject(r);
	redisFree(ctx);
	return NULL;
}
