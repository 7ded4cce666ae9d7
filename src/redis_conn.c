/* redis_conn: the connection, its set-up, its failures and the scripts'
 * EVALSHA. */
#include "redis_conn.h"

#include <stdio.h>
#include <stdlib.h>
#include <poll.h>
#include <string.h>
#include <sys/time.h>

#include "log.h"
#include "redis_cluster.h"
#include "redis_sentinel.h"
#include "scripts.h"
#include "strbuf.h"
#include "util.h"

#define FAILURE_LOG_INTERVAL_MS 1000.0
/* Each Sentinel gets this share of the command timeout (at least
 * SENTINEL_TIMEOUT_MIN_MS): a dead one must not cost the request. */
#define SENTINEL_TIMEOUT_SHARE 4
#define SENTINEL_TIMEOUT_MIN_MS 50

struct redis_conn {
	const struct ar_config *cfg;
	redisContext *ctx; /* NULL when not connected */
	struct timeval timeout;
	char where[SENTINEL_HOST_MAX + CONFIG_SENTINEL_NAME_MAX +
	           24];                           /* "unix:/path" or "host:port", for log lines */
	struct redis_sentinel *sentinel;          /* NULL: one address */
	char primary_host[SENTINEL_HOST_MAX + 1]; /* where the Sentinels said the */
	int primary_port;                         /* primary was last (0: never) */
	int cluster;                  /* redis = cluster://: primary_* serves our slot */
	int have_node;                /* cluster: primary_* is known (cleared by a failure) */
	unsigned slot;                /* cluster: the slot of key_prefix's hash tag */
	double log_repeat_ms;         /* 0: once per outage */
	double down_since_ms;         /* first failure of this outage; 0 when up */
	double last_failure_ms;       /* when a connection failure was last logged */
	unsigned long quiet_failures; /* failures since then, logged at debug */
	unsigned long failures;       /* in this outage */
	double last_short_wait_ms;    /* when a short WAIT was last logged */
	unsigned long quiet_short_waits;
	int n_scripts;
	const struct ar_script *script[REDIS_CONN_SCRIPTS_MAX];
	char sha[REDIS_CONN_SCRIPTS_MAX][41];
	char numkeys[24];
	struct strbuf command; /* the command in RESP, reused by every call */
};

struct redis_conn *redis_conn_new(const struct ar_config *cfg, int extra_timeout_ms,
                                  const char *const *scripts, int n)
{
	struct redis_conn *rc = xcalloc(1, sizeof *rc);
	long ms = (long)cfg->redis_timeout_ms + extra_timeout_ms;

	rc->cfg = cfg;
	rc->timeout.tv_sec = ms / 1000;
	rc->timeout.tv_usec = (ms % 1000) * 1000;
	rc->log_repeat_ms = FAILURE_LOG_INTERVAL_MS;
	if (cfg->redis_mode == REDIS_MODE_CLUSTER) {
		rc->cluster = 1;
		rc->slot = redis_cluster_slot_of(cfg);
		snprintf(rc->where, sizeof rc->where, "cluster slot %u", rc->slot);
	} else if (cfg->redis_mode == REDIS_MODE_SENTINEL) {
		rc->sentinel = redis_sentinel_new(cfg);
		snprintf(rc->where, sizeof rc->where, "sentinel/%s", cfg->sentinel_master);
	} else if (cfg->redis_unix_path)
		snprintf(rc->where, sizeof rc->where, "unix:%s", cfg->redis_unix_path);
	else
		snprintf(rc->where, sizeof rc->where, "%s:%d", cfg->redis_host, cfg->redis_port);
	if (n > REDIS_CONN_SCRIPTS_MAX)
		abort();
	for (int i = 0; i < n; i++) {
		rc->script[i] = scripts_find(scripts[i]);
		if (!rc->script[i]) {
			log_error("script %s missing from the build", scripts[i]);
			abort();
		}
	}
	rc->n_scripts = n;
	return rc;
}

