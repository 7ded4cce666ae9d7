/* drain: the batch state machine (read -> committed -> acknowledged) over
 * redis_conn and orderdb. */
#include "drain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drain_entry.h"
#include "drain_write.h"
#include "log.h"
#include "keyspace.h"
#include "orderdb.h"
#include "redis_args.h"
#include "redis_conn.h"
#include "util.h"

/* Calls to XAUTOCLAIM a step may make while the entries it meets are
 * not idle enough (each looks at up to 10 × COUNT entries). */
#define CLAIM_CALLS_PER_STEP 10
/* Fields of an entry copied to a dead letter, at most. */
#define DEAD_FIELDS_MAX 64

enum script_id { SCRIPT_ACK, SCRIPT_DEAD, SCRIPT_COUNT };
static const char *const script_names[SCRIPT_COUNT] = {"drain_ack", "drain_dead"};

enum batch_state {
	BATCH_EMPTY,     /* read the next one */
	BATCH_READ,      /* orders parsed, not yet committed */
	BATCH_COMMITTED, /* in the database; acknowledge it */
};

struct drain {
	const struct ar_config *cfg;
	char *consumer;
	struct redis_conn *rc;
	struct orderdb *db;
	char stream_key[KEYSPACE_KEY_MAX];
	char dead_key[KEYSPACE_KEY_MAX];
	int group_ready;      /* XGROUP CREATE done on this connection */
	int read_own_pending; /* read our own pending entries before new ones */
	double next_claim_ms; /* when to look for idle entries of others */
	char claim_cursor[DRAIN_STREAM_ID_MAX + 1];

	enum batch_state state;
	struct drain_order *orders; /* [cfg->drain_batch] */
	size_t n_orders;
	char **refusal;      /* [i]: why orders[i] is at fault (owned; drain_write) */
	unsigned char *dead; /* [i]: orders[i] is a dead letter now */
	char (*ack_ids)[DRAIN_STREAM_ID_MAX + 1]; /* orders + entries gone */
	size_t n_ack;

	/* The arguments of a script call (drain_ack, drain_dead), reused. */
	struct redis_args args;

	struct drain_stats stats;
};

/* The biggest script call: drain_ack with a key and a stream id per
 * order, or drain_dead with an entry's fields and values. */
static int args_max(size_t batch)
{
	return (int)(REDIS_ARGS_SCRIPT_HEAD + 6 + 2 * batch + 2 * DEAD_FIELDS_MAX);
}

struct drain *drain_new(const struct ar_config *cfg, const char *consumer)
{
	struct drain *d = xcalloc(1, sizeof *d);
	size_t batch = (size_t)cfg->drain_batch;

	d->cfg = cfg;
	d->consumer = xstrdup(consumer);
	/* XREADGROUP BLOCK holds the reply back for drain_block_ms. */
	d->rc = redis_conn_new(cfg, cfg->drain_block_ms, script_names, SCRIPT_COUNT);
	/* Once per outage, and a reminder a minute while it lasts. */
	redis_conn_set_log_repeat(d->rc, 60000);
	d->db = orderdb_new(cfg);
	/* key_prefix is at most CONFIG_KEY_PREFIX_MAX bytes: these fit. */
	keyspace_key(d->stream_key, cfg->key_prefix, KEY_ORDERS, "");
	keyspace_key(d->dead_key, cfg->key_prefix, KEY_DEAD, "");
	d->read_own_pending = 1;
	strcpy(d->claim_cursor, "0-0");
	d->orders = xcalloc(batch, sizeof *d->orders);
	d->refusal = xcalloc(batch, sizeof *d->refusal);
	d->dead = xcalloc(batch, 1);
	d->ack_ids = xcalloc(batch, sizeof *d->ack_ids);
	redis_args_init(&d->args, args_max(batch), batch * KEYSPACE_KEY_MAX + 64);
	return d;
}

static void clear_batch(struct drain *d)
{
	for (size_t i = 0; i < d->n_orders; i++)
		drain_order_free(&d->orders[i]);
	d->n_orders = 0;
	d->n_ack = 0;
	d->state = BATCH_EMPTY;
}

