/* store: everything that talks to Redis (the only includer of hiredis). One
 * persistent connection per process, made lazily and re-made after any
 * error; each public call is one round trip (plus a script reload after
 * NOSCRIPT). Errors are logged here, once, with context; callers map the
 * status to a response. */
#ifndef AR_STORE_H
#define AR_STORE_H

#include <stddef.h>

#include "config.h"
#include "idem_key.h"
#include "order.h"
#include "token.h"

struct store;

enum store_status {
	STORE_OK = 0,
	STORE_ERR_UNAVAILABLE = -1, /* not connected or refused: nothing ran */
	STORE_ERR_UNKNOWN = -2,     /* timeout or reset mid-call: it may have run */
	STORE_ERR_FULL = -3,        /* Redis refused a write (OOM): nothing ran */
	STORE_ERR_REPLY = -4,       /* an unexpected reply; logged */
	/* It ran, but not wait_replicas replicas have it yet: a failover could
	 * undo it. The client retries with the same key. */
	STORE_ERR_NOT_REPLICATED = -5,
};

/* Where Redis is, for log lines ("unix:/path", "host:port",
 * "sentinel/NAME host:port"). */
const char *store_where(const struct store *st);

/* A store for cfg (borrowed; must outlive the store). Does not connect. */
struct store *store_new(const struct ar_config *cfg);
void store_free(struct store *st);

/* Sends what this process still owes Redis (the gate's counts of results
 * decided without it), once, on the way out; what fails is logged. */
void store_flush(struct store *st);

/* Connects now (AUTH, SELECT, timeouts, SCRIPT LOAD) unless connected.
 * Every other call does this itself when needed. */
enum store_status store_connect(struct store *st);

/* PING. */
enum store_status store_ping(struct store *st);

/* Issues token for identity, counting against client's 60 s window.
 * *retry_after is 0 when issued, else the seconds left in the window. */
enum store_status store_issue_token(struct store *st, const char *token, const char *identity,
                                    const char *client, long *retry_after);

/* What the submit script decided (also the metric outcome labels). */
enum submit_result {
	SUBMIT_CREATED,
	SUBMIT_REPLAYED,
	SUBMIT_REJECTED, /* duplicate_mode = reject */
	SUBMIT_TOKEN_REUSED,
	SUBMIT_INVALID_TOKEN,
	SUBMIT_UNKNOWN_SKU,
	SUBMIT_OUT_OF_STOCK,
	SUBMIT_RATE_LIMITED, /* submit_rate: the key stays unused */
	SUBMIT_IN_PROGRESS,  /* the gate holds the key for a request in progress */
	SUBMIT_RESULT_COUNT
};

/* The recorded outcome of a token's first submission. */
enum submit_outcome { OUTCOME_NONE, OUTCOME_CREATED, OUTCOME_UNKNOWN_SKU, OUTCOME_OUT_OF_STOCK };

struct store_submission {
	const struct idem_key *key;
	int client_keys; /* a key never issued is taken (keys = client,
	                    and the request has an identity) */
	const char *identity;
	const char *client; /* the rate-limit client (identity_client_key) */
	const struct order *order;
	const char *canonical;       /* order_canonical(order) */
	const char *order_id;        /* a random id for the order if created */
	const char *issued_order_id; /* for a token-shaped key: the id if it is a
	                                token we issued (token_order_id); else "" */
	const char *order_json;      /* its representation, with order_id; it
	                                starts {"order_id":"<id>" */
	size_t order_json_len;
};

struct store_submit_result {
	enum submit_result result;
	enum submit_outcome outcome;  /* created/unknown_sku/out_of_stock, or NONE */
	char order_id[TOKEN_LEN + 1]; /* when outcome is CREATED */
	char *body;                   /* owned: the order JSON when CREATED */
	size_t body_len;
	char sku[ORDER_SKU_MAX + 1]; /* UNKNOWN_SKU / OUT_OF_STOCK */
	long long available;         /* OUT_OF_STOCK */
	long retry_after;            /* RATE_LIMITED: seconds left in the window */
};

/* Runs the atomic submit step. STORE_OK fills res (free with
 * store_submit_result_free). */
enum store_status store_submit_order(struct store *st, const struct store_submission *sub,
                                     struct store_submit_result *res);
void store_submit_result_free(struct store_submit_result *res);

/* The order's JSON (malloc'd, caller frees) in *json, or NULL when it does
 * not exist or, with check_owner, belongs to another identity. */