void redis_conn_drop(struct redis_conn *rc)
{
	if (rc->ctx) {
		redisFree(rc->ctx);
		rc->ctx = NULL;
	}
}

void redis_conn_free(struct redis_conn *rc)
{
	if (!rc)
		return;
	redis_conn_drop(rc);
	redis_sentinel_free(rc->sentinel);
	strbuf_free(&rc->command);
	free(rc);
}

void redis_conn_set_log_repeat(struct redis_conn *rc, double repeat_ms)
{
	rc->log_repeat_ms = repeat_ms;
}

const char *redis_conn_where(const struct redis_conn *rc)
{
	return rc->where;
}

/* While Redis stays down (or cannot serve: LOADING, a wrong password...)
 * every call fails the same way: one error line every log_repeat_ms (or
 * once), the rest at debug. The caller drops the connection. */
static void report_outage(struct redis_conn *rc, const char *why, const char *during)
{
	double now = util_now_ms();
	int first = rc->down_since_ms == 0;

	rc->failures++;
	if (first)
		rc->down_since_ms = now;
	if (first || (rc->log_repeat_ms > 0 && now - rc->last_failure_ms >= rc->log_repeat_ms)) {
		log_error("redis %s: %s during %s; reconnecting on the next request (%lu more "
		          "failures since the last report)",
		          rc->where, why, during, rc->quiet_failures);
		rc->last_failure_ms = now;
		rc->quiet_failures = 0;
	} else {
		log_debug("redis %s: %s during %s", rc->where, why, during);
		rc->quiet_failures++;
	}
}

void redis_conn_failed(struct redis_conn *rc, const char *during)
{
	rc->have_node = 0;
	report_outage(rc, rc->ctx && rc->ctx->errstr[0] ? rc->ctx->errstr : "connection lost",
	              during);
	redis_conn_drop(rc);
}

/* A set-up command (AUTH, SELECT, SCRIPT LOAD...) that did not succeed:
 * the connection cannot serve, which is an outage like a refused connect. */
