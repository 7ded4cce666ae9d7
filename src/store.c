/* store: every command antireplay-fcgi sends and what its reply means. Key
 * names are keyspace's, arguments redis_args's, the connection redis_conn's. */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "keyspace.h"
#include "log.h"
#include "redis_args.h"
#include "redis_conn.h"
#include "util.h"

/* store_status is redis_status under the names the handlers use. */
_Static_assert(STORE_OK == (int)REDIS_STATUS_OK &&
                   STORE_ERR_UNAVAILABLE == (int)REDIS_STATUS_UNAVAILABLE &&
                   STORE_ERR_UNKNOWN == (int)REDIS_STATUS_UNKNOWN &&
                   STORE_ERR_FULL == (int)REDIS_STATUS_FULL &&
                   STORE_ERR_REPLY == (int)REDIS_STATUS_REPLY,
               "store_status mirrors redis_status");

/* The biggest call, submit_order: EVALSHA sha numkeys, the keys (6 +
 * windows + lines), the arguments (12 + 2 * lines). */
#define MAX_ARGS                                                                    \
	(REDIS_ARGS_SCRIPT_HEAD + 6 + KEYSPACE_WINDOWS_MAX + ORDER_MAX_ITEMS + 12 + \
	 2 * ORDER_MAX_ITEMS)
/* Its copied keys (6 + lines) and numbers (a few, and each quantity). */
#define ARGS_BUF ((6 + ORDER_MAX_ITEMS) * KEYSPACE_KEY_MAX + (10 + ORDER_MAX_ITEMS) * 24)

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
    [SUBMIT_RATE_LIMITED] = "rate_limited",
};

/* The counter of result r in the metrics hash: its name, but for
 * rate_limited, which token_rate's counter already is. */
static const char *counter_name(int r)
{
	return r == SUBMIT_RATE_LIMITED ? "submit_rate_limited" : result_names[r];
}

struct store {
	const struct ar_config *cfg;
	struct redis_conn *conn;
	/* One command's arguments, reused: no per-request malloc. */
	struct redis_args args;
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
	redis_args_init(&st->args, MAX_ARGS, ARGS_BUF);
	keyspace_windows_init(&st->windows);
	return st;
}

void store_free(struct store *st)
{
	if (!st)
		return;
	redis_conn_free(st->conn);
	redis_args_release(&st->args);
	free(st);
}

enum store_status store_connect(struct store *st)
{
	return (enum store_status)redis_conn_connect(st->conn);
}

/* Appends the key of kind and name; one that does not fit fails the
 * command (a key cut short could name another client's). */
static void add_key(struct store *st, enum key_kind kind, const char *name)
{
	char key[KEYSPACE_KEY_MAX];
	size_t n = keyspace_key(key, st->cfg->key_prefix, kind, name);

	if (n == 0)
		redis_args_fail(&st->args);
	redis_args_add_copy(&st->args, key, n);
}

/* The windows of unused tokens to use now (rendered once a window). */
static const struct token_windows *current_windows(struct store *st)
{
	if (keyspace_windows_at(&st->windows, st->cfg->key_prefix, st->cfg->token_ttl,
	                        (long long)time(NULL)) < 0)
		redis_args_fail(&st->args);
	return &st->windows;
}

/* Runs the command in st->args; on STORE_OK *out holds a non-error reply
 * (the caller frees it). */
static enum store_status run(struct store *st, const char *what, redisReply **out)
{
	const struct redis_args *a = &st->args;

	*out = NULL;
	if (!redis_conn_args_ok(st->conn, what, a))
		return STORE_ERR_REPLY;
	return (enum store_status)redis_conn_run(st->conn, what, a->argc, a->argv, a->argvlen, out);
}

static enum store_status eval_script(struct store *st, int id, redisReply **out)
{
	return (enum store_status)redis_conn_eval(st->conn, id, &st->args, out);
}

static enum store_status unexpected(struct store *st, const char *what, redisReply *r)
{
	return (enum store_status)redis_conn_unexpected(st->conn, what, r);
}

enum store_status store_ping(struct store *st)
{
	redisReply *r;
	redis_args_start_command(&st->args);
	redis_args_add_str(&st->args, "PING");
	enum store_status s = run(st, "PING", &r);
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

	struct redis_args *a = &st->args;
	char field[TOKEN_KEY_LEN + 1];

