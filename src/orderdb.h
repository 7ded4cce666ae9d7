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

enum orderdb_result {
	ORDERDB_COMMITTED,
	/* Down, busy or failing (restart, lost connection, lock wait, deadlock,
	 * read-only, wrong credentials; logged once per outage): try the same
	 * batch again later. */
	ORDERDB_FAILED,
	/* The database refused the data of the batch: a value its tables do not
	 * take (too long, out of range, a CHECK, a foreign key, a trigger's
	 * SIGNAL, a statement over max_allowed_packet). The same batch will be
	 * refused again; orderdb_refusal says why. Not logged here. */
	ORDERDB_REFUSED,
};

/* Inserts orders[0..n) and their lines in one transaction. COMMITTED with
 * *inserted the orders that were new (the rest were there already:
 * delivered before); else nothing of the batch is in. A COMMIT whose
 * answer was lost counts as failed: the retry finds the rows. */
enum orderdb_result orderdb_write(struct orderdb *db, const struct drain_order *orders, size_t n,
                                  size_t *inserted);

/* Why the last ORDERDB_REFUSED: "INSERT INTO orders: error 1406: Data too
 * long for column 'customer' at row 1", at most ORDERDB_REFUSAL_MAX - 1
 * bytes. */
#define ORDERDB_REFUSAL_MAX 320
const char *orderdb_refusal(const struct orderdb *db);

/* Does the database take orders at all? Writes the last order committed
 * by this process (or, before the first, a made-up one) under the nil
 * UUID, then rolls back: COMMITTED means it took it, so an order refused
 * alone is refused for its own data. Else FAILED, logged as an outage
 * (when the probe itself is refused: every order is; were the tables
 * changed?). */
enum orderdb_result orderdb_probe(struct orderdb *db);

/* Runs conf/mariadb/schema.sql (built in) on db_name: creates the tables
 * that are missing. 0, or -1 with the error logged. */
int orderdb_init_schema(struct orderdb *db);

#endif
