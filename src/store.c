/* store: every command antireplay-fcgi sends and what its reply means. Key
 * names are keyspace's, arguments redis_args's, the connection redis_conn's. */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "store_priv.h"
#include "util.h"

/* store_status is redis_status under the names the handlers use. */
_Static_assert(STORE_OK == (int)REDIS_STATUS_OK &&
                   STORE_ERR_UNAVAILABLE == (int)REDIS_STATUS_UNAVAILABLE &&
                   STORE_ERR_UNKNOWN == (int)REDIS_STATUS_UNKNOWN &&
                   STORE_ERR_FULL == (int)REDIS_STATUS_FULL &&
                   STORE_ERR_REPLY == (int)REDIS_STATUS_REPLY &&
                   STORE_ERR_NOT_REPLICATED == (int)REDIS_STATUS_NOT_REPLICATED,
               "store_status mirrors redis_status");

/* The biggest call, submit_order: EVALSHA sha numkeys, the keys (7 +
 * windows + lines), the arguments (13 + 2 * lines). */
#define MAX_ARGS                                                                    \
	(REDIS_ARGS_SCRIPT_HEAD + 7 + KEYSPACE_WINDOWS_MAX + ORDER_MAX_ITEMS + 13 + \
	 2 * ORDER_MAX_ITEMS)
/* Its copied keys (7 + lines) and numbers (a few, and each quantity). */
#define ARGS_BUF ((7 + ORDER_MAX_ITEMS) * KEYSPACE_KEY_MAX + (10 + ORDER_MAX_ITEMS) * 24)

static const char *const script_names[STORE_SCRIPT_COUNT] = {
    [STORE_SCRIPT_ISSUE_TOKEN] = "issue_token",
    [STORE_SCRIPT_SUBMIT_ORDER] = "submit_order",
    [STORE_SCRIPT_GATE] = "gate",
};

static const char *const result_names[SUBMIT_RESULT_COUNT] = {
    [SUBMIT_CREATED] = "created",
    [SUBMIT_REPLAYED] = "replayed",
    [SUBMIT_REJECTED] = "rejected",
    [SUBMIT_TOKEN_REUSED] = "token_reused",
    [SUBMIT_INVALID_TOKEN] = "invalid_token",
    [SUBMIT_UNKNOWN_SKU] = "unknown_sku",
    [SUBMIT_OUT_OF_STOCK] = "out_of_stock",
    [SUBMIT_RATE_LIMITED] = "rate_limited",
    [SUBMIT_IN_PROGRESS] = "in_progress",
};

/* The gate's results: its metric labels, and its script's replies
 * (store_gate.c). */
static const char *const gate_result_names[GATE_RESULT_COUNT] = {
    [GATE_ALLOWED] = "allowed",
    [GATE_DUPLICATE] = "duplicate",
    [GATE_TOKEN_REUSED] = "token_reused",
    [GATE_INVALID_TOKEN] = "invalid_token",
    [GATE_MISSING_TOKEN] = "missing_token",
    [GATE_MALFORMED_TOKEN] = "malformed_token",
    [GATE_UNAVAILABLE] = "unavailable",
    [GATE_RATE_LIMITED] = "rate_limited",
};

/* The counter of result r in the metrics hash: its name, but for
 * rate_limited, which token_rate's counter already is. */
static const char *counter_name(int r)
{
	return r == SUBMIT_RATE_LIMITED ? "submit_rate_limited" : result_names[r];
}

const char *store_submit_result_name(enum submit_result r)
{
	return result_names[r];
}

const char *store_gate_result_name(enum gate_result r)
{
	return gate_result_names[r];
}

struct store *store_new(const struct ar_config *cfg)
{
	struct store *st = xcalloc(1, sizeof *st);

