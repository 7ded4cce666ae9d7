/* orderdb: the shop's MariaDB, as the drain writes it (the only includer of
 * MariaDB Connector/C). One connection per process, made lazily and made
 * again after any error; every batch of orders is one transaction of
 * idempotent inserts keyed on order_id, so an order delivered twice adds
 * nothing. Failures are logged here, once per outage, and when it ends. */
#ifndef AR_ORDERDB_H
#define AR_ORDERDB_H

#include <stddef.h>

#include "config.h"
#include "drain_entry.h"

struct orderdb;

/* A database for cfg (borrowed; must outlive it). Does not connect. */
struct orderdb *orderdb_new(const struct ar_config *cfg);
void orderdb_free(struct orderdb *db);

/* "unix:/path" or "host:port", for log lines. */
const char *orderdb_where(const struct orderdb *db);

/* Inserts orders[0..n) and their lines in one transaction. Returns 0 once
 * committed, with *inserted the orders that were new (the rest were there
 * already: delivered before), or -1 when anything failed (nothing of the
 * batch is in; logged): the caller tries the same batch again later. A
 * COMMIT whose answer was lost counts as failed: the retry finds the rows. */
int orderdb_write(struct orderdb *db, const struct drain_order *orders, size_t n,
                  size_t *inserted);

/* Runs conf/mariadb/schema.sql (built in) on db_name: creates the tables
 * that are missing. 0, or -1 with the error logged. */
int orderdb_init_schema(struct orderdb *db);

#endif
