/* drain_write: a batch of orders into the database even when its tables
 * refuse some of them (a CHECK, a trigger, a foreign key, a unique index of
 * the shop's, a value too long for a column). One transaction for the
 * batch; when the tables refuse its data, each half on its own, down to
 * the orders refused alone. Those are at fault only if the tables take
 * orders at all after that (orderdb_probe goes in) and refuse them alone
 * again after the probe: a change of the tables undone meanwhile blames no
 * order. If the probe is refused, every order is (the tables changed): an
 * outage. A change that makes the tables refuse every order, landing
 * between the probe and the suspect's second try, is the one case left
 * that dead-letters an order not at fault. */
#ifndef AR_DRAIN_WRITE_H
#define AR_DRAIN_WRITE_H

#include <stddef.h>

#include "drain_entry.h"
#include "orderdb.h"

struct drain_write_counts {
	size_t inserted;     /* orders new to the database */
	size_t redelivered;  /* orders that were there already */
	size_t transactions; /* committed */
};

/* Writes orders[0..n). Returns 0 when each order is committed or at
 * fault: then refusal[i] (an array of n NULLs on entry) holds why orders[i]
 * was refused, owned by the caller, for each order at fault. Returns -1
 * when the database failed or refuses every order (logged by orderdb):
 * write the same batch again later; refusal[] is all NULL again. Parts
 * committed before a failure are counted in *counts (added to) and found
 * by the retry. */
int drain_write(struct orderdb *db, const struct drain_order *orders, size_t n, char **refusal,
                struct drain_write_counts *counts);

#endif
