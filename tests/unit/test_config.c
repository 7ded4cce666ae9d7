/* Unit tests for config: every key and its default, good and bad values,
 * the "FILE:LINE: key 'K': why" messages, repeated and unknown keys, and
 * '#' comments only at the start of a line; antireplay-drain's keys too.
 * Expected values come from config.h and the issue's contract, not from
 * config.c. */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

#define NAME "t.conf"

static void load_ok(const char *text, struct ar_config *cfg)
{
	char err[CONFIG_ERR_LEN] = "";

	config_init(cfg);
	if (config_load_string(cfg, NAME, text, err, sizeof err) != 0)
		fail_msg("config refused \"%s\": %s", text, err);
}

/* text must fail at line with a message naming key (NULL: any key). */
static void load_err(const char *text, int line, const char *key)
{
	struct ar_config cfg;
	char err[CONFIG_ERR_LEN] = "";
	char want[256];
	int rc;

	config_init(&cfg);
	rc = config_load_string(&cfg, NAME, text, err, sizeof err);
	config_free(&cfg);
	if (rc != -1)
		fail_msg("config accepted \"%s\"", text);
	if (key != NULL)
		snprintf(want, sizeof want, NAME ":%d: key '%s': ", line, key);
	else
		snprintf(want, sizeof want, NAME ":%d: ", line);
	if (strncmp(err, want, strlen(want)) != 0 || strlen(err) == strlen(want))
		fail_msg("config \"%s\": message \"%s\", want \"%s<why>\"", text, err, want);
}

/* key = value must be refused on line 1 naming key. */
static void bad_value(const char *key, const char *value)
{
	char text[512];

	snprintf(text, sizeof text, "%s = %s\n", key, value);
	load_err(text, 1, key);
}

static void test_defaults(void **state)
{
	struct ar_config cfg;

	(void)state;
	config_init(&cfg);
	assert_non_null(cfg.redis_host);
	assert_string_equal(cfg.redis_host, "127.0.0.1");
	assert_int_equal(cfg.redis_port, 6379);
	assert_null(cfg.redis_unix_path);
	assert_non_null(cfg.redis_password);
	assert_string_equal(cfg.redis_password, "");
	assert_non_null(cfg.redis_user);
	assert_string_equal(cfg.redis_user, "");
	assert_int_equal(cfg.redis_db, 0);
	assert_int_equal(cfg.redis_timeout_ms, 500);
	assert_string_equal(cfg.key_prefix, "ar:");
	assert_int_equal(cfg.token_ttl, 600);
	assert_int_equal(cfg.result_ttl, 86400);
	assert_int_equal(cfg.duplicate_mode, DUPLICATE_REPLAY);
	assert_int_equal(cfg.bind, BIND_NONE);
	assert_null(cfg.bind_name);
	assert_int_equal(cfg.token_rate, 60);
	assert_int_equal(cfg.max_body, 16384);
	assert_non_null(cfg.base_path);
	assert_string_equal(cfg.base_path, "");
	assert_non_null(cfg.admin_token);
	assert_string_equal(cfg.admin_token, "");
	assert_int_equal(cfg.log_to_stderr, 0);
	assert_int_equal(cfg.log_level, AR_LOG_INFO);
	/* antireplay-drain */
	assert_null(cfg.db_host);
	assert_non_null(cfg.db_unix_path);
	assert_string_equal(cfg.db_unix_path, "/run/mysqld/mysqld.sock");
	assert_non_null(cfg.db_user);
	assert_string_equal(cfg.db_user, "antireplay");
	assert_non_null(cfg.db_password);
	assert_string_equal(cfg.db_password, "");
	assert_non_null(cfg.db_name);
	assert_string_equal(cfg.db_name, "antireplay");
	assert_int_equal(cfg.db_timeout, 10);
	assert_int_equal(cfg.drain_batch, 100);
	assert_int_equal(cfg.drain_block_ms, 1000);
	assert_int_equal(cfg.drain_claim_ms, 60000);
	assert_int_equal(cfg.order_ttl, 0);
	assert_int_equal(config_order_ttl(&cfg), 86400);
	config_free(&cfg);
}

static void test_empty_file_keeps_defaults(void **state)
{
	struct ar_config cfg;

	(void)state;
	load_ok("", &cfg);
	assert_int_equal(cfg.token_ttl, 600);
	assert_string_equal(cfg.key_prefix, "ar:");
	config_free(&cfg);
	load_ok("# only comments\n\n#token_ttl = 5\n   \n\t\n", &cfg);
	assert_int_equal(cfg.token_ttl, 600);
	config_free(&cfg);
}

static void test_redis_tcp(void **state)
{
	struct ar_config cfg;

	(void)state;
	load_ok("redis = 10.1.2.3:7001\n", &cfg);
	assert_string_equal(cfg.redis_host, "10.1.2.3");
	assert_int_equal(cfg.redis_port, 7001);
	assert_null(cfg.redis_unix_path);
	config_free(&cfg);
	load_ok("redis = localhost:65535\n", &cfg);
	assert_string_equal(cfg.redis_host, "localhost");
	assert_int_equal(cfg.redis_port, 65535);
	config_free(&cfg);
	load_ok("redis = 127.0.0.1:1\n", &cfg);
	assert_int_equal(cfg.redis_port, 1);
	config_free(&cfg);
}

static void test_redis_unix(void **state)
{
	struct ar_config cfg;

	(void)state;
	load_ok("redis = unix:/run/redis/redis.sock\n", &cfg);
	assert_non_null(cfg.redis_unix_path);
	assert_string_equal(cfg.redis_unix_path, "/run/redis/redis.sock");
	assert_null(cfg.redis_host);
	config_free(&cfg);
	/* Not taken for a scheme: a path may start with slashes. */
	load_ok("redis = unix:///run/redis/redis.sock\n", &cfg);
	assert_string_equal(cfg.redis_unix_path, "///run/redis/redis.sock");
	config_free(&cfg);
}

static void test_redis_bad(void **state)
{
	(void)state;
	bad_value("redis", "");
	bad_value("redis", "127.0.0.1:");
	bad_value("redis", "127.0.0.1:abc");
	bad_value("redis", "127.0.0.1:65536");
	bad_value("redis", "127.0.0.1:-1");
	bad_value("redis", "127.0.0.1:6379x");
	bad_value("redis", ":6379");
	bad_value("redis", "unix:");
}

