/* redis_conn: one blocking Redis connection, as both programs use it (the
 * store of antireplay-fcgi, the drain). Connects lazily and sets up every
 * new connection the same way (command timeout, keepalive, AUTH, SELECT,
 * then the owner's own step); any I/O error drops it and the next call
 * connects again (hiredis contexts are dead after an error). Failures are
 * logged here, once a second while Redis stays down; error replies are
 * classified once, for every caller. */
#ifndef AR_REDIS_CONN_H
#define AR_REDIS_CONN_H

#include <stddef.h>

#include <hiredis/hiredis.h>

#include "config.h"
#include "redis_args.h"

enum redis_status {
	REDIS_STATUS_OK = 0,
	REDIS_STATUS_UNAVAILABLE = -1, /* not connected or refused: nothing ran */
	REDIS_STATUS_UNKNOWN = -2,     /* timeout or reset mid-call: it may have run */
	REDIS_STATUS_FULL = -3,        /* Redis refused a write (OOM): nothing ran */
	REDIS_STATUS_REPLY = -4,       /* an unexpected reply; logged */
	/* It ran, but fewer than wait_replicas replicas said they have its
	 * writes within wait_timeout_ms (or WAIT failed): a failover now could
	 * undo it. Logged. */
	REDIS_STATUS_NOT_REPLICATED = -5,
};

struct redis_conn;

#define REDIS_CONN_SCRIPTS_MAX 4

/* A connection for cfg (borrowed; must outlive it). Commands time out after
 * cfg->redis_timeout_ms + extra_timeout_ms (the drain adds its BLOCK time).
 * scripts[0..n) name the lua/ scripts this owner runs (by index, with
 * redis_conn_eval); each is loaded on every new connection. Aborts if one
 * is missing from the build. Does not connect. */
struct redis_conn *redis_conn_new(const struct ar_config *cfg, int extra_timeout_ms,
                                  const char *const *scripts, int n);
void redis_conn_free(struct redis_conn *rc);

/* While Redis stays down, the failure is logged again every repeat_ms
 * (default 1000: the responder, where requests keep failing; the drain
 * uses 60000), or never again (0); either way the first success after it
 * says how long it lasted. */
void redis_conn_set_log_repeat(struct redis_conn *rc, double repeat_ms);

/* "unix:/path" or "host:port", for log lines. */
const char *redis_conn_where(const struct redis_conn *rc);

/* Connects and sets up now unless connected. */
enum redis_status redis_conn_connect(struct redis_conn *rc);

/* Drops the connection (the next call connects again). */
void redis_conn_drop(struct redis_conn *rc);

/* Logs an I/O failure during `during` (rate limited) and drops the
 * connection. */
void redis_conn_failed(struct redis_conn *rc, const char *during);

/* Maps an error reply to a status and logs it; a reply that says Redis
 * cannot serve now (LOADING, READONLY, ...) also drops the connection. */
enum redis_status redis_conn_error(struct redis_conn *rc, const char *what, const char *msg);

/* Sends argv[0..argc) (binary safe) on the live connection and reads one
 * reply: NULL on an I/O error or timeout, not yet reported. The command
 * is written in RESP into a buffer kept across calls: redisCommandArgv
 * would format it with sdscatfmt into a fresh buffer each time (14 % of a
 * submission's instructions). */
redisReply *redis_conn_send(struct redis_conn *rc, int argc, const char *const *argv,
                            const size_t *argvlen);

/* Connects if needed, runs one command and checks the reply: on
 * REDIS_STATUS_OK *out is a non-error reply (the caller frees it).
 * argvlen NULL: every argument is a C string. */
enum redis_status redis_conn_run(struct redis_conn *rc, const char *what, int argc,
                                 const char *const *argv, const size_t *argvlen, redisReply **out);

/* The same, but an error reply is handed back as it is (*out of type
 * REDIS_REPLY_ERROR, not logged yet), for callers that expect some
 * (BUSYGROUP, NOGROUP, no such key) and pass the others to
 * redis_conn_error. */
enum redis_status redis_conn_run_any(struct redis_conn *rc, const char *what, int argc,
                                     const char *const *argv, const size_t *argvlen,
                                     redisReply **out);

/* 1 when a may be sent; else 0, logged as a failure of what. */
int redis_conn_args_ok(const struct redis_conn *rc, const char *what, const struct redis_args *a);

/* Runs script number id (an index into the names given to redis_conn_new)
 * with the arguments of a (begun with redis_args_start_script; its three
 * head slots are filled here: EVALSHA, the SHA-1, numkeys). NOSCRIPT
 * (Redis restarted or flushed: the script did not run) is retried once as
 * EVAL with the source, which runs the script and puts it back in the
 * cache in one round trip; a SCRIPT LOAD then EVALSHA would lose to a
 * flush landing between the two. A failed builder is not sent (logged,
 * REDIS_STATUS_REPLY). Replies as redis_conn_run. */
enum redis_status redis_conn_eval(struct redis_conn *rc, int id, struct redis_args *a,
                                  redisReply **out);

/* The same, then, when wait_replicas > 0, WAIT wait_replicas
 * wait_timeout_ms pipelined behind it (WAIT cannot run in a script; one
 * round trip): for scripts that write what a client is told is done. On
 * REDIS_STATUS_NOT_REPLICATED *out is NULL. A script that answered an
 * error is not waited for. */
enum redis_status redis_conn_eval_replicated(struct redis_conn *rc, int id, struct redis_args *a,
                                             redisReply **out);

/* WAIT wait_replicas wait_timeout_ms on its own, for what (the drain,
 * after a replicated write of its own): OK, NOT_REPLICATED (logged; as
 * behind a script, an error or a short count under Sentinel drops the
 * connection), or the connect's failure. */
enum redis_status redis_conn_wait(struct redis_conn *rc, const char *what);

/* Logs an unexpected reply to what, frees it, returns REDIS_STATUS_REPLY. */
enum redis_status redis_conn_unexpected(struct redis_conn *rc, const char *what, redisReply *r);

/* 1 if r is the bulk string s. */
int redis_reply_is(const redisReply *r, const char *s);

#endif