	redis_args_start_script(a);
	const struct token_windows *tw = current_windows(st);
	token_key_name(token, field);
	/* In the order lua/issue_token.lua names them. */
	add_key(st, KEY_RATE, client);
	redis_args_add(a, tw->key[0], tw->key_len[0]);
	add_key(st, KEY_METRICS, "");
	redis_args_end_keys(a);
	redis_args_add_int(a, cfg->token_rate);
	redis_args_add_int(a, cfg->token_ttl);
	redis_args_add_str(a, identity);
	redis_args_add(a, field, TOKEN_KEY_LEN);
	redis_args_add_int(a, keyspace_window_expireat(tw));
	redis_args_add_int(a, tw->now);
	redis_args_add_int(a, keyspace_max_skew(tw));
	enum store_status s = eval_script(st, SCRIPT_ISSUE_TOKEN, &r);
	if (s != STORE_OK)
		return s;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_INTEGER ||
	    r->element[1]->type != REDIS_REPLY_INTEGER)
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
	if (res->result == SUBMIT_RATE_LIMITED)
		res->retry_after = (long)res->available;
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
	struct redis_args *a = &st->args;
	const struct idem_key *key = sub->key;
	int client_keys = sub->client_keys;
	size_t n = o->n_items;
	redisReply *r;
	char field[TOKEN_KEY_LEN + 1] = "", client_name[IDEM_KEY_NAME_LEN + 1] = "";

	memset(res, 0, sizeof *res);
	redis_args_start_script(a);
	const struct token_windows *tw = current_windows(st);
	if (key->is_token)
		token_key_name(key->text, field);
	if (client_keys || !key->is_token)
		idem_key_name(sub->identity, key, client_name);
	/* In the order lua/submit_order.lua names them. A token's outcome is
	 * under its field; a client's own key's under its name; a token-shaped
	 * key under keys = client may be either. */
	if (key->is_token)
		add_key(st, KEY_TOKEN, field);
	else
		add_key(st, KEY_CLIENT_KEY, client_name);
	if (client_keys)
		add_key(st, KEY_CLIENT_KEY, client_name);
	else
		add_key(st, KEY_TOKEN, field);
	add_key(st, KEY_ORDER, sub->order_id);
	add_key(st, KEY_ORDERS, "");
	add_key(st, KEY_METRICS, "");
	add_key(st, KEY_SUBMIT_RATE, sub->client);
	int windows = key->is_token ? tw->count : 0;
	for (int i = 0; i < windows; i++)
		redis_args_add(a, tw->key[i], tw->key_len[i]);
	for (size_t i = 0; i < n; i++)
		add_key(st, KEY_STOCK, o->items[i].sku);
	redis_args_end_keys(a);
	redis_args_add_str(a, sub->identity);
	redis_args_add_str(a, sub->canonical);
	redis_args_add_int(a, cfg->result_ttl);
	redis_args_add_str(a, cfg->duplicate_mode == DUPLICATE_REJECT ? "reject" : "replay");
	redis_args_add_str(a, sub->order_id);
	redis_args_add(a, sub->order_json, sub->order_json_len);
	redis_args_add_int(a, windows);
	redis_args_add_str(a, field);
	redis_args_add_int(a, tw->now);
	redis_args_add_int(a, keyspace_max_skew(tw));
	redis_args_add_str(a, client_keys ? "1" : "0");
	redis_args_add_int(a, cfg->submit_rate);
	for (size_t i = 0; i < n; i++)
		redis_args_add_int(a, o->items[i].qty);
	for (size_t i = 0; i < n; i++)
		redis_args_add_str(a, o->items[i].sku);

	enum store_status s = eval_script(st, SCRIPT_SUBMIT_ORDER, &r);
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
	redis_args_start_command(&st->args);
	redis_args_add_str(&st->args, "HMGET");
	add_key(st, KEY_ORDER, order_id);
	redis_args_add_str(&st->args, "order");
	redis_args_add_str(&st->args, "owner");
	enum store_status s = run(st, "HMGET order", &r);
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
	redis_args_start_command(&st->args);
	redis_args_add_str(&st->args, "GET");
	add_key(st, KEY_STOCK, sku);
	enum store_status s = run(st, "GET stock", &r);
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

	redis_args_start_command(&st->args);
	redis_args_add_str(&st->args, "SET");
	add_key(st, KEY_STOCK, sku);
	redis_args_add_int(&st->args, available);
	enum store_status s = run(st, "SET stock", &r);
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
	redis_args_start_command(&st->args);
	redis_args_add_str(&st->args, "HGETALL");
	add_key(st, KEY_METRICS, "");
	enum store_status s = run(st, "HGETALL metrics", &r);
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
			if (redis_reply_is(name, counter_name(k)))
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
	redis_args_start_command(&st->args);
	redis_args_add_str(&st->args, "XINFO");
	redis_args_add_str(&st->args, "GROUPS");
	add_key(st, KEY_ORDERS, "");
	if (!redis_conn_args_ok(st->conn, "XINFO GROUPS", &st->args))
		return STORE_ERR_REPLY;
	enum store_status s = (enum store_status)redis_conn_run_any(
	    st->conn, "XINFO GROUPS", st->args.argc, st->args.argv, st->args.argvlen, &r);
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
