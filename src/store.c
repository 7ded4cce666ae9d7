/* store: the Redis connection and every command we send. One persistent
 * blocking connection per process; any I/O error drops it and the next call
 * connects again (hiredis contexts are dead after an error). */
#include "store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "identity.h"
#include "log.h"
#include "scripts.h"
#include "strbuf.h"
#include "util.h"

/* The longest key: prefix (<= 64) + "rate:" + a client key ("i:" + identity
 * or "a:" + REMOTE_ADDR, < IDENTITY_MAX + 64). */
#define KEY_MAX (64 + 8 + IDENTITY_MAX + 64)
#define FAILURE_LOG_INTERVAL_MS 1000.0
/* Unused tokens are kept in one hash per issue window of W seconds,
 * W = max(WINDOW_MIN_S, ceil(token_ttl / WINDOWS_PER_TTL)) (see
 * current_windows below). Host clocks may be W / 2 from Redis's: the
 * scripts refuse a request from a host further off (clock skew). */
#define WINDOWS_PER_TTL 8
#define WINDOW_MIN_S 10
/* The windows a live token can be in: WINDOWS_PER_TTL + 1 back (its TTL
 * and one window for clocks that disagree), the current one, one ahead. */
#define WINDOW_KEYS_MAX (WINDOWS_PER_TTL + 3)
/* EVALSHA sha numkeys, then the keys (4 + windows + lines) and the
 * arguments (10 + 2 * lines) of the biggest call, submit_order. */
#define MAX_ARGS (3 + 4 + WINDOW_KEYS_MAX + ORDER_MAX_ITEMS + 10 + 2 * ORDER_MAX_ITEMS)
#define KEY_SLOTS (4 + ORDER_MAX_ITEMS)
/* Slots of st->nums: the quantities use 1 .. ORDER_MAX_ITEMS. */
enum {
	NUM_FIRST = 0,
	NUM_SECOND = ORDER_MAX_ITEMS + 1,
	NUM_THIRD,
	NUM_FOURTH,
	NUM_FIFTH,
	NUM_NUMKEYS,
	NUM_SLOTS
};

enum script_id { SCRIPT_ISSUE_TOKEN, SCRIPT_SUBMIT_ORDER, SCRIPT_COUNT };
static const char *const script_names[SCRIPT_COUNT] = {"issue_token", "submit_order"};

static const char *const result_names[SUBMIT_RESULT_COUNT] = {
	[SUBMIT_CREATED] = "created",
	[SUBMIT_REPLAYED] = "replayed",
	[SUBMIT_REJECTED] = "rejected",
	[SUBMIT_TOKEN_REUSED] = "token_reused",
	[SUBMIT_INVALID_TOKEN] = "invalid_token",
	[SUBMIT_UNKNOWN_SKU] = "unknown_sku",
	[SUBMIT_OUT_OF_STOCK] = "out_of_stock",
};

/* The hashes of unused tokens a request names (current_windows). */
struct token_windows {
	long long now;     /* unix time of the last call */
	long seconds;      /* W */
	long long current; /* now / W; -1 until first rendered */
	int count;         /* keys to look in */
	char key[WINDOW_KEYS_MAX][KEY_MAX]; /* the likeliest first */
	size_t key_len[WINDOW_KEYS_MAX];
	int overflow;      /* a key did not fit KEY_MAX */
};

struct store {
	const struct ar_config *cfg;
	redisContext *ctx;  /* NULL when not connected */
	char where[160];    /* "unix:/path" or "host:port", for log lines */
	double last_failure_ms; /* when a connection failure was last logged */
	unsigned long quiet_failures; /* failures since then, logged at debug */
	char sha[SCRIPT_COUNT][41];
	const struct ar_script *script[SCRIPT_COUNT];
	/* Per-process scratch for one command's arguments: no per-request malloc. */
	const char *argv[MAX_ARGS];
	size_t argvlen[MAX_ARGS];
	int arg_overflow; /* a key did not fit: refuse to send the command */
	char keys[KEY_SLOTS][KEY_MAX];
	char nums[NUM_SLOTS][24];
	struct strbuf command; /* the command in RESP, reused by every call */
	struct token_windows windows;
};

const char *store_submit_result_name(enum submit_result r)
{
	return result_names[r];
}

