/* redis_sentinel: where the primary of a Sentinel-watched group is now,
 * as the Sentinel client guidelines (redis.io "sentinel-clients") say to
 * find it: ask the Sentinels in order, each with a short timeout, for
 * SENTINEL get-master-addr-by-name; the first that answers is asked first
 * next time. The caller connects to the answer and checks its ROLE
 * (redis_sentinel_is_primary), and asks again after every failure: an
 * address is never trusted once a connection to it failed. hiredis has no
 * Sentinel support, so this is ours. */
#ifndef AR_REDIS_SENTINEL_H
#define AR_REDIS_SENTINEL_H

#include <stddef.h>

#include <hiredis/hiredis.h>

#include "config.h"

/* Longest host name a Sentinel's answer may hold. */
#define SENTINEL_HOST_MAX 255

struct redis_sentinel;

/* For cfg's Sentinels (borrowed; cfg->n_redis_nodes > 0). */
struct redis_sentinel *redis_sentinel_new(const struct ar_config *cfg);
void redis_sentinel_free(struct redis_sentinel *s);

/* Asks the Sentinels in turn, each within timeout_ms (connect and reply),
 * where the primary is. 0 with host (SENTINEL_HOST_MAX + 1 bytes) and
 * *port, or -1 with why: what each Sentinel said, for the log. */
int redis_sentinel_find_primary(struct redis_sentinel *s, int timeout_ms, char *host, int *port,
                                char *why, size_t whylen);

/* ROLE on a live, authenticated connection: 1 when the server says it is a
 * master, 0 when it says anything else (why says what), -1 on an I/O error
 * (the context is dead). */
int redis_sentinel_is_primary(redisContext *ctx, char *why, size_t whylen);

#endif