void drain_free(struct drain *d)
{
	if (!d)
		return;
	clear_batch(d);
	redis_conn_free(d->rc);
	orderdb_free(d->db);
	free(d->orders);
	free(d->refusal);
	free(d->dead);
	free(d->ack_ids);
	redis_args_release(&d->args);
	free(d->consumer);
	free(d);
}

unsigned drain_in_hand(const struct drain *d)
{
	return d->state == BATCH_EMPTY ? 0 : (unsigned)d->n_ack;
}

void drain_get_stats(const struct drain *d, struct drain_stats *out)
{
	*out = d->stats;
}

/* After any Redis failure: the connection is new, maybe the server too
 * (restarted, failed over, its data gone): make sure of the group again,
 * and read our own pending entries first (a read that failed mid-way may
 * have delivered entries to us that we never saw). */
static enum drain_step_result redis_failed(struct drain *d)
{
	d->group_ready = 0;
	d->read_own_pending = 1;
	return DRAIN_FAILED;
}

static int is_error(const redisReply *r, const char *prefix)
{
	return r->type == REDIS_REPLY_ERROR && strncmp(r->str, prefix, strlen(prefix)) == 0;
}

/* XGROUP CREATE from the beginning of the stream, MKSTREAM; a group that
 * is there already (BUSYGROUP) is fine. */