static void test_redis_sentinel(void **state)
{
	struct ar_config cfg;

	(void)state;
	config_init(&cfg);
	assert_int_equal(cfg.n_redis_nodes, 0);
	assert_null(cfg.sentinel_master);
	assert_string_equal(cfg.sentinel_password, "");
	config_free(&cfg);
	load_ok("redis = sentinel://127.0.0.1:26379,[::1]:26380,localhost:26381/shop-1.main\n"
	        "sentinel_password = s3cret\n",
	        &cfg);
	assert_int_equal(cfg.n_redis_nodes, 3);
	assert_string_equal(cfg.redis_node[0].host, "127.0.0.1");
	assert_int_equal(cfg.redis_node[0].port, 26379);
	assert_string_equal(cfg.redis_node[1].host, "::1");
	assert_int_equal(cfg.redis_node[1].port, 26380);
	assert_string_equal(cfg.redis_node[2].host, "localhost");
	assert_int_equal(cfg.redis_node[2].port, 26381);
	assert_string_equal(cfg.sentinel_master, "shop-1.main");
	assert_string_equal(cfg.sentinel_password, "s3cret");
	config_free(&cfg);
	load_ok("redis = sentinel://127.0.0.1:26379/m\n", &cfg);
	assert_int_equal(cfg.n_redis_nodes, 1);
	assert_string_equal(cfg.sentinel_master, "m");
	config_free(&cfg);
	load_ok("redis = sentinel://h1:1,h2:2,h3:3,h4:4,h5:5,h6:6,h7:7,h8:8/m\n", &cfg);
	assert_int_equal(cfg.n_redis_nodes, CONFIG_REDIS_NODES_MAX);
	assert_string_equal(cfg.redis_node[7].host, "h8");
	config_free(&cfg);
	/* A plain address after it: no Sentinels any more. */
	load_ok("redis = sentinel://127.0.0.1:26379/m\nredis_db = 0\n", &cfg);
	config_free(&cfg);
}

static void test_redis_sentinel_bad(void **state)
{
	(void)state;
	bad_value("redis", "sentinel://");
	bad_value("redis", "sentinel://127.0.0.1:1, 127.0.0.2:2/m");
	bad_value("redis", "redis://127.0.0.1:6379");
	bad_value("redis", "sentinel://127.0.0.1:26379");
	bad_value("redis", "sentinel://127.0.0.1:26379/");
	bad_value("redis", "sentinel:///m");
	bad_value("redis", "sentinel://127.0.0.1/m");
	bad_value("redis", "sentinel://127.0.0.1:0/m");
	bad_value("redis", "sentinel://127.0.0.1:26379,/m");
	bad_value("redis", "sentinel://127.0.0.1:26379/m n");
	bad_value("redis", "sentinel://127.0.0.1:26379/m{x}");
	bad_value("redis", "sentinel://h1:1,h2:2,h3:3,h4:4,h5:5,h6:6,h7:7,h8:8,h9:9/m");
	bad_value("redis", "sentinel://127.0.0.1:26379/"
	                   "m12345678901234567890123456789012345678901234567890123456789012345");
}

static void test_redis_cluster(void **state)
{
	struct ar_config cfg;
	size_t len = 0;

	(void)state;
	load_ok("redis = cluster://127.0.0.1:7000,127.0.0.1:7001\nkey_prefix = {shop1}:\n", &cfg);
	assert_int_equal(cfg.redis_mode, REDIS_MODE_CLUSTER);
	assert_int_equal(cfg.n_redis_nodes, 2);
	assert_string_equal(cfg.redis_node[1].host, "127.0.0.1");
	assert_int_equal(cfg.redis_node[1].port, 7001);
	assert_int_equal(config_hash_tag(cfg.key_prefix, &len), 1);
	assert_int_equal(len, 5);
	config_free(&cfg);
	/* A tag anywhere in the prefix, in any mode. */
	load_ok("key_prefix = ar:{eu-1}:\n", &cfg);
	assert_int_equal(cfg.redis_mode, REDIS_MODE_ONE);
	assert_int_equal(config_hash_tag(cfg.key_prefix, &len), 4);
	assert_int_equal(len, 4);
	config_free(&cfg);
	assert_int_equal(config_hash_tag("ar:", NULL), 0);
	bad_value("key_prefix", "{}:");
	bad_value("key_prefix", "{a}{b}:");
	bad_value("key_prefix", "}a{:");
	bad_value("key_prefix", "{a:");
	bad_value("key_prefix", "a}:");
	bad_value("key_prefix", "{a}}:");
	bad_value("key_prefix", "{{a}:");
	bad_value("redis", "cluster://");
	bad_value("redis", "cluster://127.0.0.1");
	bad_value("redis", "cluster://127.0.0.1:7000,");
	/* A cluster needs the tag (every key of a request in one slot), and
	 * database 0. */
	load_err("redis = cluster://127.0.0.1:7000\n", 1, "key_prefix");
	load_err("redis = cluster://127.0.0.1:7000\nkey_prefix = ar:\n", 2, "key_prefix");
	load_err("redis = cluster://127.0.0.1:7000\nkey_prefix = {a}:\nredis_db = 1\n", 3,
	         "redis_db");
}

static void test_wait_replicas(void **state)
{
	struct ar_config cfg;

	(void)state;
	config_init(&cfg);
	assert_int_equal(cfg.wait_replicas, 0);
	assert_true(cfg.wait_timeout_ms < cfg.redis_timeout_ms);
	config_free(&cfg);
	load_ok("wait_replicas = 2\nwait_timeout_ms = 499\n", &cfg);
	assert_int_equal(cfg.wait_replicas, 2);
	assert_int_equal(cfg.wait_timeout_ms, 499);
	config_free(&cfg);
	/* Off: the timeout is not checked against redis_timeout_ms. */
	load_ok("wait_timeout_ms = 900\n", &cfg);
	config_free(&cfg);
	bad_value("wait_replicas", "-1");
	bad_value("wait_replicas", "65");
	bad_value("wait_timeout_ms", "0");
	load_err("wait_replicas = 1\nwait_timeout_ms = 500\n", 2, "wait_timeout_ms");
	load_err("wait_replicas = 1\nredis_timeout_ms = 100\n", 2, "wait_timeout_ms");
}

