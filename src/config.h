/* config: the key = value file -> struct ar_config, every value checked.
 * Errors name the file, the line and the key; nothing here exits. */
#ifndef AR_CONFIG_H
#define AR_CONFIG_H

#include <stddef.h>

#include "log.h"

/* The longest key_prefix taken (no spaces; braces only as one hash tag). */
#define CONFIG_KEY_PREFIX_MAX 64

enum ar_duplicate_mode { DUPLICATE_REPLAY, DUPLICATE_REJECT };
/* Which Idempotency-Keys POST /orders takes: only the tokens it issued, or
 * also keys clients make (the IETF draft, Stripe). */
enum ar_keys { KEYS_ISSUED, KEYS_CLIENT };
enum ar_bind { BIND_NONE, BIND_REMOTE_USER, BIND_HEADER, BIND_COOKIE };

/* redis = sentinel://HOST:PORT[,...]/NAME or cluster://HOST:PORT[,...]:
 * at most this many addresses. */
#define CONFIG_REDIS_NODES_MAX 8
/* The longest group (master) name a Sentinel address may hold. */
#define CONFIG_SENTINEL_NAME_MAX 64

enum ar_redis_mode { REDIS_MODE_ONE, REDIS_MODE_SENTINEL, REDIS_MODE_CLUSTER };

struct ar_host_port {
	char *host;
	int port;
};

struct ar_config {
	/* redis: one address (redis_host or redis_unix_path); or, by
	 * redis_mode, the Sentinels to ask where the primary of group
	 * sentinel_master is, or the Redis Cluster nodes to ask which node
	 * serves key_prefix's hash tag (redis_node[0..n_redis_nodes); then
	 * redis_host and redis_unix_path are unused). */
	enum ar_redis_mode redis_mode;
	char *redis_host; /* TCP host, or NULL when redis_unix_path is set */
	int redis_port;
	char *redis_unix_path; /* from "unix:/path", else NULL */
	char *redis_password;  /* empty: no AUTH */
	char *redis_user;      /* empty: AUTH with the password alone */
	int redis_db;
	int redis_timeout_ms;
	struct ar_host_port redis_node[CONFIG_REDIS_NODES_MAX];
	int n_redis_nodes;
	char *sentinel_master;   /* NULL unless REDIS_MODE_SENTINEL */
	char *sentinel_password; /* empty: Sentinels without AUTH */
	/* After a script that wrote: WAIT for this many replicas (0: not). */
	int wait_replicas;
	int wait_timeout_ms;   /* below redis_timeout_ms */
	int client_timeout_ms; /* a stalled web-server connection frees the worker */
	char *key_prefix;
	long token_ttl;  /* seconds */
	long result_ttl; /* seconds */
	enum ar_duplicate_mode duplicate_mode;
	enum ar_bind bind;
	char *bind_name; /* BIND_HEADER: the FastCGI param (HTTP_X_USER);
	                    BIND_COOKIE: the cookie name; else NULL */
	long token_rate; /* per client per 60 s; 0 = unlimited */
	enum ar_keys keys;
	long submit_rate;  /* first submissions per client per 60 s; 0 = unlimited */
	size_t max_body;   /* bytes */
	char *base_path;   /* "" or "/shop/api": starts with '/', no trailing '/' */
	char *admin_token; /* empty: admin routes disabled */
	/* The browser form flow (form_redirect.h): where a browser's form post
	 * is sent on with 303; both empty: JSON answers, as to any client. */
	char *form_success_url; /* a path on this site; "{order_id}" substituted */
	char *form_error_url;   /* the same; "{error}" substituted */
	/* GET /order-form: the page read from form_page when the config was
	 * loaded ("{token}" stands for a fresh token); NULL when unset. */
	char *form_page;      /* the file's path, "" when unset */
	char *form_page_html; /* its text, NUL-terminated */
	size_t form_page_len;
	int log_to_stderr;
	enum ar_log_level log_level;
	/* antireplay-drain only (antireplay-fcgi checks them, uses none) */
	char *db_host; /* TCP host, or NULL when db_unix_path is set */
	int db_port;
	char *db_unix_path; /* from "unix:/path", else NULL */
	char *db_user;
	char *db_password;
	char *db_name;
	int db_timeout;      /* seconds: connect, read, write */
	int drain_batch;     /* entries per XREADGROUP and per transaction */
	int drain_block_ms;  /* XREADGROUP BLOCK */
	long drain_claim_ms; /* pending this long: another drain claims it */
	long order_ttl;      /* seconds; 0 = unset (result_ttl): config_order_ttl */
};

/* The longest form_*_url once its placeholders are filled (in a header
 * value of RESPONSE_HEADER_VALUE_MAX bytes), and the largest form_page. */
#define CONFIG_FORM_URL_MAX 255
/* The longest value a form URL placeholder stands for: an order id (a
 * UUID, TOKEN_LEN); every error code is shorter (test_form_redirect). */
#define CONFIG_FORM_VALUE_MAX 36
#define CONFIG_FORM_PAGE_MAX (64 * 1024)

#define DB_NAME_MAX 64
#define DRAIN_BATCH_MAX 1000

#define CONFIG_ERR_LEN 512

/* Fills cfg with the defaults. Every string is owned by cfg. */
void config_init(struct ar_config *cfg);

/* Applies the file at path on top of cfg. Returns 0, or -1 with
 * "FILE:LINE: key 'K': why" (or "FILE: why") in err. On failure cfg holds
 * the defaults plus the lines before the bad one; free it either way. */
int config_load_file(struct ar_config *cfg, const char *path, char *err, size_t errlen);

/* Same for text held in memory; name stands for the file in messages. */
int config_load_string(struct ar_config *cfg, const char *name, const char *text, char *err,
                       size_t errlen);

/* Which program reads a key (both check every key). */
enum config_reader { CONFIG_FCGI = 1, CONFIG_DRAIN = 2 };

/* The i-th key of the file, in the order of the documentation, or NULL
 * past the last; *readers (may be NULL): the CONFIG_* bits of the
 * programs that use it. */
const char *config_key(size_t i, unsigned *readers);

/* key_prefix's hash tag: 0 when it has none, -1 when its braces are not
 * one tag ("{x}" with x not empty, no other brace), else the offset of the
 * tag's first byte, with its length in *len (may be NULL). */
int config_hash_tag(const char *prefix, size_t *len);

/* The TTL the drain gives an order's hash once it is in the database. */
long config_order_ttl(const struct ar_config *cfg);

/* Frees the strings; cfg may be reused after config_init. NULL-safe. */
void config_free(struct ar_config *cfg);

#endif
