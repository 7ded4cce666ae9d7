/* drain_write: halving a refused batch down to the orders at fault. */
#include "drain_write.h"

#include <stdlib.h>

#include "log.h"
#include "util.h"

struct pass {
	struct orderdb *db;
	const struct drain_order *orders;
	char **refusal;
	struct drain_write_counts *counts;
	int committed; /* a part of the batch went in during this pass */
};

/* orders[lo..hi) in one transaction; when the tables refuse their data,
 * each half on its own, down to single orders: one refused alone is a
 * suspect (refusal[i]), and the other halves still go in (one bad order in
 * 100: 13 to 15 transactions). 0, or -1 when the database failed. */
static int write_part(struct pass *p, size_t lo, size_t hi)
{
	size_t inserted, mid = lo + (hi - lo) / 2;

	switch (orderdb_write(p->db, p->orders + lo, hi - lo, &inserted)) {
	case ORDERDB_COMMITTED:
		p->counts->inserted += inserted;
		p->counts->redelivered += hi - lo - inserted;
		p->counts->transactions++;
		p->committed = 1;
		log_debug("batch: %zu orders, %zu new, %zu in the database already", hi - lo,
		          inserted, hi - lo - inserted);
		return 0;
	case ORDERDB_REFUSED:
		if (hi - lo == 1) {
			p->refusal[lo] = xstrdup(orderdb_refusal(p->db));
			return 0;
		}
		if (write_part(p, lo, mid) < 0)
			return -1;
		return write_part(p, mid, hi);
	case ORDERDB_FAILED:
		break;
	}
	return -1;
}

static size_t count_suspects(char *const *refusal, size_t n)
{
	size_t suspects = 0;

	for (size_t i = 0; i < n; i++)
		suspects += refusal[i] != NULL;
	return suspects;
}

int drain_write(struct orderdb *db, const struct drain_order *orders, size_t n, char **refusal,
                struct drain_write_counts *counts)
{
	struct pass p = {db, orders, refusal, counts, 0};
	int rc = write_part(&p, 0, n);

	/* Suspects are at fault if the tables take orders at all. */
	if (rc == 0 && count_suspects(refusal, n) > 0 && !p.committed &&
	    orderdb_probe(db) != ORDERDB_COMMITTED)
		rc = -1;
	if (rc < 0) {
		for (size_t i = 0; i < n; i++) {
			free(refusal[i]);
			refusal[i] = NULL;
		}
	}
	return rc;
}