static void test_redis_auth(void **state)
{
	struct ar_config cfg;

	(void)state;
	load_ok("redis_password = p@ss w0rd#1\nredis_user = alice\n", &cfg);
	assert_string_equal(cfg.redis_password, "p@ss w0rd#1");
	assert_string_equal(cfg.redis_user, "alice");
	config_free(&cfg);
	load_ok("redis_password = a=b==\n", &cfg); /* split at the first '=' */
	assert_string_equal(cfg.redis_password, "a=b==");
	config_free(&cfg);
	load_ok("redis_password =\nredis_user =\n", &cfg);
	assert_string_equal(cfg.redis_password, "");
	assert_string_equal(cfg.redis_user, "");
	config_free(&cfg);
}

static void test_redis_db(void **state)
{
	struct ar_config cfg;

	(void)state;
	load_ok("redis_db = 15\n", &cfg);
	assert_int_equal(cfg.redis_db, 15);
	config_free(&cfg);
	load_ok("redis_db = 65535\n", &cfg);
	assert_int_equal(cfg.redis_db, 65535);
	config_free(&cfg);
	load_ok("redis_db = 0\n", &cfg);
	assert_int_equal(cfg.redis_db, 0);
	config_free(&cfg);
	bad_value("redis_db", "-1");
	bad_value("redis_db", "65536");
	bad_value("redis_db", "one");
	bad_value("redis_db", "1.5");
	bad_value("redis_db", "");
}

static void test_redis_timeout(void **state)
{
	struct ar_config cfg;

	(void)state;
	load_ok("redis_timeout_ms = 1\n", &cfg);
	assert_int_equal(cfg.redis_timeout_ms, 1);
	config_free(&cfg);
	load_ok("redis_timeout_ms = 60000\n", &cfg);
	assert_int_equal(cfg.redis_timeout_ms, 60000);
	config_free(&cfg);
	bad_value("redis_timeout_ms", "0");
	bad_value("redis_timeout_ms", "60001");
	bad_value("redis_timeout_ms", "-5");
	bad_value("redis_timeout_ms", "500ms");
	bad_value("redis_timeout_ms", "");
}

#define PREFIX64 "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:_"

static void test_key_prefix(void **state)
{
	struct ar_config cfg;

	(void)state;
	load_ok("key_prefix = shop:\n", &cfg);
	assert_string_equal(cfg.key_prefix, "shop:");
	config_free(&cfg);
	load_ok("key_prefix = " PREFIX64 "\n", &cfg);
	assert_string_equal(cfg.key_prefix, PREFIX64);
	config_free(&cfg);
	bad_value("key_prefix", PREFIX64 "x");
	bad_value("key_prefix", "a b:");
	/* Braces only as one hash tag (test_redis_cluster). */
	load_ok("key_prefix = ar{x}:\n", &cfg);
	config_free(&cfg);
	bad_value("key_prefix", "ar}");
	bad_value("key_prefix", "ar{");
}

static void test_ttls(void **state)
{
	struct ar_config cfg;

	(void)state;
	load_ok("token_ttl = 1\nresult_ttl = 1\n", &cfg);
	assert_int_equal(cfg.token_ttl, 1);
	assert_int_equal(cfg.result_ttl, 1);
	config_free(&cfg);
	load_ok("token_ttl = 3600\nresult_ttl = 604800\n", &cfg);
	assert_int_equal(cfg.token_ttl, 3600);
	assert_int_equal(cfg.result_ttl, 604800);
	config_free(&cfg);
	bad_value("token_ttl", "0");
	bad_value("token_ttl", "-1");
	bad_value("token_ttl", "ten");
	bad_value("token_ttl", "1.5");
	bad_value("token_ttl", "10s");
	bad_value("token_ttl", "");
	bad_value("result_ttl", "0");
	bad_value("result_ttl", "-60");
	bad_value("result_ttl", "1d");
	bad_value("result_ttl", "");
}

static void test_duplicate_mode(void **state)
{
	struct ar_config cfg;

	(void)state;
	load_ok("duplicate_mode = reject\n", &cfg);
	assert_int_equal(cfg.duplicate_mode, DUPLICATE_REJECT);
	config_free(&cfg);
	load_ok("duplicate_mode = replay\n", &cfg);
	assert_int_equal(cfg.duplicate_mode, DUPLICATE_REPLAY);
	config_free(&cfg);
	bad_value("duplicate_mode", "ignore");
	bad_value("duplicate_mode", "replayx");
	bad_value("duplicate_mode", "");
}

static void test_bind(void **state)
{
	struct ar_config cfg;

	(void)state;
	load_ok("bind = none\n", &cfg);
	assert_int_equal(cfg.bind, BIND_NONE);
	assert_null(cfg.bind_name);
	config_free(&cfg);
	load_ok("bind = remote_user\n", &cfg);
	assert_int_equal(cfg.bind, BIND_REMOTE_USER);
	assert_null(cfg.bind_name);
	config_free(&cfg);
	load_ok("bind = header:X-User\n", &cfg);
	assert_int_equal(cfg.bind, BIND_HEADER);
	assert_non_null(cfg.bind_name);
	assert_string_equal(cfg.bind_name, "HTTP_X_USER");
	config_free(&cfg);
	load_ok("bind = header:x-forwarded-user\n", &cfg);
	assert_int_equal(cfg.bind, BIND_HEADER);
	assert_string_equal(cfg.bind_name, "HTTP_X_FORWARDED_USER");
	config_free(&cfg);
	load_ok("bind = cookie:session_id\n", &cfg);
	assert_int_equal(cfg.bind, BIND_COOKIE);
	assert_non_null(cfg.bind_name);
	assert_string_equal(cfg.bind_name, "session_id");
	config_free(&cfg);
}

static void test_bind_bad(void **state)
{
	(void)state;
	bad_value("bind", "");
	bad_value("bind", "user");
	bad_value("bind", "header");
	bad_value("bind", "header:");
	bad_value("bind", "cookie");
	bad_value("bind", "cookie:");
	bad_value("bind", "remote_user:x");
	bad_value("bind", "query:x");
}

static void test_token_rate(void **state)
{
	struct ar_config cfg;

	(void)state;
	load_ok("token_rate = 0\n", &cfg);
	assert_int_equal(cfg.token_rate, 0);
	config_free(&cfg);
	load_ok("token_rate = 1000000\n", &cfg);
	assert_int_equal(cfg.token_rate, 1000000);
	config_free(&cfg);
	bad_value("token_rate", "-1");
	bad_value("token_rate", "1000001");
	bad_value("token_rate", "unlimited");
	bad_value("token_rate", "");
}