struct store *store_new(const struct ar_config *cfg)
{
	struct store *st = xcalloc(1, sizeof *st);

	st->cfg = cfg;
	st->last_failure_ms = -FAILURE_LOG_INTERVAL_MS;
	st->windows.current = -1;
	if (cfg->redis_unix_path)
		snprintf(st->where, sizeof st->where, "unix:%s", cfg->redis_unix_path);
	else
		snprintf(st->where, sizeof st->where, "%s:%d", cfg->redis_host, cfg->redis_port);
	for (int i = 0; i < SCRIPT_COUNT; i++) {
		st->script[i] = scripts_find(script_names[i]);
		if (!st->script[i]) {
			log_error("script %s missing from the build", script_names[i]);
			abort();
		}
	}
	return st;
}

static void drop_connection(struct store *st)
{
	if (st->ctx) {
		redisFree(st->ctx);
		st->ctx = NULL;
	}
}

void store_free(struct store *st)
{
	if (!st)
		return;
	drop_connection(st);
	strbuf_free(&st->command);
	free(st);
}

/* Logs why the connection failed and drops it. While Redis stays down every
 * request fails the same way: one error line a second, the rest at debug. */
static void connection_failed(struct store *st, const char *during)
{
	const char *why = st->ctx && st->ctx->errstr[0] ? st->ctx->errstr : "connection lost";
	double now = util_now_ms();

	if (now - st->last_failure_ms >= FAILURE_LOG_INTERVAL_MS) {
		log_error("redis %s: %s during %s; reconnecting on the next request (%lu more "
		          "failures since the last report)",
		          st->where, why, during, st->quiet_failures);
		st->last_failure_ms = now;
		st->quiet_failures = 0;
	} else {
		log_debug("redis %s: %s during %s", st->where, why, during);
		st->quiet_failures++;
	}
	drop_connection(st);
}