static int ensure_group(struct drain *d)
{
	const char *argv[] = {"XGROUP", "CREATE", d->stream_key, DRAIN_GROUP, "0", "MKSTREAM"};
	redisReply *r;
	int ok = 0;

	if (d->group_ready)
		return 0;
	if (redis_conn_run_any(d->rc, "XGROUP CREATE", 6, argv, NULL, &r) != REDIS_STATUS_OK)
		return -1;
	if (r->type == REDIS_REPLY_STATUS) {
		log_info("redis %s: created the consumer group %s on %s", redis_conn_where(d->rc),
		         DRAIN_GROUP, d->stream_key);
		ok = 1;
	} else if (is_error(r, "BUSYGROUP")) {
		ok = 1;
	} else {
		redis_conn_error(d->rc, "XGROUP CREATE",
		                 r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
	}
	freeReplyObject(r);
	d->group_ready = ok;
	return ok ? 0 : -1;
}

/* Sends one of the stream commands; NOGROUP (the stream or the group was
 * deleted, or Redis came back without its data) makes the next step create
 * the group again. */
static enum redis_status stream_command(struct drain *d, const char *what, redisReply **out)
{
	const struct redis_args *a = &d->args;
	redisReply *r;
	enum redis_status s = redis_conn_run_any(d->rc, what, a->argc, a->argv, a->argvlen, &r);

	*out = NULL;
	if (s != REDIS_STATUS_OK)
		return s;
	if (r->type == REDIS_REPLY_ERROR) {
		if (is_error(r, "NOGROUP"))
			log_warn("redis %s: %s: %s; creating the group again",
			         redis_conn_where(d->rc), what, r->str);
		else
			redis_conn_error(d->rc, what, r->str);
		freeReplyObject(r);
		return REDIS_STATUS_REPLY;
	}
	*out = r;
	return REDIS_STATUS_OK;
}

static void copy_id(char out[DRAIN_STREAM_ID_MAX + 1], const redisReply *r)
{
	size_t n = r->len < DRAIN_STREAM_ID_MAX ? r->len : DRAIN_STREAM_ID_MAX;
	memcpy(out, r->str, n);
	out[n] = '\0';
}

/* Copies entry id with its fields and values fv[0..n_fv) to the
 * dead-letter stream, with the reason, and acknowledges it
 * (lua/drain_dead.lua). Returns 1 when sent, 0 when it was not pending any
 * more (sent before), -1 when Redis failed (logged). */
static int dead_letter(struct drain *d, const char *id, size_t id_len, const char *reason,
                       size_t n_fv, const char *const *fv, const size_t *fv_len)
{
	struct redis_args *a = &d->args;
	redisReply *r;

	/* In the order lua/drain_dead.lua names them. */
	redis_args_start_script(a);
	redis_args_add_str(a, d->stream_key);
	redis_args_add_str(a, d->dead_key);
	redis_args_end_keys(a);
	redis_args_add_str(a, DRAIN_GROUP);
	redis_args_add(a, id, id_len);
	redis_args_add_str(a, reason);
	for (size_t i = 0; i < n_fv; i++)
		redis_args_add(a, fv[i], fv_len[i]);
	enum redis_status s = redis_conn_eval(d->rc, SCRIPT_DEAD, a, &r);
	if (s != REDIS_STATUS_OK)
		return -1;
	int sent = r->type != REDIS_REPLY_NIL;
	freeReplyObject(r);
	if (sent)
		d->stats.dead++;
	return sent;
}

/* An entry that is not an order: its first DEAD_FIELDS_MAX fields and
 * values go with it (Lua's unpack stops at about 8000 values, and an entry
 * that can never be dead-lettered would stop the drain). */
static int send_entry_to_dead_letters(struct drain *d, const redisReply *id,
                                      const redisReply *fields, const char *why)
{
	char reason[DRAIN_WHY_MAX + 64];
	size_t nf = fields->elements > 2 * DEAD_FIELDS_MAX ? 2 * DEAD_FIELDS_MAX : fields->elements;
	const char *fv[2 * DEAD_FIELDS_MAX];
	size_t fv_len[2 * DEAD_FIELDS_MAX];

	if (nf < fields->elements)
		snprintf(reason, sizeof reason, "%s (first %d of %zu fields kept)", why,
		         DEAD_FIELDS_MAX, fields->elements / 2);
	else
		snprintf(reason, sizeof reason, "%s", why);
	for (size_t i = 0; i < nf; i++) {
		const redisReply *f = fields->element[i];
		fv[i] = f->type == REDIS_REPLY_STRING ? f->str : "";
		fv_len[i] = f->type == REDIS_REPLY_STRING ? f->len : 0;
	}
	int sent = dead_letter(d, id->str, id->len, reason, nf, fv, fv_len);
	if (sent > 0)
		log_warn("stream %s: entry %.*s is not an order (%s); moved to %s", d->stream_key,
		         (int)id->len, id->str, why, d->dead_key);
	return sent < 0 ? -1 : 0;
}

/* An order the database refuses (its fields as antireplay-fcgi wrote
 * them: order_id and order). */
static int send_order_to_dead_letters(struct drain *d, const struct drain_order *o,
                                      const char *refusal)
{
	char reason[ORDERDB_REFUSAL_MAX + 32];
	const char *fv[] = {"order_id", o->order_id, "order", o->body};
	size_t fv_len[] = {8, strlen(o->order_id), 5, o->body_len};
	int sent;

	snprintf(reason, sizeof reason, "refused by the database: %s", refusal);
	sent = dead_letter(d, o->stream_id, strlen(o->stream_id), reason, 4, fv, fv_len);
	if (sent > 0)
		log_warn("stream %s: order %s (entry %s) %s; moved to %s", d->stream_key,
		         o->order_id, o->stream_id, reason, d->dead_key);
	return sent < 0 ? -1 : 0;
}

/* One entry [id, [field, value, ...]] (or [id, nil]: deleted while pending)
 * into the batch. */
static int take_entry(struct drain *d, const redisReply *e)
{
	struct drain_field *fields;
	char why[DRAIN_WHY_MAX];
	const redisReply *id, *kv;
	size_t n = 0;
	int rc;

	if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
	    e->element[0]->type != REDIS_REPLY_STRING) {
		log_error("redis %s: a stream entry of unexpected shape", redis_conn_where(d->rc));
		return -1;
	}
	id = e->element[0];
	kv = e->element[1];
	if (kv->type != REDIS_REPLY_ARRAY) {
		log_warn("stream %s: entry %.*s was deleted before it was drained; acknowledged",
		         d->stream_key, (int)id->len, id->str);
		copy_id(d->ack_ids[d->n_ack++], id);
		return 0;
	}
	fields = xcalloc(kv->elements / 2 + 1, sizeof *fields);
	for (size_t i = 0; i + 1 < kv->elements; i += 2) {
		const redisReply *f = kv->element[i], *v = kv->element[i + 1];
		if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
			continue;
		fields[n++] = (struct drain_field){f->str, f->len, v->str, v->len};
	}
	rc = drain_entry_parse(id->str, id->len, fields, n, &d->orders[d->n_orders], why);
	free(fields);
	if (rc < 0)
		return send_entry_to_dead_letters(d, id, kv, why);
	copy_id(d->ack_ids[d->n_ack++], id);
	d->n_orders++;
	return 0;
}

