/* redis_cluster: which node of a Redis Cluster serves this deployment's
 * keys. Every key of one deployment holds key_prefix's hash tag, so all
 * are in one slot (CRC16 of the tag, as Redis computes it) and one node
 * serves them all: the seeds are asked in turn (CLUSTER SLOTS) for that
 * slot's primary. A MOVED reply names the new one (redis_cluster_redirect);
 * ASK sends one command to the node importing the slot; TRYAGAIN (a
 * migration in progress, the keys split between two nodes) is waited out
 * by the caller. hiredis 0.14 has no cluster support, and Debian 12
 * packages no C client that has. */
#ifndef AR_REDIS_CLUSTER_H
#define AR_REDIS_CLUSTER_H

#include <stddef.h>

#include <hiredis/hiredis.h>

#include "config.h"

#define CLUSTER_HOST_MAX 255
#define CLUSTER_SLOTS 16384

/* The slot of keys whose hash tag is tag[0..len). */
unsigned redis_cluster_slot(const char *tag, size_t len);

/* The slot of cfg's keys (key_prefix holds the tag: the config checked). */
unsigned redis_cluster_slot_of(const struct ar_config *cfg);

/* Asks cfg's nodes in turn, each within timeout_ms, which primary serves
 * slot: 0 with host (CLUSTER_HOST_MAX + 1 bytes) and *port, or -1 with
 * why (what each said). */
int redis_cluster_find_primary(const struct ar_config *cfg, unsigned slot, int timeout_ms,
                               char *host, int *port, char *why, size_t whylen);

enum cluster_redirect {
	CLUSTER_NOT_REDIRECTED, /* any other reply */
	CLUSTER_MOVED,          /* the slot is served by host:port now */
	CLUSTER_ASK,            /* send this command to host:port, after ASKING */
	CLUSTER_TRYAGAIN,       /* a migration splits the keys: send it again soon */
};

/* Reads a MOVED, ASK or TRYAGAIN error reply (host and port for the first
 * two). */
enum cluster_redirect redis_cluster_redirect(const redisReply *r, char *host, int *port);

#endif