enum store_status store_get_order(struct store *st, const char *order_id, const char *identity,
                                  int check_owner, char **json, size_t *len);

/* *found = 0 when the SKU has no stock record. */
enum store_status store_get_stock(struct store *st, const char *sku, long long *available,
                                  int *found);
enum store_status store_set_stock(struct store *st, const char *sku, long long available);

/* What the gate decided for a request (also the metric outcome labels). */
enum gate_result {
	GATE_ALLOWED,
	GATE_DUPLICATE,     /* same key, same method and path: 409 */
	GATE_TOKEN_REUSED,  /* same key, another request (or an order): 422 */
	GATE_INVALID_TOKEN, /* unknown, expired or another identity's: 422 */
	GATE_MISSING_TOKEN, /* decided without Redis ... */
	GATE_MALFORMED_TOKEN,
	GATE_UNAVAILABLE,  /* ... down to here */
	GATE_RATE_LIMITED, /* submit_rate */
	GATE_RESULT_COUNT
};

struct store_counters {
	long long tokens_issued;
	long long rate_limited;
	long long submissions[SUBMIT_RESULT_COUNT];
	long long gate[GATE_RESULT_COUNT];
};

/* The counters shared by every process (zero where never bumped). */
enum store_status store_get_counters(struct store *st, struct store_counters *c);

/* A consumer group of the orders stream (antireplay-drain's, the shop's). */
#define STORE_GROUP_NAME_MAX 64
#define STORE_GROUPS_MAX 16
struct store_stream_group {
	char name[STORE_GROUP_NAME_MAX + 1];
	long long pending; /* read, not yet acknowledged */
	long long lag;     /* not yet read; -1 when Redis cannot tell (XDEL'd entries) */
};

/* Up to max groups of <prefix>orders (XINFO GROUPS, one round trip) in
 * g[0..*n); none when the stream does not exist. Groups whose name is
 * longer than STORE_GROUP_NAME_MAX are left out. */
enum store_status store_get_stream_groups(struct store *st, struct store_stream_group *g,
                                          size_t max, size_t *n);

/* The metric label of r ("created", "out_of_stock", ...). */
const char *store_submit_result_name(enum submit_result r);

/* The gate (store_gate.c). One gate request: its key, and the request it
 * lets through, named by method and path ("POST /shop/checkout.php"). */
struct store_gate_call {
	const struct idem_key *key;
	int client_keys; /* as store_submission's */
	const char *identity;
	const char *client;  /* the submit_rate client (identity_client_key) */
	const char *request; /* method, space, path */
	const char *grant;   /* a fresh UUID naming this request */
};

/* The two steps of lua/gate.lua: hold the key for the grant (it goes by
 * itself after redis_timeout_ms unless confirmed), then make it used. */
/* The script's steps. RELEASE undoes this grant's confirm when its WAIT
 * came back short (STORE_ERR_NOT_REPLICATED): the client is told 503, so
 * its retry must find the key unused. */
enum gate_step { GATE_RESERVE, GATE_CONFIRM, GATE_RELEASE };

enum gate_verdict {
	GATE_RESERVED,  /* reserve: held for this grant */
	GATE_CONFIRMED, /* confirm: used by this grant: the request may run */
	GATE_EXPIRED,   /* confirm: the hold is gone (too late): nothing used */
	GATE_RELEASED,  /* release: the key is unused again (or was not used) */
	GATE_PENDING,   /* reserve: another request holds the key; value = ms left */
	GATE_REFUSED,   /* refusal says why; value = Retry-After for rate_limited */
};

struct store_gate_reply {
	enum gate_verdict verdict;
	enum gate_result refusal;
	long value;
};

/* One step of the gate for call, one round trip (after a reconnect if
 * needed). The hold lasts 9/10 of redis_timeout_ms. STORE_OK fills reply. */
enum store_status store_gate(struct store *st, const struct store_gate_call *call,
                             enum gate_step step, struct store_gate_reply *reply);

/* Notes a result decided without Redis (missing or malformed key, Redis
 * unavailable), to be counted there by store_gate_send_counts. */
void store_gate_count(struct store *st, enum gate_result r);

/* Sends the noted counts (a round trip per result that has some), after
 * the request's answer is decided: a counter never costs an answer. What
 * fails stays noted for the next time. */
void store_gate_send_counts(struct store *st);

/* The metric label of r ("allowed", "duplicate", ...). */
const char *store_gate_result_name(enum gate_result r);

#endif
