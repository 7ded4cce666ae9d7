/* store_gate: the gate's two steps (lua/gate.lua: reserve, confirm) and
 * the counts of the gate's results decided without Redis. */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "store_priv.h"

/* The script's other verdicts, by name. */
static const char *const verdict_names[] = {
    [GATE_RESERVED] = "reserved", [GATE_CONFIRMED] = "allowed", [GATE_EXPIRED] = "expired",
    [GATE_RELEASED] = "released", [GATE_PENDING] = "pending",
};

static const char *const step_names[] = {
    [GATE_RESERVE] = "reserve",
    [GATE_CONFIRM] = "confirm",
    [GATE_RELEASE] = "release",
};

void store_gate_send_counts(struct store *st)
{
	for (int k = 0; k < GATE_RESULT_COUNT; k++) {
		char field[32];
		redisReply *r;

		if (st->gate_uncounted[k] == 0)
			continue;
		snprintf(field, sizeof field, "gate_%s",
		         store_gate_result_name((enum gate_result)k));
		redis_args_start_command(&st->args);
		redis_args_add_str(&st->args, "HINCRBY");
		store_add_key(st, KEY_METRICS, "");
		redis_args_add_str(&st->args, field);
		redis_args_add_int(&st->args, st->gate_uncounted[k]);
		if (store_run(st, "HINCRBY metrics", &r) != STORE_OK)
			return;
		freeReplyObject(r);
		st->gate_uncounted[k] = 0;
	}
}

/* Fills reply from the script's {verdict, value}; -1 for anything else. */
static int parse_gate_reply(const redisReply *r, struct store_gate_reply *reply)
{
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[1]->type != REDIS_REPLY_INTEGER)
		return -1;
	reply->value = (long)r->element[1]->integer;
	for (size_t v = 0; v < sizeof verdict_names / sizeof verdict_names[0]; v++) {
		if (verdict_names[v] && redis_reply_is(r->element[0], verdict_names[v])) {
			reply->verdict = (enum gate_verdict)v;
			return 0;
		}
	}
	for (int k = 0; k < GATE_RESULT_COUNT; k++) {
		if (k != GATE_ALLOWED &&
		    redis_reply_is(r->element[0], store_gate_result_name((enum gate_result)k))) {
			reply->verdict = GATE_REFUSED;
			reply->refusal = (enum gate_result)k;
			return 0;
		}
	}
	return -1;
}

enum store_status store_gate(struct store *st, const struct store_gate_call *call,
                             enum gate_step step, struct store_gate_reply *reply)
{
	const struct ar_config *cfg = st->cfg;
	struct redis_args *a = &st->args;
	char field[TOKEN_KEY_LEN + 1];
	redisReply *r;

	memset(reply, 0, sizeof *reply);
	redis_args_start_script(a);
	const struct token_windows *tw = store_windows_now(st);
	/* In the order lua/gate.lua names them. */
	store_add_record_keys(st, call->identity, call->key, call->client_keys, field);
	store_add_key(st, KEY_METRICS, "");
	store_add_key(st, KEY_SUBMIT_RATE, call->client);
	int windows = call->key->is_token ? tw->count : 0;
	for (int i = 0; i < windows; i++)
		redis_args_add(a, tw->key[i], tw->key_len[i]);
	redis_args_end_keys(a);
	redis_args_add_str(a, step_names[step]);
	redis_args_add_str(a, call->identity);
	redis_args_add_str(a, call->request);
	redis_args_add_int(a, cfg->result_ttl);
	redis_args_add_str(a, call->grant);
	/* A confirm that runs after its caller gave up (one command timeout:
	 * the kernel's timer may fire a tick early, Redis keeps a key a
	 * millisecond past its time) must find the hold gone. */
	int lease_ms = cfg->redis_timeout_ms - cfg->redis_timeout_ms / 10;
	redis_args_add_int(a, lease_ms > 0 ? lease_ms : 1);
	redis_args_add_int(a, windows);
	redis_args_add_str(a, field);
	redis_args_add_int(a, tw->now);
	redis_args_add_int(a, keyspace_max_skew(tw));
	redis_args_add_str(a, call->client_keys ? "1" : "0");
	redis_args_add_int(a, cfg->submit_rate);

	/* A confirm is what the client is told is done, a release what its
	 * retry relies on. */
	enum store_status s = step == GATE_RESERVE
	                          ? store_eval(st, STORE_SCRIPT_GATE, &r)
	                          : store_eval_replicated(st, STORE_SCRIPT_GATE, &r);
	if (s != STORE_OK)
		return s;
	if (parse_gate_reply(r, reply) < 0)
		return store_unexpected(st, "gate", r);
	freeReplyObject(r);
	return STORE_OK;
}

void store_flush(struct store *st)
{
	store_gate_send_counts(st);
	for (int k = 0; k < GATE_RESULT_COUNT; k++)
		if (st->gate_uncounted[k] > 0)
			log_warn("gate: %lld %s results could not be counted in Redis",
			         st->gate_uncounted[k],
			         store_gate_result_name((enum gate_result)k));
}

void store_gate_count(struct store *st, enum gate_result r)
{
	st->gate_uncounted[r]++;
}