/* The entries array of an XREADGROUP or XAUTOCLAIM reply into the batch:
 * the number of entries seen (dead letters included), or -1 when one could
 * not be taken (logged; the caller drops the batch: every entry of it
 * stays pending and comes again). */
static int take_entries(struct drain *d, const redisReply *entries)
{
	size_t i;

	if (entries->type != REDIS_REPLY_ARRAY) {
		log_error("redis %s: stream entries of unexpected type %d", redis_conn_where(d->rc),
		          entries->type);
		return -1;
	}
	for (i = 0; i < entries->elements && i < (size_t)d->cfg->drain_batch; i++)
		if (take_entry(d, entries->element[i]) < 0)
			return -1;
	return (int)i;
}

/* XREADGROUP: our own pending entries from the start ("0"), or new ones
 * (">", waiting up to drain_block_ms). Reply: nil, or
 * [[stream, [entry...]]]. */
static enum drain_step_result read_group(struct drain *d, int own_pending)
{
	struct redis_args *a = &d->args;
	redisReply *r;
	int seen;

	redis_args_start_command(a);
	redis_args_add_str(a, "XREADGROUP");
	redis_args_add_str(a, "GROUP");
	redis_args_add_str(a, DRAIN_GROUP);
	redis_args_add_str(a, d->consumer);
	redis_args_add_str(a, "COUNT");
	redis_args_add_int(a, d->cfg->drain_batch);
	if (!own_pending) { /* history answers at once: no BLOCK for it */
		redis_args_add_str(a, "BLOCK");
		redis_args_add_int(a, d->cfg->drain_block_ms);
	}
	redis_args_add_str(a, "STREAMS");
	redis_args_add_str(a, d->stream_key);
	redis_args_add_str(a, own_pending ? "0" : ">");
	if (stream_command(d, "XREADGROUP", &r) != REDIS_STATUS_OK)
		return redis_failed(d);
	if (r->type == REDIS_REPLY_NIL) {
		freeReplyObject(r);
		return DRAIN_IDLE;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 1 ||
	    r->element[0]->type != REDIS_REPLY_ARRAY || r->element[0]->elements != 2) {
		redis_conn_unexpected(d->rc, "XREADGROUP", r);
		return redis_failed(d);
	}
	seen = take_entries(d, r->element[0]->element[1]);
	freeReplyObject(r);
	if (seen < 0) {
		clear_batch(d);
		return redis_failed(d);
	}
	if (own_pending && seen == 0)
		d->read_own_pending = 0;
	return seen ? DRAIN_WORKED : DRAIN_IDLE;
}

/* XAUTOCLAIM: entries pending for longer than drain_claim_ms in any
 * consumer (a drain that died, or hangs) become ours. Reply: [next cursor,
 * [entry...], [ids deleted meanwhile]]. */
static enum drain_step_result claim_idle(struct drain *d)
{
	struct redis_args *a = &d->args;
	redisReply *r;
	int seen;