static void test_keys_and_submit_rate(void **state)
{
	struct ar_config cfg;

	(void)state;
	load_ok("", &cfg);
	assert_int_equal(cfg.keys, KEYS_ISSUED);
	assert_int_equal(cfg.submit_rate, 0);
	config_free(&cfg);
	load_ok("keys = client\nbind = header:X-User\nsubmit_rate = 1000000\n", &cfg);
	assert_int_equal(cfg.keys, KEYS_CLIENT);
	assert_int_equal(cfg.submit_rate, 1000000);
	config_free(&cfg);
	load_ok("bind = remote_user\nkeys = client\n", &cfg);
	assert_int_equal(cfg.keys, KEYS_CLIENT);
	config_free(&cfg);
	load_ok("keys = issued\n", &cfg);
	assert_int_equal(cfg.keys, KEYS_ISSUED);
	config_free(&cfg);
	bad_value("keys", "Client");
	bad_value("keys", "");
	bad_value("submit_rate", "-1");
	bad_value("submit_rate", "1000001");
	/* client without an identity: refused, on the line of keys. */
	load_err("# clients make keys\nkeys = client\n", 2, "keys");
	load_err("log = stderr\n\nkeys = client\nbind = none\n", 3, "keys");
}

static void test_max_body(void **state)
{
	struct ar_config cfg;

	(void)state;
	load_ok("max_body = 256\n", &cfg);
	assert_int_equal(cfg.max_body, 256);
	config_free(&cfg);
	load_ok("max_body = 16777216\n", &cfg);
	assert_int_equal(cfg.max_body, 16777216);
	config_free(&cfg);
	bad_value("max_body", "255");
	bad_value("max_body", "16777217");
	bad_value("max_body", "0");
	bad_value("max_body", "-1");
	bad_value("max_body", "16k");
	bad_value("max_body", "");
}

static void test_base_path(void **state)
{
	struct ar_config cfg;

	(void)state;
	load_ok("base_path = /shop/api\n", &cfg);
	assert_string_equal(cfg.base_path, "/shop/api");
	config_free(&cfg);
	load_ok("base_path = /x\n", &cfg);
	assert_string_equal(cfg.base_path, "/x");
	config_free(&cfg);
	load_ok("base_path =\n", &cfg);
	assert_string_equal(cfg.base_path, "");
	config_free(&cfg);
	bad_value("base_path", "shop");
	bad_value("base_path", "/shop/");
	bad_value("base_path", "/");
	bad_value("base_path", "/a%20b");
	bad_value("base_path", "/a?b");
	bad_value("base_path", "/a//b");
}

static void test_form_urls(void **state)
{
	struct ar_config cfg;

	(void)state;
	load_ok("form_success_url = /order.html?order_id={order_id}\n"
	        "form_error_url = /shop/error?e={error}&from=form\n",
	        &cfg);
	assert_string_equal(cfg.form_success_url, "/order.html?order_id={order_id}");
	assert_string_equal(cfg.form_error_url, "/shop/error?e={error}&from=form");
	config_free(&cfg);
	load_ok("form_success_url = /done\nform_error_url = /\n", &cfg);
	assert_string_equal(cfg.form_error_url, "/");
	config_free(&cfg);
	config_init(&cfg);
	assert_string_equal(cfg.form_success_url, "");
	assert_string_equal(cfg.form_error_url, "");
	config_free(&cfg);
	/* Never a redirect off the site. */
	bad_value("form_success_url", "https://evil.example/x");
	bad_value("form_success_url", "//evil.example/x");
	bad_value("form_success_url", "/\\evil.example/x");
	bad_value("form_success_url", "order.html");
	bad_value("form_success_url", "javascript:alert(1)");
	bad_value("form_error_url", "http:/x");
	/* A placeholder right after the '/': an empty order id makes "//host". */
	bad_value("form_error_url", "/{error}/evil.example");
	bad_value("form_error_url", "/{error}");
	bad_value("form_success_url", "/{order_id}");
	/* Characters a path may not hold, and braces outside a placeholder. */
	bad_value("form_success_url", "/a b");
	bad_value("form_success_url", "/a\"b");
	bad_value("form_success_url", "/a<b");
	bad_value("form_success_url", "/caf\xc3\xa9");
	bad_value("form_success_url", "/a\\b");
	bad_value("form_success_url", "/o?id={error}");
	bad_value("form_success_url", "/o?id={order_id");
	bad_value("form_success_url", "/o?id=}");
	bad_value("form_error_url", "/e?x={token}");
	bad_value("form_error_url", "/e?o={order_id}"); /* each URL its own placeholder */
	/* 255 characters once filled: 245 + a 36-character id is too many. */
	char text[512], path[300];
	memset(path, 'a', sizeof path);
	path[0] = '/';
	snprintf(text, sizeof text, "form_success_url = %.219s{order_id}\nform_error_url = /e\n",
	         path);
	load_ok(text, &cfg);
	config_free(&cfg);
	snprintf(text, sizeof text, "form_success_url = %.220s{order_id}\nform_error_url = /e\n",
	         path);
	load_err(text, 1, "form_success_url");
	/* Half a flow is refused, at the line of the one that is set. */
	load_err("log = stderr\nform_success_url = /ok\n", 2, NULL);
	load_err("form_error_url = /e\n", 1, NULL);
}

