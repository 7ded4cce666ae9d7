/* store_gate: the gate's commands (lua/gate.lua, lua/gate_release.lua) and
 * what a process owes Redis after a failed one: grants to give back and
 * results to count. */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "store_priv.h"

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

const char *store_gate_result_name(enum gate_result r)
{
	return gate_result_names[r];
}

/* Sends one owed release; STORE_OK when Redis took it. */
static enum store_status send_release(struct store *st, const struct store_owed_release *o)
{
	struct redis_args *a = &st->args;
	redisReply *r;

	/* In the order lua/gate_release.lua names them. */
	redis_args_start_script(a);
	redis_args_add_str(a, o->outcome_key);
	redis_args_add_str(a, o->client_outcome_key);
	store_add_key(st, KEY_GATE_RELEASED, o->grant);
	store_add_key(st, KEY_METRICS, "");
	redis_args_end_keys(a);
	redis_args_add_str(a, o->grant);
	/* The mark must outlast any gate.lua call still on its way; the
	 * record it guards lives result_ttl at most. */
	redis_args_add_int(a, st->cfg->result_ttl);
	enum store_status s = store_eval(st, STORE_SCRIPT_GATE_RELEASE, &r);
	if (s != STORE_OK)
		return s;
	if (r->type != REDIS_REPLY_INTEGER)
		return store_unexpected(st, "gate_release", r);
	if (r->integer == 1)
		log_info("gate: grant %.8s... given back (its request was answered 503)", o->grant);
	freeReplyObject(r);
	return STORE_OK;
}

/* Sends the counts of results decided without Redis. */
static enum store_status send_counts(struct store *st)
{
	for (int k = 0; k < GATE_RESULT_COUNT; k++) {
		char field[32];
		redisReply *r;

		if (st->gate_uncounted[k] == 0)
			continue;
		snprintf(field, sizeof field, "gate_%s", gate_result_names[k]);
		redis_args_start_command(&st->args);
		redis_args_add_str(&st->args, "HINCRBY");
		store_add_key(st, KEY_METRICS, "");
		redis_args_add_str(&st->args, field);
		redis_args_add_int(&st->args, st->gate_uncounted[k]);
		enum store_status s = store_run(st, "HINCRBY metrics", &r);
		if (s != STORE_OK)
			return s;
		freeReplyObject(r);
		st->gate_uncounted[k] = 0;
	}
	return STORE_OK;
}

/* Sends what this process owes: releases first (oldest first), then
 * counts. Stops at the first failure; the rest stays owed. */
static enum store_status settle(struct store *st)
{
	while (st->n_owed > 0) {
		enum store_status s = send_release(st, &st->owed[0]);
		if (s == STORE_ERR_REPLY) {
			log_error("gate: grant %.8s... could not be given back; dropped",
			          st->owed[0].grant);
		} else if (s != STORE_OK) {
			return s;
		}
		st->n_owed--;
		memmove(&st->owed[0], &st->owed[1], st->n_owed * sizeof st->owed[0]);
	}
	return send_counts(st);
}

enum store_status store_gate(struct store *st, const struct store_gate_call *call,
                             enum gate_result *result, long *retry_after)
{
	const struct ar_config *cfg = st->cfg;
	struct redis_args *a = &st->args;
	char field[TOKEN_KEY_LEN + 1];
	redisReply *r;

	*retry_after = 0;
	enum store_status s = settle(st);
	if (s != STORE_OK)
		return s;
	redis_args_start_script(a);
	const struct token_windows *tw = store_windows_now(st);
	/* In the order lua/gate.lua names them. */
	store_add_record_keys(st, call->identity, call->key, call->client_keys, field);
	store_add_key(st, KEY_METRICS, "");
	store_add_key(st, KEY_SUBMIT_RATE, call->client);
	store_add_key(st, KEY_GATE_RELEASED, call->grant);
	int windows = call->key->is_token ? tw->count : 0;
	for (int i = 0; i < windows; i++)
		redis_args_add(a, tw->key[i], tw->key_len[i]);
	redis_args_end_keys(a);
	redis_args_add_str(a, call->identity);
	redis_args_add_str(a, call->request);
	redis_args_add_int(a, cfg->result_ttl);
	redis_args_add_str(a, call->grant);
	redis_args_add_int(a, windows);
	redis_args_add_str(a, field);
	redis_args_add_int(a, tw->now);
	redis_args_add_int(a, keyspace_max_skew(tw));
	redis_args_add_str(a, call->client_keys ? "1" : "0");
	redis_args_add_int(a, cfg->submit_rate);

	s = store_eval(st, STORE_SCRIPT_GATE, &r);
	if (s != STORE_OK)
		return s;
	int found = 0;
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
	    r->element[1]->type == REDIS_REPLY_INTEGER) {
		for (int k = 0; k < GATE_RESULT_COUNT && !found; k++) {
			if (redis_reply_is(r->element[0], gate_result_names[k])) {
				*result = (enum gate_result)k;
				found = 1;
			}
		}
	}
	/* "released" cannot come back to a live call: its grant is fresh. */
	if (!found)
		return store_unexpected(st, "gate", r);
	*retry_after = (long)r->element[1]->integer;
	freeReplyObject(r);
	return STORE_OK;
}

void store_gate_release(struct store *st, const struct store_gate_call *call)
{
	struct store_owed_release o;
	char field[TOKEN_KEY_LEN + 1];

	/* The record keys, rendered as store_gate rendered them. */
	redis_args_start_command(&st->args);
	store_add_record_keys(st, call->identity, call->key, call->client_keys, field);
	if (!redis_conn_args_ok(st->conn, "gate_release", &st->args))
		return;
	snprintf(o.outcome_key, sizeof o.outcome_key, "%.*s", (int)st->args.argvlen[0],
	         st->args.argv[0]);
	snprintf(o.client_outcome_key, sizeof o.client_outcome_key, "%.*s",
	         (int)st->args.argvlen[1], st->args.argv[1]);
	snprintf(o.grant, sizeof o.grant, "%s", call->grant);

	if (st->n_owed == STORE_GATE_OWED_MAX) {
		log_error("gate: %d grants owed to Redis; the oldest (%.8s...) is dropped: its "
		          "key stays used",
		          STORE_GATE_OWED_MAX, st->owed[0].grant);
		st->n_owed--;
		memmove(&st->owed[0], &st->owed[1], st->n_owed * sizeof st->owed[0]);
	}
	st->owed[st->n_owed++] = o;
	/* Now if Redis takes it; else before the next gate call. */
	settle(st);
}

void store_gate_count(struct store *st, enum gate_result r)
{
	st->gate_uncounted[r]++;
	if (r != GATE_UNAVAILABLE)
		settle(st);
}
