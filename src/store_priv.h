/* store_priv: what the store's files (store.c, store_gate.c) share and
 * nobody else sees: the store itself and the steps every command takes
 * (name a key, run, run a script). */
#ifndef AR_STORE_PRIV_H
#define AR_STORE_PRIV_H

#include "keyspace.h"
#include "redis_args.h"
#include "redis_conn.h"
#include "store.h"

/* The scripts of lua/ the responder runs, by index (redis_conn_eval). */
enum store_script {
	STORE_SCRIPT_ISSUE_TOKEN,
	STORE_SCRIPT_SUBMIT_ORDER,
	STORE_SCRIPT_GATE,
	STORE_SCRIPT_COUNT
};

struct store {
	const struct ar_config *cfg;
	struct redis_conn *conn;
	/* One command's arguments, reused: no per-request malloc. */
	struct redis_args args;
	struct token_windows windows;
	/* The gate's results decided without Redis, not yet counted there. */
	long long gate_uncounted[GATE_RESULT_COUNT];
};

/* Appends the key of kind and name; one that does not fit fails the
 * command (a key cut short could name another client's). */
void store_add_key(struct store *st, enum key_kind kind, const char *name);

/* Appends the two keys under which a used key's record is (lua/
 * submit_order.lua's and gate.lua's outcome_key and client_outcome_key):
 * a token's under its field, a client's own key under its name; a
 * token-shaped key under client_keys may be either. field gets the
 * token's field in its window hash, "" for a key that is not a token. */
void store_add_record_keys(struct store *st, const char *identity, const struct idem_key *key,
                           int client_keys, char field[TOKEN_KEY_LEN + 1]);

/* The windows of unused tokens to use now (rendered once a window). */
const struct token_windows *store_windows_now(struct store *st);

/* Runs the command in st->args; on STORE_OK *out holds a non-error reply
 * (the caller frees it). */
enum store_status store_run(struct store *st, const char *what, redisReply **out);

/* Runs script id with st->args (begun with redis_args_start_script). */
enum store_status store_eval(struct store *st, enum store_script id, redisReply **out);

/* The same, then WAIT for wait_replicas (redis_conn_eval_replicated):
 * for the scripts whose writes a client is told are done. */
enum store_status store_eval_replicated(struct store *st, enum store_script id, redisReply **out);

/* Logs r as an unexpected reply to what, frees it: STORE_ERR_REPLY. */
enum store_status store_unexpected(struct store *st, const char *what, redisReply *r);

#endif