/* Writes text to a fresh file; returns its path (static buffer). */
static const char *write_temp_file(const char *text, size_t len)
{
	static char path[64];
	snprintf(path, sizeof path, "/tmp/test_config_page.XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}

static void test_form_page(void **state)
{
	static const char page[] = "<form><input name=token value=\"{token}\"></form>\n";
	struct ar_config cfg;
	char text[256];

	(void)state;
	const char *path = write_temp_file(page, sizeof page - 1);
	snprintf(text, sizeof text, "form_page = %s\n", path);
	load_ok(text, &cfg);
	assert_string_equal(cfg.form_page, path);
	assert_int_equal(cfg.form_page_len, sizeof page - 1);
	assert_memory_equal(cfg.form_page_html, page, sizeof page);
	config_free(&cfg);
	load_ok("form_page =\n", &cfg);
	assert_null(cfg.form_page_html);
	config_free(&cfg);
	unlink(path);
	/* Gone, relative, not a regular file, no {token}, too large, a NUL. */
	load_err(text, 1, "form_page");
	bad_value("form_page", "page.html");
	bad_value("form_page", "/tmp");
	bad_value("form_page", "/dev/null");
	path = write_temp_file("<form></form>", 13);
	snprintf(text, sizeof text, "form_page = %s\n", path);
	load_err(text, 1, "form_page");
	unlink(path);
	char *big = malloc(CONFIG_FORM_PAGE_MAX + 1);
	assert_non_null(big);
	memset(big, ' ', CONFIG_FORM_PAGE_MAX + 1);
	memcpy(big, "{token}", 7);
	path = write_temp_file(big, CONFIG_FORM_PAGE_MAX + 1);
	snprintf(text, sizeof text, "form_page = %s\n", path);
	load_err(text, 1, "form_page");
	unlink(path);
	path = write_temp_file(big, CONFIG_FORM_PAGE_MAX);
	snprintf(text, sizeof text, "form_page = %s\n", path);
	load_ok(text, &cfg);
	assert_int_equal(cfg.form_page_len, CONFIG_FORM_PAGE_MAX);
	config_free(&cfg);
	unlink(path);
	free(big);
	path = write_temp_file("{token}\0x", 9);
	snprintf(text, sizeof text, "form_page = %s\n", path);
	load_err(text, 1, "form_page");
	unlink(path);
}

static void test_admin_token(void **state)
{
	struct ar_config cfg;

	(void)state;
	load_ok("admin_token = 0123456789abcdef\n", &cfg);
	assert_string_equal(cfg.admin_token, "0123456789abcdef");
	config_free(&cfg);
	load_ok("admin_token =\n", &cfg);
	assert_string_equal(cfg.admin_token, "");
	config_free(&cfg);
	bad_value("admin_token", "short");
	bad_value("admin_token", "0123456789abcde");
}

static void test_log(void **state)
{
	struct ar_config cfg;

	(void)state;
	load_ok("log = stderr\n", &cfg);
	assert_int_equal(cfg.log_to_stderr, 1);
	config_free(&cfg);
	load_ok("log = syslog\n", &cfg);
	assert_int_equal(cfg.log_to_stderr, 0);
	config_free(&cfg);
	bad_value("log", "file");
	bad_value("log", "/var/log/x");
	bad_value("log", "");
}

static void test_log_level(void **state)
{
	static const struct {
		const char *name;
		enum ar_log_level level;
	} levels[] = {
	    {"error", AR_LOG_ERROR},
	    {"warn", AR_LOG_WARN},
	    {"info", AR_LOG_INFO},
	    {"debug", AR_LOG_DEBUG},
	};
	struct ar_config cfg;
	char text[64];

	(void)state;
	for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
		snprintf(text, sizeof text, "log_level = %s\n", levels[i].name);
		load_ok(text, &cfg);
		assert_int_equal(cfg.log_level, levels[i].level);
		config_free(&cfg);
	}
	bad_value("log_level", "verbose");
	bad_value("log_level", "warning");
	bad_value("log_level", "");
}

/* ---- antireplay-drain's keys ---- */

static void test_db_tcp(void **state)
{
	struct ar_config cfg;

	(void)state;
	load_ok("db = 10.1.2.3:3307\n", &cfg);
	assert_non_null(cfg.db_host);
	assert_string_equal(cfg.db_host, "10.1.2.3");
	assert_int_equal(cfg.db_port, 3307);
	assert_null(cfg.db_unix_path);
	config_free(&cfg);
	load_ok("db = [::1]:3306\n", &cfg);
	assert_string_equal(cfg.db_host, "::1");
	assert_int_equal(cfg.db_port, 3306);
	assert_null(cfg.db_unix_path);
	config_free(&cfg);
	load_ok("db = db.example.com:1\n", &cfg);
	assert_string_equal(cfg.db_host, "db.example.com");
	assert_int_equal(cfg.db_port, 1);
	config_free(&cfg);
	load_ok("db = localhost:65535\n", &cfg);
	assert_int_equal(cfg.db_port, 65535);
	config_free(&cfg);
	/* db and redis are separate */
	load_ok("redis = unix:/run/redis.sock\ndb = h:3306\n", &cfg);
	assert_string_equal(cfg.redis_unix_path, "/run/redis.sock");
	assert_null(cfg.redis_host);
	assert_string_equal(cfg.db_host, "h");
	assert_null(cfg.db_unix_path);
	config_free(&cfg);
}

/* 107 bytes: sun_path on Linux holds 108 with the NUL. */
#define PATH107                                                                                \
	"/run/mysqld/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
	"aaaaaaaaaaaaaaaaaa.sock"

static void test_db_unix(void **state)
{
	struct ar_config cfg;

	(void)state;
	load_ok("db = unix:/var/lib/mysql/mysql.sock\n", &cfg);
	assert_non_null(cfg.db_unix_path);
	assert_string_equal(cfg.db_unix_path, "/var/lib/mysql/mysql.sock");
	assert_null(cfg.db_host);
	config_free(&cfg);
	assert_int_equal(strlen(PATH107), 107);
	load_ok("db = unix:" PATH107 "\n", &cfg);
	assert_string_equal(cfg.db_unix_path, PATH107);
	config_free(&cfg);
	bad_value("db", "unix:" PATH107 "x");
}

static void test_db_bad(void **state)
{
	(void)state;
	bad_value("db", "");
	bad_value("db", "localhost");
	bad_value("db", "127.0.0.1:");
	bad_value("db", "127.0.0.1:abc");
	bad_value("db", "127.0.0.1:0");
	bad_value("db", "127.0.0.1:65536");
	bad_value("db", "127.0.0.1:-1");
	bad_value("db", "127.0.0.1:3306x");
	bad_value("db", ":3306");
	bad_value("db", "[::1]");
	bad_value("db", "unix:");
	bad_value("db", "unix:run/mysqld/mysqld.sock");
}

#define NAME64 "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$"

static void test_db_user_password(void **state)
{
	struct ar_config cfg;

	(void)state;
	load_ok("db_user = shop\ndb_password = p@ss w0rd#1=\n", &cfg);
	assert_string_equal(cfg.db_user, "shop");
	assert_string_equal(cfg.db_password, "p@ss w0rd#1=");
	config_free(&cfg);
	load_ok("db_user = u\ndb_password =\n", &cfg);
	assert_string_equal(cfg.db_user, "u");
	assert_string_equal(cfg.db_password, "");
	config_free(&cfg);
	load_ok("db_user = " NAME64 "\n", &cfg);
	assert_string_equal(cfg.db_user, NAME64);
	config_free(&cfg);
	bad_value("db_user", "");
	bad_value("db_user", NAME64 "x");
}

static void test_db_name(void **state)
{
	struct ar_config cfg;

	(void)state;
	load_ok("db_name = shop\n", &cfg);
	assert_string_equal(cfg.db_name, "shop");
	config_free(&cfg);
	load_ok("db_name = Shop_2$x\n", &cfg);
	assert_string_equal(cfg.db_name, "Shop_2$x");
	config_free(&cfg);
	load_ok("db_name = " NAME64 "\n", &cfg);
	assert_string_equal(cfg.db_name, NAME64);
	config_free(&cfg);
	load_ok("db_name = 1\n", &cfg);
	assert_string_equal(cfg.db_name, "1");
	config_free(&cfg);
	bad_value("db_name", "");
	bad_value("db_name", NAME64 "x");
	bad_value("db_name", "shop-db");
	bad_value("db_name", "shop db");
	bad_value("db_name", "shop.orders");
	bad_value("db_name", "`shop`");
	bad_value("db_name", "shop;drop");
	bad_value("db_name", "shop'");
	bad_value("db_name", "sh\\op");
	bad_value("db_name", "caf\xc3\xa9");
}

static void test_db_timeout(void **state)
{
	struct ar_config cfg;

	(void)state;
	load_ok("db_timeout = 1\n", &cfg);
	assert_int_equal(cfg.db_timeout, 1);
	config_free(&cfg);
	load_ok("db_timeout = 3600\n", &cfg);
	assert_int_equal(cfg.db_timeout, 3600);
	config_free(&cfg);
	bad_value("db_timeout", "0");
	bad_value("db_timeout", "3601");
	bad_value("db_timeout", "-1");
	bad_value("db_timeout", "10s");
	bad_value("db_timeout", "");
}

static void test_drain_batch(void **state)
{
	struct ar_config cfg;

	(void)state;
	load_ok("drain_batch = 1\n", &cfg);
	assert_int_equal(cfg.drain_batch, 1);
	config_free(&cfg);
	load_ok("drain_batch = 1000\n", &cfg);
	assert_int_equal(cfg.drain_batch, 1000);
	assert_int_equal(cfg.drain_batch, DRAIN_BATCH_MAX);
	config_free(&cfg);
	bad_value("drain_batch", "0");
	bad_value("drain_batch", "1001");
	bad_value("drain_batch", "-1");
	bad_value("drain_batch", "1e2");
	bad_value("drain_batch", "");
}

static void test_drain_block_ms(void **state)
{
	struct ar_config cfg;

	(void)state;
	load_ok("drain_block_ms = 10\n", &cfg);
	assert_int_equal(cfg.drain_block_ms, 10);
	config_free(&cfg);
	load_ok("drain_block_ms = 60000\n", &cfg);
	assert_int_equal(cfg.drain_block_ms, 60000);
	config_free(&cfg);
	bad_value("drain_block_ms", "9");
	bad_value("drain_block_ms", "0");
	bad_value("drain_block_ms", "60001");
	bad_value("drain_block_ms", "-1");
	bad_value("drain_block_ms", "1s");
	bad_value("drain_block_ms", "");
}

static void test_drain_claim_ms(void **state)
{
	struct ar_config cfg;

	(void)state;
	load_ok("drain_claim_ms = 100\n", &cfg);
	assert_int_equal(cfg.drain_claim_ms, 100);
	config_free(&cfg);
	load_ok("drain_claim_ms = 604800000\n", &cfg); /* 7 days */
	assert_int_equal(cfg.drain_claim_ms, 604800000L);
	config_free(&cfg);
	bad_value("drain_claim_ms", "99");
	bad_value("drain_claim_ms", "0");
	bad_value("drain_claim_ms", "604800001");
	bad_value("drain_claim_ms", "-100");
	bad_value("drain_claim_ms", "60000ms");
	bad_value("drain_claim_ms", "");
}

static void test_order_ttl(void **state)
{
	struct ar_config cfg;

	(void)state;
	/* unset: the result's TTL, whatever it is */
	load_ok("result_ttl = 120\n", &cfg);
	assert_int_equal(config_order_ttl(&cfg), 120);
	config_free(&cfg);
	load_ok("order_ttl = 1\n", &cfg);
	assert_int_equal(cfg.order_ttl, 1);
	assert_int_equal(config_order_ttl(&cfg), 1);
	config_free(&cfg);
	load_ok("order_ttl = 31622400\nresult_ttl = 60\n", &cfg); /* 366 days */
	assert_int_equal(cfg.order_ttl, 31622400L);
	assert_int_equal(config_order_ttl(&cfg), 31622400L);
	assert_int_equal(cfg.result_ttl, 60);
	config_free(&cfg);
	bad_value("order_ttl", "0");
	bad_value("order_ttl", "31622401");
	bad_value("order_ttl", "-1");
	bad_value("order_ttl", "1d");
	bad_value("order_ttl", "");
}

static void test_drain_keys_repeated(void **state)
{
	(void)state;
	load_err("db = h:1\ndb = unix:/x\n", 2, "db");
	load_err("drain_batch = 5\n# again\ndrain_batch = 5\n", 3, "drain_batch");
	load_err("db_password =\ndb_password =\n", 2, "db_password");
	load_err("order_ttl = 60\norder_ttl = 60\n", 2, "order_ttl");
}

static void test_every_key_at_once(void **state)
{
	static const char text[] = "# antireplay.conf\n"
	                           "redis = unix:/tmp/r.sock\n"
	                           "redis_password = pw\n"
	                           "redis_user = u\n"
	                           "redis_db = 3\n"
	                           "redis_timeout_ms = 250\n"
	                           "key_prefix = t:\n"
	                           "token_ttl = 60\n"
	                           "result_ttl = 120\n"
	                           "duplicate_mode = reject\n"
	                           "bind = cookie:sid\n"
	                           "token_rate = 5\n"
	                           "max_body = 1024\n"
	                           "base_path = /api\n"
	                           "admin_token = aaaaaaaaaaaaaaaaaaaa\n"
	                           "log = stderr\n"
	                           "log_level = debug\n"
	                           "db = db1:3310\n"
	                           "db_user = drain\n"
	                           "db_password = secret\n"
	                           "db_name = shop\n"
	                           "db_timeout = 5\n"
	                           "drain_batch = 50\n"
	                           "drain_block_ms = 2000\n"
	                           "drain_claim_ms = 30000\n"
	                           "order_ttl = 3600\n";
	struct ar_config cfg;

	(void)state;
	load_ok(text, &cfg);
	assert_string_equal(cfg.redis_unix_path, "/tmp/r.sock");
	assert_string_equal(cfg.redis_password, "pw");
	assert_string_equal(cfg.redis_user, "u");
	assert_int_equal(cfg.redis_db, 3);
	assert_int_equal(cfg.redis_timeout_ms, 250);
	assert_string_equal(cfg.key_prefix, "t:");
	assert_int_equal(cfg.token_ttl, 60);
	assert_int_equal(cfg.result_ttl, 120);
	assert_int_equal(cfg.duplicate_mode, DUPLICATE_REJECT);
	assert_int_equal(cfg.bind, BIND_COOKIE);
	assert_string_equal(cfg.bind_name, "sid");
	assert_int_equal(cfg.token_rate, 5);
	assert_int_equal(cfg.max_body, 1024);
	assert_string_equal(cfg.base_path, "/api");
	assert_string_equal(cfg.admin_token, "aaaaaaaaaaaaaaaaaaaa");
	assert_int_equal(cfg.log_to_stderr, 1);
	assert_int_equal(cfg.log_level, AR_LOG_DEBUG);
	assert_string_equal(cfg.db_host, "db1");
	assert_int_equal(cfg.db_port, 3310);
	assert_null(cfg.db_unix_path);
	assert_string_equal(cfg.db_user, "drain");
	assert_string_equal(cfg.db_password, "secret");
	assert_string_equal(cfg.db_name, "shop");
	assert_int_equal(cfg.db_timeout, 5);
	assert_int_equal(cfg.drain_batch, 50);
	assert_int_equal(cfg.drain_block_ms, 2000);
	assert_int_equal(cfg.drain_claim_ms, 30000);
	assert_int_equal(cfg.order_ttl, 3600);
	assert_int_equal(config_order_ttl(&cfg), 3600);
	config_free(&cfg);
}

static void test_whitespace(void **state)
{
	struct ar_config cfg;

	(void)state;
	load_ok("  token_ttl\t=\t42  \nresult_ttl=43\nkey_prefix =   k:   \ntoken_rate = 7", &cfg);
	assert_int_equal(cfg.token_ttl, 42);
	assert_int_equal(cfg.result_ttl, 43);
	assert_string_equal(cfg.key_prefix, "k:");
	assert_int_equal(cfg.token_rate, 7); /* last line without a newline */
	config_free(&cfg);
}

static void test_hash_only_at_line_start(void **state)
{
	struct ar_config cfg;

	(void)state;
	load_ok("#token_ttl = 5\nadmin_token = 0123456789abcdef#x\nkey_prefix = a#\n", &cfg);
	assert_int_equal(cfg.token_ttl, 600);
	assert_string_equal(cfg.admin_token, "0123456789abcdef#x");
	assert_string_equal(cfg.key_prefix, "a#");
	config_free(&cfg);
	/* A trailing "# comment" is part of the value, so this is no number. */
	load_err("token_ttl = 5 # five\n", 1, "token_ttl");
	load_err("# ok\nlog = stderr # to the terminal\n", 2, "log");
}

static void test_unknown_key(void **state)
{
	(void)state;
	load_err("token_ttl = 5\n\nfrobnicate = 1\n", 3, "frobnicate");
	load_err("Token_TTL = 5\n", 1, "Token_TTL");
	load_err("tokenttl = 5\n", 1, "tokenttl");
}

static void test_repeated_key(void **state)
{
	(void)state;
	load_err("token_ttl = 5\ntoken_ttl = 6\n", 2, "token_ttl");
	load_err("token_ttl = 5\nresult_ttl = 9\n# again\ntoken_ttl = 5\n", 4, "token_ttl");
	load_err("bind = none\nbind = none\n", 2, "bind");
	load_err("base_path =\nbase_path =\n", 2, "base_path");
}

static void test_line_without_equals(void **state)
{
	(void)state;
	load_err("token_ttl = 5\ntoken_ttl 600\n", 2, NULL);
	load_err("# c\n\nredis\n", 3, NULL);
	load_err("= 5\n", 1, NULL);
}

static void test_error_line_numbers(void **state)
{
	(void)state;
	load_err("# c\n\n\n\ntoken_ttl = 0\n", 5, "token_ttl");
	load_err("log = stderr\nlog_level = info\nmax_body = 1\n", 3, "max_body");
}

static void test_first_error_wins(void **state)
{
	(void)state;
	load_err("bogus = 1\ntoken_ttl = x\n", 1, "bogus");
	load_err("token_ttl = x\nbogus = 1\n", 1, "token_ttl");
}

static void test_failure_keeps_earlier_lines(void **state)
{
	struct ar_config cfg;
	char err[CONFIG_ERR_LEN];

	(void)state;
	config_init(&cfg);
	assert_int_equal(config_load_string(&cfg, NAME,
	                                    "token_ttl = 42\nbogus = 1\nresult_ttl = 7\n", err,
	                                    sizeof err),
	                 -1);
	assert_int_equal(cfg.token_ttl, 42);
	assert_int_equal(cfg.result_ttl, 86400);
	config_free(&cfg);
}

/* Writes text to a fresh temp file; returns its path (static buffer). */
static const char *temp_file(const char *text)
{
	static char path[64];
	const char *dir = getenv("TMPDIR");
	size_t len = strlen(text);
	int fd;

	snprintf(path, sizeof path, "%s/test_config.XXXXXX",
	         dir && *dir && strlen(dir) < 32 ? dir : "/tmp");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}

static void test_load_file(void **state)
{
	struct ar_config cfg;
	char err[CONFIG_ERR_LEN] = "";
	char want[128];
	const char *path;

	(void)state;
	path = temp_file("# file\ntoken_ttl = 77\nbind = header:X-Tenant\n");
	config_init(&cfg);
	if (config_load_file(&cfg, path, err, sizeof err) != 0)
		fail_msg("config_load_file: %s", err);
	assert_int_equal(cfg.token_ttl, 77);
	assert_string_equal(cfg.bind_name, "HTTP_X_TENANT");
	config_free(&cfg);
	unlink(path);

	path = temp_file("token_ttl = 77\nduplicate_mode = maybe\n");
	config_init(&cfg);
	assert_int_equal(config_load_file(&cfg, path, err, sizeof err), -1);
	config_free(&cfg);
	snprintf(want, sizeof want, "%s:2: key 'duplicate_mode': ", path);
	if (strncmp(err, want, strlen(want)) != 0)
		fail_msg("message \"%s\", want \"%s<why>\"", err, want);
	unlink(path);
}

static void test_load_missing_file(void **state)
{
	static const char path[] = "/nonexistent/antireplay/antireplay.conf";
	struct ar_config cfg;
	char err[CONFIG_ERR_LEN] = "";

	(void)state;
	config_init(&cfg);
	assert_int_equal(config_load_file(&cfg, path, err, sizeof err), -1);
	config_free(&cfg);
	/* "FILE: why" */
	assert_int_equal(strncmp(err, path, strlen(path)), 0);
	assert_memory_equal(err + strlen(path), ": ", 2);
	assert_true(strlen(err) > strlen(path) + 2);
}

static void test_free_and_reuse(void **state)
{
	struct ar_config cfg;

	(void)state;
	load_ok("key_prefix = x:\nbind = cookie:s\ndb = h:1\ndb_name = x\n", &cfg);
	config_free(&cfg);
	config_init(&cfg);
	assert_string_equal(cfg.key_prefix, "ar:");
	assert_null(cfg.bind_name);
	assert_null(cfg.db_host);
	assert_string_equal(cfg.db_unix_path, "/run/mysqld/mysqld.sock");
	assert_string_equal(cfg.db_name, "antireplay");
	config_free(&cfg);
	config_free(NULL);
}

/* config_key walks the table: every key once, each read by a program. */
static void test_keys_listed(void **state)
{
	const char *key;
	unsigned readers;
	size_t n = 0;

	(void)state;
	for (size_t i = 0; (key = config_key(i, &readers)); i++, n++) {
		struct ar_config cfg;
		char text[128], err[CONFIG_ERR_LEN] = "";

		assert_true(readers & (CONFIG_FCGI | CONFIG_DRAIN));
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(config_key(j, NULL), key);
		/* A known key: a bad value is refused for its value, not its name. */
		snprintf(text, sizeof text, "%s = \x01", key);
		config_init(&cfg);
		config_load_string(&cfg, NAME, text, err, sizeof err);
		assert_null(strstr(err, "unknown key"));
		config_free(&cfg);
	}
	assert_true(n > 0);
	assert_null(config_key(n, NULL));
}

/* The lines of $top_srcdir/path, NUL-terminated (fails the test when it
 * cannot be read). */
static char *read_source_file(const char *path)
{
	const char *top = getenv("top_srcdir");
	char full[4096];
	FILE *f;
	char *text;
	long len;

	snprintf(full, sizeof full, "%s/%s", top ? top : ".", path);
	f = fopen(full, "r");
	if (!f)
		fail_msg("cannot read %s", full);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	text = calloc(1, (size_t)len + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	return text;
}

/* How many lines of text start with a, then key, then a character of end
 * (or the line's end). */
static int count_lines(const char *text, const char *a, const char *key, const char *end)
{
	size_t la = strlen(a), lk = strlen(key);
	int n = 0;

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, a, la) != 0 || strncmp(p + la, key, lk) != 0)
			continue;
		char next = p[la + lk];
		if (next == '\n' || next == '\0' || (next && strchr(end, next)))
			n++;
	}
	return n;
}

