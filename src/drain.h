/* drain: moves orders from the stream <key_prefix>orders into the shop's
 * database, each exactly once in effect. Reads with the consumer group
 * antireplay-drain (its own pending entries first, then entries idle
 * longer than drain_claim_ms in other consumers, then new ones), writes a
 * batch in one transaction of idempotent inserts (orderdb), and only then
 * acknowledges it, gives the orders' hashes their TTL and trims the stream
 * (lua/drain_ack.lua). An entry that is not an order goes to
 * <key_prefix>orders:dead with the reason. A batch that fails is kept and
 * tried again as it is, so nothing is acknowledged before it is committed. */
#ifndef AR_DRAIN_H
#define AR_DRAIN_H

#include "config.h"

#define DRAIN_GROUP "antireplay-drain"

struct drain;

struct drain_stats {
	unsigned long long persisted;   /* orders inserted */
	unsigned long long redelivered; /* orders that were in the database already */
	unsigned long long dead;        /* entries sent to the dead-letter stream */
	unsigned long long batches;     /* transactions committed */
};

/* A drain for cfg (borrowed) as consumer (copied; unique per process, e.g.
 * "host:pid"). Connects lazily. */
struct drain *drain_new(const struct ar_config *cfg, const char *consumer);
void drain_free(struct drain *d);

enum drain_step_result {
	DRAIN_WORKED, /* a batch went through */
	DRAIN_IDLE,   /* nothing came within drain_block_ms */
	DRAIN_FAILED, /* Redis or the database failed (logged); back off, call again */
};

/* One step: finish the batch in hand if there is one, else take the next
 * (own pending entries after a restart or a Redis error, then claims,
 * then new entries) and put it through. */
enum drain_step_result drain_step(struct drain *d);

/* Entries read but not yet acknowledged (0 when nothing is in hand). */
unsigned drain_in_hand(const struct drain *d);

/* Totals since drain_new. */
void drain_get_stats(const struct drain *d, struct drain_stats *out);

#endif