	st->cfg = cfg;
	st->conn = redis_conn_new(cfg, 0, script_names, STORE_SCRIPT_COUNT);
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

const char *store_where(const struct store *st)
{
	return redis_conn_where(st->conn);
}

enum store_status store_connect(struct store *st)
{
	return (enum store_status)redis_conn_connect(st->conn);
}

void store_add_key(struct store *st, enum key_kind kind, const char *name)
{
	char key[KEYSPACE_KEY_MAX];
	size_t n = keyspace_key(key, st->cfg->key_prefix, kind, name);

	if (n == 0)
		redis_args_fail(&st->args);
	redis_args_add_copy(&st->args, key, n);
}

void store_add_record_keys(struct store *st, const char *identity, const struct idem_key *key,
                           int client_keys, char field[TOKEN_KEY_LEN + 1])
{
	char client_name[IDEM_KEY_NAME_LEN + 1] = "";

	field[0] = '\0';
	if (key->is_token)
		token_key_name(key->text, field);
	if (client_keys || !key->is_token)
		idem_key_name(identity, key, client_name);
	if (key->is_token)
		store_add_key(st, KEY_TOKEN, field);
	else
		store_add_key(st, KEY_CLIENT_KEY, client_name);
	if (client_keys)
		store_add_key(st, KEY_CLIENT_KEY, client_name);
	else
		store_add_key(st, KEY_TOKEN, field);
}

const struct token_windows *store_windows_now(struct store *st)
{
	if (keyspace_windows_at(&st->windows, st->cfg->key_prefix, st->cfg->token_ttl,
	                        (long long)time(NULL)) < 0)
		redis_args_fail(&st->args);
	return &st->windows;
}

enum store_status store_run(struct store *st, const char *what, redisReply **out)
{
	const struct redis_args *a = &st->args;

	*out = NULL;
	if (!redis_conn_args_ok(st->conn, what, a))
		return STORE_ERR_REPLY;
	return (enum store_status)redis_conn_run(st->conn, what, a->argc, a->argv, a->argvlen, out);
}

enum store_status store_eval(struct store *st, enum store_script id, redisReply **out)
{
	return (enum store_status)redis_conn_eval(st->conn, id, &st->args, out);
}

enum store_status store_eval_replicated(struct store *st, enum store_script id, redisReply **out)
{
	return (enum store_status)redis_conn_eval_replicated(st->conn, id, &st->args, out);
}

enum store_status store_unexpected(struct store *st, const char *what, redisReply *r)
{
	return (enum store_status)redis_conn_unexpected(st->conn, what, r);
}

enum store_status store_ping(struct store *st)
{
	redisReply *r;
	redis_args_start_command(&st->args);
	redis_args_add_str(&st->args, "PING");
	enum store_status s = store_run(st, "PING", &r);
	if (s != STORE_OK)
		return s;
	if (r->type != REDIS_REPLY_STATUS)
		return store_unexpected(st, "PING", r);
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
	const struct token_windows *tw = store_windows_now(st);
	token_key_name(token, field);
	/* In the order lua/issue_token.lua names them. */
	store_add_key(st, KEY_RATE, client);
	redis_args_add(a, tw->key[0], tw->key_len[0]);
	store_add_key(st, KEY_METRICS, "");
	redis_args_end_keys(a);
	redis_args_add_int(a, cfg->token_rate);
	redis_args_add_int(a, cfg->token_ttl);
	redis_args_add_str(a, identity);
	redis_args_add(a, field, TOKEN_KEY_LEN);
	redis_args_add_int(a, keyspace_window_expireat(tw));
	redis_args_add_int(a, tw->now);
	redis_args_add_int(a, keyspace_max_skew(tw));
	enum store_status s = store_eval_replicated(st, STORE_SCRIPT_ISSUE_TOKEN, &r);
	if (s != STORE_OK)
		return s;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_INTEGER ||
	    r->element[1]->type != REDIS_REPLY_INTEGER)
		return store_unexpected(st, "issue_token", r);
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
	char field[TOKEN_KEY_LEN + 1];