static int set_up_failed(struct redis_conn *rc, const char *what, const redisReply *r)
{
	report_outage(rc, r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply", what);
	redis_conn_drop(rc);
	return -1;
}

/* Sends one command on a live connection and checks for a status reply. */
static int expect_status(struct redis_conn *rc, const char *what, int argc, const char **argv)
{
	redisReply *r = redisCommandArgv(rc->ctx, argc, argv, NULL);
	int ok = 0;

	if (!r) {
		redis_conn_failed(rc, what);
		return -1;
	}
	ok = r->type == REDIS_REPLY_STATUS;
	if (!ok)
		set_up_failed(rc, what, r);
	freeReplyObject(r);
	return ok ? 0 : -1;
}

/* SCRIPT LOAD one script and keep its SHA-1. */
static int load_script(struct redis_conn *rc, int id)
{
	const char *argv[] = {"SCRIPT", "LOAD", rc->script[id]->source};
	redisReply *r = redisCommandArgv(rc->ctx, 3, argv, NULL);
	int ok = 0;

	if (!r) {
		redis_conn_failed(rc, "SCRIPT LOAD");
		return -1;
	}
	if (r->type == REDIS_REPLY_STRING && r->len == 40) {
		memcpy(rc->sha[id], r->str, 40);
		rc->sha[id][40] = '\0';
		ok = 1;
	} else {
		set_up_failed(rc, "SCRIPT LOAD", r);
	}
	freeReplyObject(r);
	return ok ? 0 : -1;
}

/* The server the Sentinels named must say it is the primary: right after
 * a failover they may still name the old one, which is a replica now, or
 * is coming back as one. */
static int check_primary(struct redis_conn *rc)
{
	char why[160];
	int is = redis_sentinel_is_primary(rc->ctx, why, sizeof why);

	if (is < 0) {
		redis_conn_failed(rc, "ROLE");
		return -1;
	}
	if (is == 0) {
		report_outage(rc, why, "checking the primary the Sentinels named");
		redis_conn_drop(rc);
		return -1;
	}
	return 0;
}

/* How long each Sentinel or cluster node asked where to connect gets. */
static int lookup_timeout_ms(const struct ar_config *cfg)
{
	int ms = cfg->redis_timeout_ms / SENTINEL_TIMEOUT_SHARE;

	return ms < SENTINEL_TIMEOUT_MIN_MS ? SENTINEL_TIMEOUT_MIN_MS : ms;
}

/* Redis Cluster: host:port serves our slot, until a failure. */
static void use_slot_owner(struct redis_conn *rc, const char *host, int port)
{
	if (host != rc->primary_host)
		snprintf(rc->primary_host, sizeof rc->primary_host, "%s", host);
	rc->primary_port = port;
	rc->have_node = 1;
	snprintf(rc->where, sizeof rc->where, "cluster slot %u %s:%d", rc->slot, host, port);
}

/* Asks the Sentinels where the primary is now, into rc->primary_host and
 * rc->primary_port; -1 after an outage report. */
static int locate_primary(struct redis_conn *rc)
{
	const struct ar_config *cfg = rc->cfg;
	char host[SENTINEL_HOST_MAX + 1], why[512];
	int port;

	if (redis_sentinel_find_primary(rc->sentinel, lookup_timeout_ms(cfg), host, &port, why,
	                                sizeof why) < 0) {
		snprintf(rc->where, sizeof rc->where, "sentinel/%s", cfg->sentinel_master);
		report_outage(rc, why, "asking the Sentinels where the primary is");
		return -1;
	}
	if (strcmp(host, rc->primary_host) != 0 || port != rc->primary_port) {
		if (rc->primary_port)
			log_warn("redis sentinel/%s: the primary is now %s:%d (was %s:%d)",
			         cfg->sentinel_master, host, port, rc->primary_host,
			         rc->primary_port);
		else
			log_info("redis sentinel/%s: the primary is %s:%d", cfg->sentinel_master,
			         host, port);
		memcpy(rc->primary_host, host, sizeof host);
		rc->primary_port = port;
	}
	snprintf(rc->where, sizeof rc->where, "sentinel/%s %s:%d", cfg->sentinel_master, host,
	         port);
	return 0;
}

/* Redis Cluster: which node serves our slot, unless a MOVED said so since
 * the last failure. -1 after an outage report. */
static int locate_slot_owner(struct redis_conn *rc)
{
	const struct ar_config *cfg = rc->cfg;
	char host[CLUSTER_HOST_MAX + 1], why[512];
	int port;

	if (rc->have_node)
		return 0;
	if (redis_cluster_find_primary(cfg, rc->slot, lookup_timeout_ms(cfg), host, &port, why,
	                               sizeof why) < 0) {
		snprintf(rc->where, sizeof rc->where, "cluster slot %u", rc->slot);
		report_outage(rc, why, "asking the cluster which node serves the slot");
		return -1;
	}
	use_slot_owner(rc, host, port);
	return 0;
}

/* The one set-up path after every connect: command timeout (hiredis 0.14
 * applies the connect timeout to connect() only), keepalive, AUTH, SELECT,
 * SCRIPT LOAD. */
static int set_up_connection(struct redis_conn *rc)
{
	const struct ar_config *cfg = rc->cfg;
	char db[16];

	if (redisSetTimeout(rc->ctx, rc->timeout) != REDIS_OK) {
		redis_conn_failed(rc, "setting the command timeout");
		return -1;
	}
	if (!cfg->redis_unix_path && redisEnableKeepAlive(rc->ctx) != REDIS_OK) {
		redis_conn_failed(rc, "enabling keepalive");
		return -1;
	}
	if (cfg->redis_password[0]) {
		const char *with_user[] = {"AUTH", cfg->redis_user, cfg->redis_password};
		const char *without[] = {"AUTH", cfg->redis_password};
		int rv = cfg->redis_user[0] ? expect_status(rc, "AUTH", 3, with_user)
		                            : expect_status(rc, "AUTH", 2, without);
		if (rv < 0)
			return -1;
	}
	if (cfg->redis_db != 0) {
		snprintf(db, sizeof db, "%d", cfg->redis_db);
		const char *select[] = {"SELECT", db};
		if (expect_status(rc, "SELECT", 2, select) < 0)
			return -1;
	}
	if (rc->sentinel && check_primary(rc) < 0)
		return -1;
	for (int i = 0; i < rc->n_scripts; i++)
		if (load_script(rc, i) < 0)
			return -1;
	return 0;
}

/* 1 when the server has closed the idle connection (it restarted, timed
 * the client out, or was told to kill it): it is readable, and between
 * commands Redis never sends anything. Found before a command is sent, it
 * costs a reconnect instead of a failed call the caller cannot judge. */
static int closed_while_idle(const struct redis_conn *rc)
{
	struct pollfd p = {.fd = rc->ctx->fd, .events = POLLIN};

	return poll(&p, 1, 0) > 0;
}

enum redis_status redis_conn_connect(struct redis_conn *rc)
{
	const struct ar_config *cfg = rc->cfg;
	struct timeval tv = {cfg->redis_timeout_ms / 1000, (cfg->redis_timeout_ms % 1000) * 1000};

	if (rc->ctx && !closed_while_idle(rc))
		return REDIS_STATUS_OK;
	if (rc->ctx) {
		log_info("redis %s: the server closed the connection; connecting again", rc->where);
		redis_conn_drop(rc);
	}
	/* Never an address of before a failure: ask the Sentinels each time. */
	if (rc->sentinel && locate_primary(rc) < 0)
		return REDIS_STATUS_UNAVAILABLE;
	if (rc->cluster && locate_slot_owner(rc) < 0)
		return REDIS_STATUS_UNAVAILABLE;
	if (rc->sentinel || rc->cluster)
		rc->ctx = redisConnectWithTimeout(rc->primary_host, rc->primary_port, tv);
	else if (cfg->redis_unix_path)
		rc->ctx = redisConnectUnixWithTimeout(cfg->redis_unix_path, tv);
	else
		rc->ctx = redisConnectWithTimeout(cfg->redis_host, cfg->redis_port, tv);
	if (!rc->ctx || rc->ctx->err) {
		redis_conn_failed(rc, "connect");
		return REDIS_STATUS_UNAVAILABLE;
	}
	if (set_up_connection(rc) < 0)
		return REDIS_STATUS_UNAVAILABLE;
	log_debug("redis %s: connected", rc->where);
	return REDIS_STATUS_OK;
}

/* An error reply that means "did not run, and this server cannot serve
 * now": part of an outage. */
static int is_outage_reply(const char *msg)
{
	static const char *const not_run[] = {"LOADING",    "BUSY",     "READONLY",    "MASTERDOWN",
	                                      "NOREPLICAS", "TRYAGAIN", "CLUSTERDOWN", "NOAUTH",
	                                      "MOVED ",     "ASK "};
	for (size_t i = 0; i < sizeof not_run / sizeof not_run[0]; i++)
		if (strncmp(msg, not_run[i], strlen(not_run[i])) == 0)
			return 1;
	return 0;
}

/* A reply arrived: unless it says the server cannot serve, an outage is
 * over. Not at connect: a read-only replica takes the set-up and refuses
 * every write, which is still the same outage. */
static void reply_arrived(struct redis_conn *rc, const redisReply *r)
{
	if (rc->down_since_ms == 0 || (r->type == REDIS_REPLY_ERROR && is_outage_reply(r->str)))
		return;
	log_warn("redis %s: serving again after %.1f s and %lu failures", rc->where,
	         (util_now_ms() - rc->down_since_ms) / 1000.0, rc->failures);
	rc->down_since_ms = 0;
	rc->failures = 0;
	rc->quiet_failures = 0;
}

enum redis_status redis_conn_error(struct redis_conn *rc, const char *what, const char *msg)
{
	if (strncmp(msg, "OOM", 3) == 0) {
		log_error("redis %s: %s refused, Redis is out of memory (maxmemory reached, "
		          "noeviction): %s",
		          rc->where, what, msg);
		return REDIS_STATUS_FULL;
	}
	if (is_outage_reply(msg)) {
		rc->have_node = 0;
		report_outage(rc, msg, what);
		redis_conn_drop(rc);
		return REDIS_STATUS_UNAVAILABLE;
	}
	log_error("redis %s: %s failed: %s", rc->where, what, msg);
	return REDIS_STATUS_REPLY;
}

/* Writes argv[0..argc) in RESP to the connection's output buffer (sent
 * by the next read); -1 when hiredis cannot take it. */
static int append_command(struct redis_conn *rc, int argc, const char *const *argv,
                          const size_t *argvlen)
{
	struct strbuf *cmd = &rc->command;
	size_t need = 16;
	char *p;

	for (int i = 0; i < argc; i++)
		need += 1 + 20 + 2 + (argvlen ? argvlen[i] : strlen(argv[i])) + 2;
	strbuf_reset(cmd);
	p = strbuf_reserve(cmd, need);
	*p++ = '*';
	p += strbuf_format_int(p, argc);
	*p++ = '\r';
	*p++ = '\n';
	for (int i = 0; i < argc; i++) {
		size_t len = argvlen ? argvlen[i] : strlen(argv[i]);
		*p++ = '$';
		p += strbuf_format_int(p, (long long)len);
		*p++ = '\r';
		*p++ = '\n';
		memcpy(p, argv[i], len);
		p += len;
		*p++ = '\r';
		*p++ = '\n';
	}
	strbuf_commit(cmd, (size_t)(p - (cmd->data + cmd->len)));
	return redisAppendFormattedCommand(rc->ctx, cmd->data, cmd->len) == REDIS_OK ? 0 : -1;
}

/* Sends what is buffered and reads the next reply; NULL on an I/O error
 * or timeout. */
static redisReply *read_reply(struct redis_conn *rc)
{
	void *reply = NULL;

	if (redisGetReply(rc->ctx, &reply) != REDIS_OK)
		return NULL;
	return reply;
}

redisReply *redis_conn_send(struct redis_conn *rc, int argc, const char *const *argv,
                            const size_t *argvlen)
{
	if (append_command(rc, argc, argv, argvlen) < 0)
		return NULL;
	return read_reply(rc);
}

/* Checks a reply that arrived (or not) for what: NULL is a timeout or a
 * reset (the command may have run). */
static enum redis_status check_arrived(struct redis_conn *rc, const char *what, redisReply *r)
{
	if (r) {
		reply_arrived(rc, r);
		return REDIS_STATUS_OK;
	}
	redis_conn_failed(rc, what);
	return REDIS_STATUS_UNKNOWN;
}

/* An error reply becomes its status (logged) and is freed. */
static enum redis_status check_not_error(struct redis_conn *rc, const char *what, redisReply **r)
{
	enum redis_status s;

	if ((*r)->type != REDIS_REPLY_ERROR)
		return REDIS_STATUS_OK;
	s = redis_conn_error(rc, what, (*r)->str);
	freeReplyObject(*r);
	*r = NULL;
	return s;
}

static int is_noscript(const redisReply *r)
{
	return r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0;
}

int redis_conn_args_ok(const struct redis_conn *rc, const char *what, const struct redis_args *a)
{
	if (redis_args_ok(a))
		return 1;
	log_error("redis %s: an argument of %s did not fit (a key too long?); not sent", rc->where,
	          what);
	return 0;
}

/* Appends script id as EVALSHA, or as EVAL with its source. */
static int append_script(struct redis_conn *rc, int id, struct redis_args *a, int with_source)
{
	a->argv[0] = with_source ? "EVAL" : "EVALSHA";
	a->argvlen[0] = with_source ? 4 : 7;
	a->argv[1] = with_source ? rc->script[id]->source : rc->sha[id];
	a->argvlen[1] = with_source ? strlen(rc->script[id]->source) : 40;
	a->argv[2] = rc->numkeys;
	a->argvlen[2] = strbuf_format_int(rc->numkeys, a->numkeys);
	return append_command(rc, a->argc, a->argv, a->argvlen);
}

/* WAIT wait_replicas wait_timeout_ms, appended behind a script. */
static int append_wait(struct redis_conn *rc)
{
	char n[24], ms[24];
	const char *argv[] = {"WAIT", n, ms};

	snprintf(n, sizeof n, "%d", rc->cfg->wait_replicas);
	snprintf(ms, sizeof ms, "%d", rc->cfg->wait_timeout_ms);
	return append_command(rc, 3, argv, NULL);
}

/* What a call sends: a script (with its WAIT when asked), or a command. */
struct outgoing {
	int script; /* an index of rc->script, or -1 for argv */
	struct redis_args *a;
	int with_source;
	int wait;
	int argc;
	const char *const *argv;
	const size_t *argvlen;
};

static int append_outgoing(struct redis_conn *rc, const struct outgoing *o)
{
	if (o->script < 0)
		return append_command(rc, o->argc, o->argv, o->argvlen);
	if (append_script(rc, o->script, o->a, o->with_source) < 0)
		return -1;
	return o->wait ? append_wait(rc) : 0;
}

/* Sends o on the live connection: its reply in *r, the WAIT's in *w
 * (NULL when lost: the connection is then unusable). */
static void send_once(struct redis_conn *rc, const struct outgoing *o, redisReply **r,
                      redisReply **w)
{
	*r = *w = NULL;
	if (append_outgoing(rc, o) < 0)
		return;
	*r = read_reply(rc);
	if (*r && o->script >= 0 && o->wait)
		*w = read_reply(rc);
}

/* ASK: o once on a connection of its own to host:port, after ASKING (the
 * slot is being imported there); the connection in use stays as it is. */
static void send_asking(struct redis_conn *rc, const struct outgoing *o, const char *host, int port,
                        redisReply **r, redisReply **w)
{
	const struct ar_config *cfg = rc->cfg;
	struct timeval tv = {cfg->redis_timeout_ms / 1000, (cfg->redis_timeout_ms % 1000) * 1000};
	redisContext *home = rc->ctx;
	const char *asking[] = {"ASKING"};
	redisReply *ok;

	*r = *w = NULL;
	rc->ctx = redisConnectWithTimeout(host, port, tv);
	if (rc->ctx && !rc->ctx->err && set_up_connection(rc) == 0 && rc->ctx &&
	    append_command(rc, 1, asking, NULL) == 0 && append_outgoing(rc, o) == 0 &&
	    (ok = read_reply(rc))) {
		freeReplyObject(ok);
		*r = read_reply(rc);
		if (*r && o->script >= 0 && o->wait)
			*w = read_reply(rc);
	}
	if (rc->ctx)
		redisFree(rc->ctx);
	rc->ctx = home;
}

/* Sends o, following Redis Cluster's redirects: MOVED (the slot has a new
 * owner: connect there, send again; a few times at most), ASK (to the
 * importing node, once per reply), TRYAGAIN (a migration splits the keys
 * between two nodes: wait 2 ms, twice as long each time up to 25). Within
 * one command timeout; then the last redirect is the reply, which
 * redis_conn_error counts as an outage (nothing ran). */
static void send_routed(struct redis_conn *rc, const struct outgoing *o, redisReply **r,
                        redisReply **w)
{
	double deadline = util_now_ms() + rc->cfg->redis_timeout_ms;
	long pause_ms = 2;
	char host[CLUSTER_HOST_MAX + 1];
	int port, moves = 0;

	send_once(rc, o, r, w);
	while (rc->cluster && *r) {
		enum cluster_redirect kind = redis_cluster_redirect(*r, host, &port);
		if (kind == CLUSTER_NOT_REDIRECTED || util_now_ms() + pause_ms >= deadline ||
		    (kind == CLUSTER_MOVED && ++moves > 4))
			return;
		freeReplyObject(*r);
		freeReplyObject(*w);
		*r = *w = NULL;
		if (kind == CLUSTER_TRYAGAIN) {
			log_debug("redis %s: TRYAGAIN; again in %ld ms", rc->where, pause_ms);
			util_sleep_ms(pause_ms);
			pause_ms = pause_ms * 2 < 25 ? pause_ms * 2 : 25;
			send_once(rc, o, r, w);
		} else if (kind == CLUSTER_ASK) {
			log_debug("redis %s: ASK %s:%d", rc->where, host, port);
			send_asking(rc, o, host, port, r, w);
		} else {
			log_info("redis %s: MOVED to %s:%d", rc->where, host, port);
			redis_conn_drop(rc);
			use_slot_owner(rc, host, port);
			if (redis_conn_connect(rc) != REDIS_STATUS_OK)
				return;
			send_once(rc, o, r, w);
		}
	}
}

/* The script and, when waiting, its WAIT, sent together (routed); the
 * replies in *r and *w (NULL when lost: the connection is then unusable). */
static void send_script(struct redis_conn *rc, int id, struct redis_args *a, int with_source,
                        int wait, redisReply **r, redisReply **w)
{
	struct outgoing o = {.script = id, .a = a, .with_source = with_source, .wait = wait};

	send_routed(rc, &o, r, w);
}

enum redis_status redis_conn_run_any(struct redis_conn *rc, const char *what, int argc,
                                     const char *const *argv, const size_t *argvlen,
                                     redisReply **out)
{
	enum redis_status s = redis_conn_connect(rc);

	*out = NULL;
	if (s != REDIS_STATUS_OK)
		return s;
	struct outgoing o = {.script = -1, .argc = argc, .argv = argv, .argvlen = argvlen};
	redisReply *none;
	send_routed(rc, &o, out, &none);
	return check_arrived(rc, what, *out);
}

enum redis_status redis_conn_run(struct redis_conn *rc, const char *what, int argc,
                                 const char *const *argv, const size_t *argvlen, redisReply **out)
{
	enum redis_status s = redis_conn_run_any(rc, what, argc, argv, argvlen, out);

	return s != REDIS_STATUS_OK ? s : check_not_error(rc, what, out);
}

/* Fewer replicas than wait_replicas acknowledged a write: logged once a
 * second at most, as it will go on for every write while it lasts. */
static void report_short_wait(struct redis_conn *rc, const char *name, long long acked)
{
	double now = util_now_ms();

	if (now - rc->last_short_wait_ms < FAILURE_LOG_INTERVAL_MS) {
		rc->quiet_short_waits++;
		return;
	}
	log_error("redis %s: %s: %lld of %d replicas acknowledged it within %d ms: not confirmed "
	          "(%lu more since the last report)",
	          rc->where, name, acked, rc->cfg->wait_replicas, rc->cfg->wait_timeout_ms,
	          rc->quiet_short_waits);
	rc->last_short_wait_ms = now;
	rc->quiet_short_waits = 0;
}

/* The WAIT's reply w behind name, which ran: OK when enough replicas
 * have its writes, else NOT_REPLICATED. An error reply (a primary demoted
 * to replica, an ACL without WAIT) or a lost reply drops the connection;
 * so does a short count under Sentinel: this primary may have been cut off
 * and replaced, and only a new connect asks the Sentinels again. */
static enum redis_status check_wait(struct redis_conn *rc, const char *name, redisReply *w)
{
	enum redis_status s = REDIS_STATUS_OK;

	if (!w) {
		redis_conn_failed(rc, "WAIT");
		return REDIS_STATUS_NOT_REPLICATED;
	}
	if (w->type == REDIS_REPLY_ERROR) {
		report_outage(rc, w->str, "WAIT");
		redis_conn_drop(rc);
		s = REDIS_STATUS_NOT_REPLICATED;
	} else if (w->type != REDIS_REPLY_INTEGER || w->integer < rc->cfg->wait_replicas) {
		report_short_wait(rc, name, w->type == REDIS_REPLY_INTEGER ? w->integer : -1);
		if (rc->sentinel)
			redis_conn_drop(rc);
		s = REDIS_STATUS_NOT_REPLICATED;
	}
	freeReplyObject(w);
	return s;
}

enum redis_status redis_conn_wait(struct redis_conn *rc, const char *what)
{
	enum redis_status s = redis_conn_connect(rc);

	if (s != REDIS_STATUS_OK)
		return s;
	if (append_wait(rc) < 0)
		return check_wait(rc, what, NULL);
	return check_wait(rc, what, read_reply(rc));
}

static enum redis_status eval(struct redis_conn *rc, int id, struct redis_args *a, int wait,
                              redisReply **out)
{
	const char *name = rc->script[id]->name;
	enum redis_status s;
	redisReply *r, *w;

	*out = NULL;
	if (!redis_conn_args_ok(rc, name, a))
		return REDIS_STATUS_REPLY;
	s = redis_conn_connect(rc);
	if (s != REDIS_STATUS_OK)
		return s;
	send_script(rc, id, a, 0, wait, &r, &w);
	if (r && is_noscript(r)) {
		freeReplyObject(r);
		freeReplyObject(w);
		log_warn("redis %s: NOSCRIPT for %s; sending its source again", rc->where, name);
		send_script(rc, id, a, 1, wait, &r, &w);
	}
	s = check_arrived(rc, name, r);
	if (s == REDIS_STATUS_OK && wait && r->type != REDIS_REPLY_ERROR) {
		s = check_wait(rc, name, w);
	} else if (s == REDIS_STATUS_OK && wait && !w) {
		/* The script's error came back, its WAIT's reply did not: the
		 * context is dead. The error is still the answer. */
		redis_conn_failed(rc, "WAIT");
	} else {
		freeReplyObject(w);
	}
	*out = r;
	if (s == REDIS_STATUS_NOT_REPLICATED) {
		freeReplyObject(r);
		*out = NULL;
		return s;
	}
	return s != REDIS_STATUS_OK ? s : check_not_error(rc, name, out);
}

enum redis_status redis_conn_eval(struct redis_conn *rc, int id, struct redis_args *a,
                                  redisReply **out)
{
	return eval(rc, id, a, 0, out);
}

enum redis_status redis_conn_eval_replicated(struct redis_conn *rc, int id, struct redis_args *a,
                                             redisReply **out)
{
	return eval(rc, id, a, rc->cfg->wait_replicas > 0, out);
}

enum redis_status redis_conn_unexpected(struct redis_conn *rc, const char *what, redisReply *r)
{
	log_error("redis %s: unexpected reply type %d to %s", rc->where, r ? r->type : -1, what);
	freeReplyObject(r);
	return REDIS_STATUS_REPLY;
}

int redis_reply_is(const redisReply *r, const char *s)
{
	return r->type == REDIS_REPLY_STRING && strlen(s) == r->len &&
	       memcmp(r->str, s, r->len) == 0;
}
