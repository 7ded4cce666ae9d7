/* store: every command antireplay-fcgi sends, its keys and its replies;
 * the connection itself is redis_conn's. */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "identity.h"
#include "log.h"
#include "redis_conn.h"
#include "strbuf.h"
#include "util.h"

/* store_status is redis_status under the names the handlers use. */
_Static_assert(STORE_OK == (int)REDIS_STATUS_OK &&
                   STORE_ERR_UNAVAILABLE == (int)REDIS_STATUS_UNAVAILABLE &&
                   STORE_ERR_UNKNOWN == (int)REDIS_STATUS_UNKNOWN &&
                   STORE_ERR_FULL == (int)REDIS_STATUS_FULL &&
                   STORE_ERR_REPLY == (int)REDIS_STATUS_REPLY,
               "store_status mirrors redis_status");

/* The longest key: prefix (<= 64) + "rate:" + a client key ("i:" + identity
 * or "a:" + REMOTE_ADDR, < IDENTITY_MAX + 64). */
#define KEY_MAX (64 + 8 + IDENTITY_MAX + 64)
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
	struct redis_conn *conn;
	/* Per-process scratch for one command's arguments: no per-request malloc. */
	const char *argv[MAX_ARGS];
	size_t argvlen[MAX_ARGS];
	int arg_overflow; /* a key did not fit: refuse to send the command */
	char keys[KEY_SLOTS][KEY_MAX];
	char nums[NUM_SLOTS][24];
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
	st->conn = redis_conn_new(cfg, 0, script_names, SCRIPT_COUNT);
	st->windows.current = -1;
	return st;
}

void store_free(struct store *st)
{
	if (!st)
		return;
	redis_conn_free(st->conn);
	free(st);
}

enum store_status store_connect(struct store *st)
{
	return (enum store_status)redis_conn_connect(st->conn);
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
	log_error("redis %s: a key of %s is longer than %d bytes; not sent",
	          redis_conn_where(st->conn), what,
	          KEY_MAX - 1);
	return -1;
}

static void arg_num(struct store *st, int i, int k, long long v)
{
	arg(st, i, st->nums[k], strbuf_format_int(st->nums[k], v));
}

/* Runs one command from st->argv; on STORE_OK *out holds a non-error reply
 * (the caller frees it). */
static enum store_status run(struct store *st, const char *what, int argc, redisReply **out)
{
	*out = NULL;
	if (args_complete(st, what) < 0)
		return STORE_ERR_REPLY;
	return (enum store_status)redis_conn_run(st->conn, what, argc, st->argv, st->argvlen, out);
}

/* Runs script id with st->argv[3..argc) placed. */
static enum store_status eval_script(struct store *st, int id, int numkeys, int argc,
                                     redisReply **out)
{
	*out = NULL;
	if (args_complete(st, script_names[id]) < 0)
		return STORE_ERR_REPLY;
	return (enum store_status)redis_conn_eval(st->conn, id, numkeys, argc, st->argv,
	                                          st->argvlen, out);
}

static enum store_status unexpected(struct store *st, const char *what, redisReply *r)
{
	return (enum store_status)redis_conn_unexpected(st->conn, what, r);
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
	if (redis_reply_is(r, "created"))
		*out = OUTCOME_CREATED;
	else if (redis_reply_is(r, "unknown_sku"))
		*out = OUTCOME_UNKNOWN_SKU;
	else if (redis_reply_is(r, "out_of_stock"))
		*out = OUTCOME_OUT_OF_STOCK;
	else if (redis_reply_is(r, ""))
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
		if (redis_reply_is(r->element[0], result_names[i])) {
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
	    util_parse_long(r->str, r->len, -ORDER_STOCK_MAX - 1L, ORDER_STOCK_MAX, &v) < 0)
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
		if (redis_reply_is(name, "tokens_issued"))
			c->tokens_issued = v;
		else if (redis_reply_is(name, "rate_limited"))
			c->rate_limited = v;
		for (int k = 0; k < SUBMIT_RESULT_COUNT; k++)
			if (redis_reply_is(name, result_names[k]))
				c->submissions[k] = v;
	}
	freeReplyObject(r);
	return STORE_OK;
}

/* One group of XINFO GROUPS: a flat [name, value, ...] array. 0 when it
 * fits g. */
static int parse_group(const redisReply *r, struct store_stream_group *g)
{
	int named = 0;

	g->pending = 0;
	g->lag = -1;
	if (r->type != REDIS_REPLY_ARRAY)
		return -1;
	for (size_t i = 0; i + 1 < r->elements; i += 2) {
		const redisReply *k = r->element[i], *v = r->element[i + 1];
		if (redis_reply_is(k, "name") && v->type == REDIS_REPLY_STRING &&
		    v->len <= STORE_GROUP_NAME_MAX) {
			memcpy(g->name, v->str, v->len);
			g->name[v->len] = '\0';
			named = 1;
		} else if (redis_reply_is(k, "pending") && v->type == REDIS_REPLY_INTEGER) {
			g->pending = v->integer;
		} else if (redis_reply_is(k, "lag") && v->type == REDIS_REPLY_INTEGER) {
			g->lag = v->integer;
		}
	}
	return named ? 0 : -1;
}

enum store_status store_get_stream_groups(struct store *st, struct store_stream_group *g,
                                          size_t max, size_t *n)
{
	redisReply *r;

	*n = 0;
	arg_str(st, 0, "XINFO");
	arg_str(st, 1, "GROUPS");
	arg_key(st, 2, 0, "orders", "");
	if (args_complete(st, "XINFO GROUPS") < 0)
		return STORE_ERR_REPLY;
	enum store_status s = (enum store_status)redis_conn_run_any(st->conn, "XINFO GROUPS", 3,
	                                                            st->argv, st->argvlen, &r);
	if (s != STORE_OK)
		return s;
	/* "ERR no such key": no order yet, not a failure. */
	if (r->type == REDIS_REPLY_ERROR && strstr(r->str, "no such key")) {
		freeReplyObject(r);
		return STORE_OK;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		s = (enum store_status)redis_conn_error(st->conn, "XINFO GROUPS", r->str);
		freeReplyObject(r);
		return s;
	}
	if (r->type != REDIS_REPLY_ARRAY)
		return unexpected(st, "XINFO GROUPS", r);
	for (size_t i = 0; i < r->elements && *n < max; i++)
		if (parse_group(r->element[i], &g[*n]) == 0)
			(*n)++;
	freeReplyObject(r);
	return STORE_OK;
}
