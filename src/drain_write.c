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

/* Each suspect alone once more, after the probe: one the tables take now
 * was refused by a change of theirs that has since been undone (a trigger
 * dropped between its refusal and the probe) and is not at fault.
 * 0, or -1 when the database failed. */
static int write_suspects_again(struct pass *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!p->refusal[i])
			continue;
		char *before = p->refusal[i];
		p->refusal[i] = NULL;
		if (write_part(p, i, i + 1) < 0) {
			p->refusal[i] = before;
			return -1;
		}
		free(before);
	}
	return 0;
}

int drain_write(struct orderdb *db, const struct drain_order *orders, size_t n, char **refusal,
                struct drain_write_counts *counts)
{
	struct pass p = {db, orders, refusal, counts};
	int rc = write_part(&p, 0, n);

	/* Suspects are at fault only if the tables take orders after they
	 * refused them (the probe: a part of this batch that went in may have
	 * gone in before the tables changed), and refuse them again after that. */
	if (rc == 0 && count_suspects(refusal, n) > 0)
		rc = orderdb_probe(db) == ORDERDB_COMMITTED ? write_suspects_again(&p, n) : -1;
	if (rc < 0) {
		for (size_t i = 0; i < n; i++) {
			free(refusal[i]);
			refusal[i] = NULL;
		}
	}
	return rc;
}