	memset(res, 0, sizeof *res);
	redis_args_start_script(a);
	const struct token_windows *tw = store_windows_now(st);
	/* In the order lua/submit_order.lua names them. */
	store_add_record_keys(st, sub->identity, key, client_keys, field);
	store_add_key(st, KEY_ORDER, sub->order_id);
	store_add_key(st, KEY_ORDERS, "");
	store_add_key(st, KEY_METRICS, "");
	store_add_key(st, KEY_SUBMIT_RATE, sub->client);
	store_add_key(st, KEY_ORDER,
	              sub->issued_order_id[0] ? sub->issued_order_id : sub->order_id);
	int windows = key->is_token ? tw->count : 0;
	for (int i = 0; i < windows; i++)
		redis_args_add(a, tw->key[i], tw->key_len[i]);
	for (size_t i = 0; i < n; i++)
		store_add_key(st, KEY_STOCK, o->items[i].sku);
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
	redis_args_add_str(a, sub->issued_order_id);
	for (size_t i = 0; i < n; i++)
		redis_args_add_int(a, o->items[i].qty);
	for (size_t i = 0; i < n; i++)
		redis_args_add_str(a, o->items[i].sku);

	enum store_status s = store_eval_replicated(st, STORE_SCRIPT_SUBMIT_ORDER, &r);
	if (s != STORE_OK)
		return s;
	if (parse_submit_reply(r, res) < 0) {
		store_submit_result_free(res);
		return store_unexpected(st, "submit_order", r);
	}
	freeReplyObject(r);
	/* The script does not send back the body it was just given; its id is
	 * the one the script chose (derived or random, of one length). */
	if (res->result == SUBMIT_CREATED && !res->body) {
		res->body = xstrndup(sub->order_json, sub->order_json_len);
		res->body_len = sub->order_json_len;
		memcpy(res->body + ORDER_JSON_ID_AT, res->order_id, TOKEN_LEN);
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
	store_add_key(st, KEY_ORDER, order_id);
	redis_args_add_str(&st->args, "order");
	redis_args_add_str(&st->args, "owner");
	enum store_status s = store_run(st, "HMGET order", &r);
	if (s != STORE_OK)
		return s;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2)
		return store_unexpected(st, "HMGET order", r);
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
	store_add_key(st, KEY_STOCK, sku);
	enum store_status s = store_run(st, "GET stock", &r);
	if (s != STORE_OK)
		return s;
	if (r->type == REDIS_REPLY_NIL) {
		freeReplyObject(r);
		return STORE_OK;
	}
	if (r->type != REDIS_REPLY_STRING ||
	    util_parse_long(r->str, r->len, -ORDER_STOCK_MAX - 1L, ORDER_STOCK_MAX, &v) < 0)
		return store_unexpected(st, "GET stock", r);
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
	store_add_key(st, KEY_STOCK, sku);
	redis_args_add_int(&st->args, available);
	enum store_status s = store_run(st, "SET stock", &r);
	if (s != STORE_OK)
		return s;
	if (r->type != REDIS_REPLY_STATUS)
		return store_unexpected(st, "SET stock", r);
	freeReplyObject(r);
	return STORE_OK;
}

enum store_status store_get_counters(struct store *st, struct store_counters *c)
{
	redisReply *r;

	memset(c, 0, sizeof *c);
	redis_args_start_command(&st->args);
	redis_args_add_str(&st->args, "HGETALL");
	store_add_key(st, KEY_METRICS, "");
	enum store_status s = store_run(st, "HGETALL metrics", &r);
	if (s != STORE_OK)
		return s;
	if (r->type != REDIS_REPLY_ARRAY || r->elements % 2 != 0)
		return store_unexpected(st, "HGETALL metrics", r);
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
		if (name->type == REDIS_REPLY_STRING && name->len > 5 &&
		    memcmp(name->str, "gate_", 5) == 0)
			for (int k = 0; k < GATE_RESULT_COUNT; k++)
				if (strlen(store_gate_result_name(k)) == name->len - 5 &&
				    memcmp(store_gate_result_name(k), name->str + 5,
				           name->len - 5) == 0)
					c->gate[k] = v;
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
	store_add_key(st, KEY_ORDERS, "");
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
		return store_unexpected(st, "XINFO GROUPS", r);
	for (size_t i = 0; i < r->elements && *n < max; i++)
		if (parse_group(r->element[i], &g[*n]) == 0)
			(*n)++;
	freeReplyObject(r);
	return STORE_OK;
}