/* A key the code knows and the documents do not fails here: the manual
 * page, the commented example and the README's tables, each once. */
static void test_every_key_documented(void **state)
{
	char *man = read_source_file("man/antireplay.conf.5");
	char *example = read_source_file("conf/antireplay.conf");
	char *readme = read_source_file("README.md");
	const char *key;

	(void)state;
	for (size_t i = 0; (key = config_key(i, NULL)); i++) {
		if (count_lines(man, ".It Cm ", key, " ") != 1)
			fail_msg("man/antireplay.conf.5: not one \".It Cm %s\"", key);
		/* "key = default", or "#key = ..." for one without a fixed default */
		if (count_lines(example, "", key, " ") + count_lines(example, "#", key, " ") != 1)
			fail_msg("conf/antireplay.conf: not one \"%s = ...\" line", key);
		if (count_lines(readme, "| `", key, "`") != 1)
			fail_msg("README.md: not one row for %s", key);
	}
	free(man);
	free(example);
	free(readme);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_empty_file_keeps_defaults),
	    cmocka_unit_test(test_redis_tcp),
	    cmocka_unit_test(test_redis_unix),
	    cmocka_unit_test(test_redis_bad),
	    cmocka_unit_test(test_redis_auth),
	    cmocka_unit_test(test_redis_db),
	    cmocka_unit_test(test_redis_timeout),
	    cmocka_unit_test(test_key_prefix),
	    cmocka_unit_test(test_ttls),
	    cmocka_unit_test(test_duplicate_mode),
	    cmocka_unit_test(test_bind),
	    cmocka_unit_test(test_bind_bad),
	    cmocka_unit_test(test_token_rate),
	    cmocka_unit_test(test_keys_and_submit_rate),
	    cmocka_unit_test(test_max_body),
	    cmocka_unit_test(test_base_path),
	    cmocka_unit_test(test_form_urls),
	    cmocka_unit_test(test_form_page),
	    cmocka_unit_test(test_admin_token),
	    cmocka_unit_test(test_log),
	    cmocka_unit_test(test_log_level),
	    cmocka_unit_test(test_db_tcp),
	    cmocka_unit_test(test_db_unix),
	    cmocka_unit_test(test_db_bad),
	    cmocka_unit_test(test_db_user_password),
	    cmocka_unit_test(test_db_name),
	    cmocka_unit_test(test_db_timeout),
	    cmocka_unit_test(test_drain_batch),
	    cmocka_unit_test(test_drain_block_ms),
	    cmocka_unit_test(test_drain_claim_ms),
	    cmocka_unit_test(test_order_ttl),
	    cmocka_unit_test(test_drain_keys_repeated),
	    cmocka_unit_test(test_every_key_at_once),
	    cmocka_unit_test(test_whitespace),
	    cmocka_unit_test(test_hash_only_at_line_start),
	    cmocka_unit_test(test_unknown_key),
	    cmocka_unit_test(test_repeated_key),
	    cmocka_unit_test(test_line_without_equals),
	    cmocka_unit_test(test_error_line_numbers),
	    cmocka_unit_test(test_first_error_wins),
	    cmocka_unit_test(test_failure_keeps_earlier_lines),
	    cmocka_unit_test(test_redis_sentinel),
	    cmocka_unit_test(test_redis_sentinel_bad),
	    cmocka_unit_test(test_redis_cluster),
	    cmocka_unit_test(test_wait_replicas),
	    cmocka_unit_test(test_load_file),
	    cmocka_unit_test(test_load_missing_file),
	    cmocka_unit_test(test_free_and_reuse),
	    cmocka_unit_test(test_keys_listed),
	    cmocka_unit_test(test_every_key_documented),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