	for (int call = 0; call < CLAIM_CALLS_PER_STEP; call++) {
		redis_args_start_command(a);
		redis_args_add_str(a, "XAUTOCLAIM");
		redis_args_add_str(a, d->stream_key);
		redis_args_add_str(a, DRAIN_GROUP);
		redis_args_add_str(a, d->consumer);
		redis_args_add_int(a, d->cfg->drain_claim_ms);
		redis_args_add_str(a, d->claim_cursor);
		redis_args_add_str(a, "COUNT");
		redis_args_add_int(a, d->cfg->drain_batch);
		if (stream_command(d, "XAUTOCLAIM", &r) != REDIS_STATUS_OK)
			return redis_failed(d);
		if (r->type != REDIS_REPLY_ARRAY || r->elements < 2 ||
		    r->element[0]->type != REDIS_REPLY_STRING) {
			redis_conn_unexpected(d->rc, "XAUTOCLAIM", r);
			return redis_failed(d);
		}
		seen = take_entries(d, r->element[1]);
		if (seen < 0) {
			freeReplyObject(r);
			clear_batch(d);
			return redis_failed(d);
		}
		copy_id(d->claim_cursor, r->element[0]);
		if (r->elements > 2 && r->element[2]->type == REDIS_REPLY_ARRAY &&
		    r->element[2]->elements > 0)
			log_warn(
			    "stream %s: %zu pending entries were deleted before they were drained",
			    d->stream_key, r->element[2]->elements);
		freeReplyObject(r);
		if (seen > 0) {
			log_info("stream %s: claimed %d entries idle for over %ld ms",
			         d->stream_key, seen, d->cfg->drain_claim_ms);
			return DRAIN_WORKED;
		}
		if (strcmp(d->claim_cursor, "0-0") == 0)
			break; /* the whole pending list seen */
	}
	return DRAIN_IDLE;
}

/* How often to look for idle entries: a quarter of drain_claim_ms, between
 * 0.1 s and 5 s. */
static double claim_interval_ms(const struct ar_config *cfg)
{
	double ms = (double)cfg->drain_claim_ms / 4;
	return ms < 100 ? 100 : ms > 5000 ? 5000 : ms;
}

/* Fills the batch: own pending entries, claims when due, new entries. */
static enum drain_step_result read_batch(struct drain *d)
{
	enum drain_step_result res;

	if (ensure_group(d) < 0)
		return redis_failed(d);
	if (d->read_own_pending) {
		res = read_group(d, 1);
		if (res != DRAIN_IDLE)
			return res;
	}
	if (util_now_ms() >= d->next_claim_ms) {
		res = claim_idle(d);
		if (res != DRAIN_WORKED)
			d->next_claim_ms = util_now_ms() + claim_interval_ms(d->cfg);
		if (res != DRAIN_IDLE)
			return res;
	}
	return read_group(d, 0);
}

/* lua/drain_ack.lua for the committed batch. */
static int acknowledge(struct drain *d)
{
	struct redis_args *a = &d->args;
	redisReply *r;

	/* In the order lua/drain_ack.lua names them. */
	redis_args_start_script(a);
	redis_args_add_str(a, d->stream_key);
	for (size_t i = 0; i < d->n_orders; i++) {
		char key[KEYSPACE_KEY_MAX];
		size_t n = keyspace_key(key, d->cfg->key_prefix, KEY_ORDER, d->orders[i].order_id);
		if (n == 0)
			redis_args_fail(a); /* cannot happen: the id is a UUID */
		redis_args_add_copy(a, key, n);
	}
	redis_args_end_keys(a);
	redis_args_add_str(a, DRAIN_GROUP);
	redis_args_add_int(a, config_order_ttl(d->cfg));
	for (size_t i = 0; i < d->n_ack; i++)
		redis_args_add_str(a, d->ack_ids[i]);
	if (redis_conn_eval(d->rc, SCRIPT_ACK, a, &r) != REDIS_STATUS_OK)
		return -1;
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
	    r->element[1]->type == REDIS_REPLY_INTEGER)
		log_debug("stream %s: acknowledged %zu entries, trimmed %lld", d->stream_key,
		          d->n_ack, r->element[1]->integer);
	freeReplyObject(r);
	return 0;
}

/* The orders at fault (refusal[i]) to the dead letters. */
static int send_refused(struct drain *d)
{
	for (size_t i = 0; i < d->n_orders; i++) {
		if (!d->refusal[i])
			continue;
		if (send_order_to_dead_letters(d, &d->orders[i], d->refusal[i]) < 0) {
			redis_failed(d);
			return -1;
		}
		d->dead[i] = 1;
	}
	return 0;
}