/* Sends one command on a live connection and checks for a status reply. */
static int expect_status(struct store *st, const char *what, int argc, const char **argv)
{
	redisReply *r = redisCommandArgv(st->ctx, argc, argv, NULL);
	int ok = 0;

	if (!r) {
		connection_failed(st, what);
		return -1;
	}
	if (r->type == REDIS_REPLY_STATUS)
		ok = 1;
	else
		log_error("redis %s: %s failed: %s", st->where, what,
		          r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
	freeReplyObject(r);
	if (!ok)
		drop_connection(st);
	return ok ? 0 : -1;
}

/* SCRIPT LOAD one script and keep its SHA-1. */
static int load_script(struct store *st, int id)
{
	const char *argv[] = {"SCRIPT", "LOAD", st->script[id]->source};
	redisReply *r = redisCommandArgv(st->ctx, 3, argv, NULL);
	int ok = 0;

	if (!r) {
		connection_failed(st, "SCRIPT LOAD");
		return -1;
	}
	if (r->type == REDIS_REPLY_STRING && r->len == 40) {
		memcpy(st->sha[id], r->str, 40);
		st->sha[id][40] = '\0';
		ok = 1;
	} else {
		log_error("redis %s: SCRIPT LOAD %s failed: %s", st->where, script_names[id],
		          r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
	}
	freeReplyObject(r);
	if (!ok)
		drop_connection(st);
	return ok ? 0 : -1;
}

/* The one set-up path after every connect: command timeout (hiredis 0.14
 * applies the connect timeout to connect() only), keepalive, AUTH, SELECT,
 * SCRIPT LOAD. */
static int set_up_connection(struct store *st)
{
	const struct ar_config *cfg = st->cfg;
	struct timeval tv = {cfg->redis_timeout_ms / 1000, (cfg->redis_timeout_ms % 1000) * 1000};
	char db[16];

	if (redisSetTimeout(st->ctx, tv) != REDIS_OK) {
		connection_failed(st, "setting the command timeout");
		return -1;
	}
	if (!cfg->redis_unix_path && redisEnableKeepAlive(st->ctx) != REDIS_OK) {
		connection_failed(st, "enabling keepalive");
		return -1;
	}
	if (cfg->redis_password[0]) {
		const char *with_user[] = {"AUTH", cfg->redis_user, cfg->redis_password};
		const char *without[] = {"AUTH", cfg->redis_password};
		int rc = cfg->redis_user[0] ? expect_status(st, "AUTH", 3, with_user)
		                            : expect_status(st, "AUTH", 2, without);
		if (rc < 0)
			return -1;
	}
	if (cfg->redis_db != 0) {
		snprintf(db, sizeof db, "%d", cfg->redis_db);
		const char *select[] = {"SELECT", db};
		if (expect_status(st, "SELECT", 2, select) < 0)
			return -1;
	}
	for (int i = 0; i < SCRIPT_COUNT; i++)
		if (load_script(st, i) < 0)
			return -1;
	return 0;
}

enum store_status store_connect(struct store *st)
{
	const struct ar_config *cfg = st->cfg;
	struct timeval tv = {cfg->redis_timeout_ms / 1000, (cfg->redis_timeout_ms % 1000) * 1000};

	if (st->ctx)
		return STORE_OK;
	st->ctx = cfg->redis_unix_path
	              ? redisConnectUnixWithTimeout(cfg->redis_unix_path, tv)
	              : redisConnectWithTimeout(cfg->redis_host, cfg->redis_port, tv);
	if (!st->ctx || st->ctx->err) {
		connection_failed(st, "connect");
		return STORE_ERR_UNAVAILABLE;
	}
	if (set_up_connection(st) < 0)
		return STORE_ERR_UNAVAILABLE;
	log_debug("redis %s: connected", st->where);
	return STORE_OK;
}

/* Maps an error reply to a status; these prefixes mean "did not run". */
static enum store_status classify_error(struct store *st, const char *what, const char *msg)
{
	static const char *const not_run[] = {"LOADING", "BUSY", "READONLY", "MASTERDOWN",
	                                      "NOREPLICAS", "TRYAGAIN", "CLUSTERDOWN", "NOAUTH"};
	if (strncmp(msg, "OOM", 3) == 0) {
		log_error("redis %s: %s refused, Redis is out of memory (maxmemory reached, "
		          "noeviction): %s",
		          st->where, what, msg);
		return STORE_ERR_FULL;
	}
	for (size_t i = 0; i < sizeof not_run / sizeof not_run[0]; i++) {
		if (strncmp(msg, not_run[i], strlen(not_run[i])) == 0) {
			log_error("redis %s: %s refused: %s", st->where, what, msg);
			drop_connection(st);
			return STORE_ERR_UNAVAILABLE;
		}
	}
	log_error("redis %s: %s failed: %s", st->where, what, msg);
	return STORE_ERR_REPLY;
}

/* Puts argument i. */
static void arg(struct store *st, int i, const char *s, size_t len)
{
	st->argv[i] = s;
	st->argvlen[i] = len;
}

static void arg_str(struct store *st, int i, const char *s)
{
	arg(st, i, s, strlen(s));
}

/* Builds prefix + kind + name into key slot k and puts it as argument i. */
static void arg_key(struct store *st, int i, int k, const char *kind, const char *name)
{
	const char *parts[3] = {st->cfg->key_prefix, kind, name};
	char *key = st->keys[k];
	size_t n = 0;

	for (int p = 0; p < 3; p++) {
		size_t len = strlen(parts[p]);
		if (len >= KEY_MAX - n) {
			/* A cut key could name another client's key: never send it. */
			st->arg_overflow = 1;
			arg(st, i, key, 0);
			return;
		}
		memcpy(key + n, parts[p], len);
		n += len;
	}
	key[n] = '\0';
	arg(st, i, key, n);
}

/* "<prefix>tw:<W>:<index>" into out; 0 for a key too long. */
static size_t window_key(const char *prefix, long seconds, long long index, char out[KEY_MAX])
{
	char name[48];
	size_t plen = strlen(prefix), n = 0;

	memcpy(name, "tw:", 3);
	n = 3 + strbuf_format_int(name + 3, seconds);
	name[n++] = ':';
	n += strbuf_format_int(name + n, index);
	if (plen + n >= KEY_MAX)
		return 0;
	memcpy(out, prefix, plen);
	memcpy(out + plen, name, n);
	out[plen + n] = '\0';
	return plen + n;
}

/* The issue windows of unused tokens. A token issued at unix time t (this
 * process's clock) goes into the hash "<p>tw:<W>:<t / W>", W seconds a
 * window: one hash field costs Redis less than one key with an expiry of
 * its own. A process that submits must look in every window a live token
 * can be in: the current one first (tokens are mostly used soon), then
 * back over the TTL and one window more (another host's clock may be
 * behind), and one ahead (or ahead of ours). W is in the key, so processes
 * configured with another token_ttl use their own hashes. The key names
 * change once a window: they are rendered then, not on every request. */
static const struct token_windows *current_windows(struct store *st)
{
	struct token_windows *tw = &st->windows;
	long w = (st->cfg->token_ttl + WINDOWS_PER_TTL - 1) / WINDOWS_PER_TTL;
	long back;
	long long now = (long long)time(NULL), current;

	if (w < WINDOW_MIN_S)
		w = WINDOW_MIN_S;
	back = (st->cfg->token_ttl + w - 1) / w + 1; /* <= WINDOWS_PER_TTL + 1 */
	current = now / w;
	tw->now = now;
	if (current == tw->current && w == tw->seconds)
		return tw;
	tw->seconds = w;
	tw->current = current;
	tw->count = 0;
	tw->overflow = 0;
	for (long k = -1; k <= back; k++) {
		/* k = -1 is the window ahead, looked in last. */
		int slot = k < 0 ? (int)back + 1 : (int)k;
		tw->key_len[slot] = window_key(st->cfg->key_prefix, w, current - k, tw->key[slot]);
		tw->overflow |= tw->key_len[slot] == 0;
		tw->count++;
	}
	return tw;
}

/* Window key number i (0 = the current window) as argument a. */
static void arg_window(struct store *st, int a, const struct token_windows *tw, int i)
{
	if (tw->overflow)
		st->arg_overflow = 1;
	arg(st, a, tw->key[i], tw->key_len[i]);
}

/* 0, or -1 (logged) when a key of the command being built did not fit. */
static int args_complete(struct store *st, const char *what)
{
	if (!st->arg_overflow)
		return 0;
	st->arg_overflow = 0;
	log_error("redis %s: a key of %s is longer than %d bytes; not sent", st->where, what,
	          KEY_MAX - 1);
	return -1;
}

static void arg_num(struct store *st, int i, int k, long long v)
{
	arg(st, i, st->nums[k], strbuf_format_int(st->nums[k], v));
}

/* Sends argv[0..argc) and reads the reply: one round trip. The command is
 * written in RESP here into a buffer kept across calls and handed to
 * hiredis as is; redisCommandArgv would format it with sdscatfmt into a
 * fresh buffer each time (14 % of a submission's instructions). NULL on an
 * I/O error or timeout (ctx->err says which). */
static redisReply *send_command(struct store *st, int argc)
{
	struct strbuf *cmd = &st->command;
	size_t need = 16;
	void *reply = NULL;
	char *p;

	for (int i = 0; i < argc; i++)
		need += 1 + 20 + 2 + st->argvlen[i] + 2;
	strbuf_reset(cmd);
	p = strbuf_reserve(cmd, need);
	*p++ = '*';
	p += strbuf_format_int(p, argc);
	*p++ = '\r';
	*p++ = '\n';
	for (int i = 0; i < argc; i++) {
		*p++ = '$';
		p += strbuf_format_int(p, (long long)st->argvlen[i]);
		*p++ = '\r';
		*p++ = '\n';
		memcpy(p, st->argv[i], st->argvlen[i]);
		p += st->argvlen[i];
		*p++ = '\r';
		*p++ = '\n';
	}
	strbuf_commit(cmd, (size_t)(p - (cmd->data + cmd->len)));
	if (redisAppendFormattedCommand(st->ctx, cmd->data, cmd->len) != REDIS_OK ||
	    redisGetReply(st->ctx, &reply) != REDIS_OK)
		return NULL;
	return reply;
}

/* Runs one command from st->argv; on STORE_OK *out holds a non-error reply
 * (the caller frees it). */
static enum store_status run(struct store *st, const char *what, int argc, redisReply **out)
{
	enum store_status s = store_connect(st);
	redisReply *r;

	*out = NULL;
	if (args_complete(st, what) < 0)
		return STORE_ERR_REPLY;
	if (s != STORE_OK)
		return s;
	r = send_command(st, argc);
	if (!r) {
		/* A timeout or reset: the command may have run. */
		connection_failed(st, what);
		return STORE_ERR_UNKNOWN;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		s = classify_error(st, what, r->str);
		freeReplyObject(r);
		return s;
	}
	*out = r;
	return STORE_OK;
}

static int is_noscript(const redisReply *r)
{
	return r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0;
}

/* EVALSHA with argv[3..argc) already placed; argv[0..2] are filled here.
 * NOSCRIPT (Redis restarted or flushed: the script did not run) is retried
 * once as EVAL with the source, which runs the script and puts it back in
 * the cache in one round trip; a SCRIPT LOAD then EVALSHA would lose to a
 * flush landing between the two. */
static enum store_status eval_script(struct store *st, int id, int numkeys, int argc,
                                     redisReply **out)
{
	enum store_status s = store_connect(st);
	redisReply *r;

	*out = NULL;
	if (args_complete(st, script_names[id]) < 0)
		return STORE_ERR_REPLY;
	if (s != STORE_OK)
		return s;
	arg_str(st, 0, "EVALSHA");
	arg(st, 1, st->sha[id], 40);
	arg_num(st, 2, NUM_NUMKEYS, numkeys);
	r = send_command(st, argc);
	if (r && is_noscript(r)) {
		freeReplyObject(r);
		log_warn("redis %s: NOSCRIPT for %s; sending its source again", st->where,
		         script_names[id]);
		arg_str(st, 0, "EVAL");
		arg_str(st, 1, st->script[id]->source);
		r = send_command(st, argc);
	}
	if (!r) {
		connection_failed(st, script_names[id]);
		return STORE_ERR_UNKNOWN;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		s = classify_error(st, script_names[id], r->str);
		freeReplyObject(r);
		return s;
	}
	*out = r;
	return STORE_OK;
}

static enum store_status unexpected(struct store *st, const char *what, redisReply *r)
{
	log_error("redis %s: unexpected reply type %d to %s", st->where, r ? r->type : -1, what);
	freeReplyObject(r);
	return STORE_ERR_REPLY;
}

enum store_status store_ping(struct store *st)
{
	redisReply *r;
	arg_str(st, 0, "PING");
	enum store_status s = run(st, "PING", 1, &r);
	if (s != STORE_OK)
		return s;
	if (r->type != REDIS_REPLY_STATUS)
		return unexpected(st, "PING", r);
	freeReplyObject(r);
	return STORE_OK;
}

enum store_status store_issue_token(struct store *st, const char *token, const char *identity,
                                    const char *client, long *retry_after)
{
	const struct ar_config *cfg = st->cfg;
	redisReply *r;

	char field[TOKEN_KEY_LEN + 1];
	const struct token_windows *tw = current_windows(st);

	token_key_name(token, field);
	arg_key(st, 3, 0, "rate:", client);
	arg_window(st, 4, tw, 0);
	arg_key(st, 5, 2, "metrics", "");
	arg_num(st, 6, NUM_FIRST, cfg->token_rate);
	arg_num(st, 7, NUM_SECOND, cfg->token_ttl);
	arg_str(st, 8, identity);
	arg(st, 9, field, TOKEN_KEY_LEN);
	/* Past the last expiry of any token in it, by Redis's clock (a window
	 * of the TTL, one of clock disagreement), and the same for every
	 * process that shares W: the window's end + (WINDOWS_PER_TTL + 1) W. */
	arg_num(st, 10, NUM_THIRD, (tw->current + 2 + WINDOWS_PER_TTL) * tw->seconds);
	arg_num(st, 11, NUM_FOURTH, tw->now);
	arg_num(st, 12, NUM_FIFTH, tw->seconds / 2);
	enum store_status s = eval_script(st, SCRIPT_ISSUE_TOKEN, 3, 13, &r);
	if (s != STORE_OK)
		return s;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_INTEGER || r->element[1]->type != REDIS_REPLY_INTEGER)
		return unexpected(st, "issue_token", r);
	*retry_after = r->element[0]->integer == 1 ? 0 : (long)r->element[1]->integer;
	if (*retry_after == 0 && r->element[0]->integer != 1)
		*retry_after = 1;
	freeReplyObject(r);
	return STORE_OK;
}

static int reply_is(const redisReply *r, const char *s)
{
	return r->type == REDIS_REPLY_STRING && strlen(s) == r->len && memcmp(r->str, s, r->len) == 0;
}

/* Copies a string reply into dst (size dstlen); "" for anything else. */
static void copy_string(char *dst, size_t dstlen, const redisReply *r)
{
	size_t n = 0;
	if (r->type == REDIS_REPLY_STRING)
		n = r->len < dstlen - 1 ? r->len : dstlen - 1;
	if (n)
		memcpy(dst, r->str, n);
	dst[n] = '\0';
}

static int parse_outcome(const redisReply *r, enum submit_outcome *out)
{
	if (reply_is(r, "created"))
		*out = OUTCOME_CREATED;
	else if (reply_is(r, "unknown_sku"))
		*out = OUTCOME_UNKNOWN_SKU;
	else if (reply_is(r, "out_of_stock"))
		*out = OUTCOME_OUT_OF_STOCK;
	else if (reply_is(r, ""))
		*out = OUTCOME_NONE;
	else
		return -1;
	return 0;
}

/* Fills res from the script's {result, outcome, order_id, body, sku, available}. */
static int parse_submit_reply(const redisReply *r, struct store_submit_result *res)
{
	int found = 0;

	if (r->type != REDIS_REPLY_ARRAY || r->elements != 6 ||
	    r->element[5]->type != REDIS_REPLY_INTEGER)
		return -1;
	for (int i = 0; i < SUBMIT_RESULT_COUNT; i++) {
		if (reply_is(r->element[0], result_names[i])) {
			res->result = (enum submit_result)i;
			found = 1;
		}
	}
	if (!found || parse_outcome(r->element[1], &res->outcome) < 0)
		return -1;
	copy_string(res->order_id, sizeof res->order_id, r->element[2]);
	copy_string(res->sku, sizeof res->sku, r->element[4]);
	res->available = r->element[5]->integer;
	if (r->element[3]->type == REDIS_REPLY_STRING && r->element[3]->len > 0) {
		res->body = xstrndup(r->element[3]->str, r->element[3]->len);
		res->body_len = r->element[3]->len;
	}
	return 0;
}

enum store_status store_submit_order(struct store *st, const struct store_submission *sub,
                                     struct store_submit_result *res)
{
	const struct ar_config *cfg = st->cfg;
	const struct order *o = sub->order;
	size_t n = o->n_items;
	int a = 3, k = 0;
	redisReply *r;

	char field[TOKEN_KEY_LEN + 1];
	const struct token_windows *tw = current_windows(st);

	memset(res, 0, sizeof *res);
	token_key_name(sub->token, field);
	arg_key(st, a++, k++, "t:", field);
	arg_key(st, a++, k++, "order:", sub->order_id);
	arg_key(st, a++, k++, "orders", "");
	arg_key(st, a++, k++, "metrics", "");
	for (int i = 0; i < tw->count; i++)
		arg_window(st, a++, tw, i);
	for (size_t i = 0; i < n; i++)
		arg_key(st, a++, k++, "stock:", o->items[i].sku);
	arg_str(st, a++, sub->identity);
	arg_str(st, a++, sub->canonical);
	arg_num(st, a++, NUM_FIRST, cfg->result_ttl);
	arg_str(st, a++, cfg->duplicate_mode == DUPLICATE_REJECT ? "reject" : "replay");
	arg_str(st, a++, sub->order_id);
	arg(st, a++, sub->order_json, sub->order_json_len);
	arg_num(st, a++, NUM_SECOND, tw->count);
	arg(st, a++, field, TOKEN_KEY_LEN);
	arg_num(st, a++, NUM_FOURTH, tw->now);
	arg_num(st, a++, NUM_FIFTH, tw->seconds / 2);
	for (size_t i = 0; i < n; i++)
		arg_num(st, a++, (int)i + 1, o->items[i].qty);
	for (size_t i = 0; i < n; i++)
		arg_str(st, a++, o->items[i].sku);

	enum store_status s =
	    eval_script(st, SCRIPT_SUBMIT_ORDER, (int)(4 + tw->count + (int)n), a, &r);
	if (s != STORE_OK)
		return s;
	if (parse_submit_reply(r, res) < 0) {
		store_submit_result_free(res);
		return unexpected(st, "submit_order", r);
	}
	freeReplyObject(r);
	/* The script does not send back the body it was just given. */
	if (res->result == SUBMIT_CREATED && !res->body) {
		res->body = xstrndup(sub->order_json, sub->order_json_len);
		res->body_len = sub->order_json_len;
	}
	return STORE_OK;
}

void store_submit_result_free(struct store_submit_result *res)
{
	free(res->body);
	res->body = NULL;
	res->body_len = 0;
}

enum store_status store_get_order(struct store *st, const char *order_id, const char *identity,
                                  int check_owner, char **json, size_t *len)
{
	redisReply *r;

	*json = NULL;
	*len = 0;
	arg_str(st, 0, "HMGET");
	arg_key(st, 1, 0, "order:", order_id);
	arg_str(st, 2, "order");
	arg_str(st, 3, "owner");
	enum store_status s = run(st, "HMGET order", 4, &r);
	if (s != STORE_OK)
		return s;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2)
		return unexpected(st, "HMGET order", r);
	const redisReply *body = r->element[0], *owner = r->element[1];
	int visible = body->type == REDIS_REPLY_STRING;
	if (visible && check_owner)
		visible = owner->type == REDIS_REPLY_STRING &&
		          util_consttime_equal(owner->str, owner->len, identity, strlen(identity));
	if (visible) {
		*json = xstrndup(body->str, body->len);
		*len = body->len;
	}
	freeReplyObject(r);
	return STORE_OK;
}

enum store_status store_get_stock(struct store *st, const char *sku, long long *available,
                                  int *found)
{
	redisReply *r;
	long v;

	*found = 0;
	*available = 0;
	arg_str(st, 0, "GET");
	arg_key(st, 1, 0, "stock:", sku);
	enum store_status s = run(st, "GET stock", 2, &r);
	if (s != STORE_OK)
		return s;
	if (r->type == REDIS_REPLY_NIL) {
		freeReplyObject(r);
		return STORE_OK;
	}
	if (r->type != REDIS_REPLY_STRING ||
	    util_parse_long(r->str, r->len, -2147483648L, 2147483647L, &v) < 0)
		return unexpected(st, "GET stock", r);
	*found = 1;
	*available = v;
	freeReplyObject(r);
	return STORE_OK;
}

enum store_status store_set_stock(struct store *st, const char *sku, long long available)
{
	redisReply *r;

	arg_str(st, 0, "SET");
	arg_key(st, 1, 0, "stock:", sku);
	arg_num(st, 2, 0, available);
	enum store_status s = run(st, "SET stock", 3, &r);
	if (s != STORE_OK)
		return s;
	if (r->type != REDIS_REPLY_STATUS)
		return unexpected(st, "SET stock", r);
	freeReplyObject(r);
	return STORE_OK;
}

enum store_status store_get_counters(struct store *st, struct store_counters *c)
{
	redisReply *r;

	memset(c, 0, sizeof *c);
	arg_str(st, 0, "HGETALL");
	arg_key(st, 1, 0, "metrics", "");
	enum store_status s = run(st, "HGETALL metrics", 2, &r);
	if (s != STORE_OK)
		return s;
	if (r->type != REDIS_REPLY_ARRAY || r->elements % 2 != 0)
		return unexpected(st, "HGETALL metrics", r);
	for (size_t i = 0; i + 1 < r->elements; i += 2) {
		const redisReply *name = r->element[i], *value = r->element[i + 1];
		long v;
		if (value->type != REDIS_REPLY_STRING ||
		    util_parse_long(value->str, value->len, 0, 0x7fffffffffffffffL, &v) < 0)
			continue;
		if (reply_is(name, "tokens_issued"))
			c->tokens_issued = v;
		else if (reply_is(name, "rate_limited"))
			c->rate_limited = v;
		for (int k = 0; k < SUBMIT_RESULT_COUNT; k++)
			if (reply_is(name, result_names[k]))
				c->submissions[k] = v;
	}
	freeReplyObject(r);
	return STORE_OK;
}