/* Takes the dead letters out of the batch (acknowledged already; their
 * hashes keep no TTL: the order is still readable by its id), and forgets
 * the refusals. */
static void drop_dead(struct drain *d)
{
	size_t kept = 0, kept_ids = 0;

	for (size_t i = 0; i < d->n_orders; i++) {
		free(d->refusal[i]);
		d->refusal[i] = NULL;
		if (!d->dead[i]) {
			if (kept != i)
				d->orders[kept] = d->orders[i];
			kept++;
			continue;
		}
		for (size_t a = 0; a < d->n_ack; a++)
			if (strcmp(d->ack_ids[a], d->orders[i].stream_id) == 0)
				d->ack_ids[a][0] = '\0';
		drain_order_free(&d->orders[i]);
		d->dead[i] = 0;
	}
	for (size_t a = 0; a < d->n_ack; a++)
		if (d->ack_ids[a][0] && kept_ids++ != a)
			memcpy(d->ack_ids[kept_ids - 1], d->ack_ids[a], sizeof d->ack_ids[a]);
	d->n_orders = kept;
	d->n_ack = kept_ids;
}

/* The batch into the database, the orders at fault into the dead letters. */
static int write_batch(struct drain *d)
{
	struct drain_write_counts counts = {0};
	int rc = drain_write(d->db, d->orders, d->n_orders, d->refusal, &counts);

	d->stats.persisted += counts.inserted;
	d->stats.redelivered += counts.redelivered;
	d->stats.batches += counts.transactions;
	if (rc == 0)
		rc = send_refused(d);
	drop_dead(d);
	return rc;
}

/* wait_replicas: a batch goes into the database only once that many
 * replicas have its entries, so a failover cannot take back an order the
 * shop has. Since Redis 7.2 WAIT covers only the connection's own
 * replicated writes (7.0 covers everything up to the moment), and reading
 * our pending entries again replicates nothing (measured on 7.0): the
 * entries are first claimed by us again (XCLAIM JUSTID, min-idle 0: no
 * delivery counted), which is replicated, after the XADDs. Claiming takes
 * back an entry another drain claimed meanwhile: both write it, and the
 * database keeps one. 0, or -1 (logged). */
static int wait_replicated(struct drain *d)
{
	struct redis_args *a = &d->args;
	redisReply *r;

	if (d->cfg->wait_replicas == 0 || d->n_ack == 0)
		return 0;
	redis_args_start_command(a);
	redis_args_add_str(a, "XCLAIM");
	redis_args_add_str(a, d->stream_key);
	redis_args_add_str(a, DRAIN_GROUP);
	redis_args_add_str(a, d->consumer);
	redis_args_add_str(a, "0");
	for (size_t i = 0; i < d->n_ack; i++)
		redis_args_add_str(a, d->ack_ids[i]);
	redis_args_add_str(a, "JUSTID");
	if (stream_command(d, "XCLAIM", &r) != REDIS_STATUS_OK)
		return -1;
	freeReplyObject(r);
	return redis_conn_wait(d->rc, "the batch before its commit") == REDIS_STATUS_OK ? 0 : -1;
}

enum drain_step_result drain_step(struct drain *d)
{
	enum drain_step_result res;

	if (d->state == BATCH_EMPTY) {
		res = read_batch(d);
		if (res != DRAIN_WORKED)
			return res;
		d->state = BATCH_READ;
	}
	if (d->state == BATCH_READ) {
		/* Not replicated yet: read again from whichever primary there is
		 * then (nothing of the batch is in the database). */
		if (wait_replicated(d) < 0) {
			clear_batch(d);
			return redis_failed(d);
		}
		if (write_batch(d) < 0)
			return DRAIN_FAILED;
		d->state = BATCH_COMMITTED;
	}
	if (acknowledge(d) < 0)
		return redis_failed(d);
	clear_batch(d);
	return DRAIN_WORKED;
}
