/* config: parse "key = value" lines; each key has one setter that checks
 * its value. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "util.h"

#define CONFIG_FILE_MAX (1024 * 1024)

#define ADMIN_TOKEN_MIN 16
/* Location is base_path + "/orders/" + a UUID, in a header value of
 * RESPONSE_HEADER_VALUE_MAX (320) bytes. */
#define BASE_PATH_MAX 128
/* sizeof(((struct sockaddr_un *)0)->sun_path) - 1 on Linux */
#define UNIX_PATH_MAX 107

/* A setter checks value and stores it in cfg; on error it writes why. */
typedef int (*setter_fn)(struct ar_config *cfg, const char *value, char *why, size_t whylen);

static void replace_string(char **slot, const char *value)
{
	free(*slot);
	*slot = xstrdup(value);
}

static int set_long(long *slot, const char *value, long min, long max, char *why, size_t whylen)
{
	if (util_parse_long(value, strlen(value), min, max, slot) < 0) {
		snprintf(why, whylen, "expected an integer from %ld to %ld, got '%.64s'", min, max,
		         value);
		return -1;
	}
	return 0;
}

/* "host:port" ("[v6]:port"), len bytes of s, into *host (replaced) and
 * *port; -1 when it is not one. */
static int parse_host_port(const char *s, size_t len, char **host, int *port)
{
	const char *colon = NULL;
	long p;

	for (size_t i = 0; i < len; i++)
		if (s[i] == ':')
			colon = s + i;
	if (!colon || colon == s || memchr(s, ' ', len) || memchr(s, '\t', len) ||
	    util_parse_long(colon + 1, len - (size_t)(colon + 1 - s), 1, 65535, &p) < 0)
		return -1;
	const char *h = s;
	size_t hlen = (size_t)(colon - s);
	if (h[0] == '[' && hlen > 2 && h[hlen - 1] == ']') {
		h++;
		hlen -= 2;
	}
	free(*host);
	*host = xstrndup(h, hlen);
	*port = (int)p;
	return 0;
}

/* "unix:/path" or "host:port" ("[v6]:port") into *unix_path or *host and
 * *port; the other form's fields are cleared. */
static int set_address(const char *value, char **host, int *port, char **unix_path, char *why,
                       size_t whylen)
{
	if (strncmp(value, "unix:", 5) == 0) {
		if (value[5] != '/' || strlen(value + 5) > UNIX_PATH_MAX) {
			snprintf(why, whylen, "expected unix:/absolute/path of at most %d bytes",
			         UNIX_PATH_MAX);
			return -1;
		}
		replace_string(unix_path, value + 5);
		free(*host);
		*host = NULL;
		return 0;
	}
	if (parse_host_port(value, strlen(value), host, port) < 0) {
		snprintf(why, whylen, "expected host:port or unix:/path, got '%.64s'", value);
		return -1;
	}
	free(*unix_path);
	*unix_path = NULL;
	return 0;
}

static void clear_redis_nodes(struct ar_config *cfg)
{
	for (int i = 0; i < cfg->n_redis_nodes; i++) {
		free(cfg->redis_node[i].host);
		cfg->redis_node[i].host = NULL;
	}
	cfg->n_redis_nodes = 0;
	cfg->redis_mode = REDIS_MODE_ONE;
	free(cfg->sentinel_master);
	cfg->sentinel_master = NULL;
}

/* "HOST:PORT[,HOST:PORT...]" from list up to end into cfg->redis_node;
 * -1 with why (form names the whole value's form). */
static int set_redis_nodes(struct ar_config *cfg, const char *list, const char *end,
                           const char *form, char *why, size_t whylen)
{
	const char *p = list;

	while (p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *stop = comma ? comma : end;
		struct ar_host_port *s = &cfg->redis_node[cfg->n_redis_nodes];

		if (cfg->n_redis_nodes == CONFIG_REDIS_NODES_MAX ||
		    parse_host_port(p, (size_t)(stop - p), &s->host, &s->port) < 0) {
			if (cfg->n_redis_nodes == CONFIG_REDIS_NODES_MAX)
				snprintf(why, whylen, "at most %d addresses",
				         CONFIG_REDIS_NODES_MAX);
			else
				snprintf(why, whylen, "expected %s", form);
			clear_redis_nodes(cfg);
			return -1;
		}
		cfg->n_redis_nodes++;
		p = stop + 1;
	}
	if (cfg->n_redis_nodes == 0 || end[-1] == ',') {
		snprintf(why, whylen, "expected %s", form);
		clear_redis_nodes(cfg);
		return -1;
	}
	return 0;
}

/* "HOST:PORT[,HOST:PORT...]", after "cluster://". */
static int set_cluster(struct ar_config *cfg, const char *list, char *why, size_t whylen)
{
	clear_redis_nodes(cfg);
	if (set_redis_nodes(cfg, list, list + strlen(list), "cluster://HOST:PORT[,HOST:PORT...]",
	                    why, whylen) < 0)
		return -1;
	cfg->redis_mode = REDIS_MODE_CLUSTER;
	return 0;
}

/* "HOST:PORT[,HOST:PORT...]/NAME", after "sentinel://". */
static int set_sentinels(struct ar_config *cfg, const char *list, char *why, size_t whylen)
{
	const char *slash = strrchr(list, '/');

	clear_redis_nodes(cfg);
	if (!slash || slash == list || slash[-1] == ',' || slash[1] == '\0' ||
	    strlen(slash + 1) > CONFIG_SENTINEL_NAME_MAX ||
	    slash[1 + strspn(slash + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                                "0123456789._-")] != '\0') {
		snprintf(why, whylen,
		         "expected sentinel://HOST:PORT[,HOST:PORT...]/NAME, NAME of at most %d "
		         "letters, digits, '.', '_' or '-'",
		         CONFIG_SENTINEL_NAME_MAX);
		return -1;
	}
	if (set_redis_nodes(cfg, list, slash, "sentinel://HOST:PORT[,HOST:PORT...]/NAME", why,
	                    whylen) < 0)
		return -1;
	cfg->redis_mode = REDIS_MODE_SENTINEL;
	cfg->sentinel_master = xstrdup(slash + 1);
	return 0;
}

static int set_redis(struct ar_config *cfg, const char *value, char *why, size_t whylen)
{
	if (strncmp(value, "sentinel://", 11) == 0)
		return set_sentinels(cfg, value + 11, why, whylen);
	if (strncmp(value, "cluster://", 10) == 0)
		return set_cluster(cfg, value + 10, why, whylen);
	if (strncmp(value, "unix:", 5) != 0 && strstr(value, "://")) {
		snprintf(why, whylen,
		         "expected host:port, unix:/path, sentinel://HOST:PORT[,...]/NAME or "
		         "cluster://HOST:PORT[,...]");
		return -1;
	}
	clear_redis_nodes(cfg);
	return set_address(value, &cfg->redis_host, &cfg->redis_port, &cfg->redis_unix_path, why,
	                   whylen);
}

static int set_sentinel_password(struct ar_config *cfg, const char *value, char *why, size_t whylen)
{
	(void)why, (void)whylen;
	replace_string(&cfg->sentinel_password, value);
	return 0;
}

static int set_wait_replicas(struct ar_config *cfg, const char *value, char *why, size_t whylen)
{
	long v;
	if (set_long(&v, value, 0, 64, why, whylen) < 0)
		return -1;
	cfg->wait_replicas = (int)v;
	return 0;
}

static int set_wait_timeout_ms(struct ar_config *cfg, const char *value, char *why, size_t whylen)
{
	long v;
	if (set_long(&v, value, 1, 60000, why, whylen) < 0)
		return -1;
	cfg->wait_timeout_ms = (int)v;
	return 0;
}

static int set_redis_password(struct ar_config *cfg, const char *value, char *why, size_t whylen)
{
	(void)why, (void)whylen;
	replace_string(&cfg->redis_password, value);
	return 0;
}

static int set_redis_user(struct ar_config *cfg, const char *value, char *why, size_t whylen)
{
	(void)why, (void)whylen;
	replace_string(&cfg->redis_user, value);
	return 0;
}

static int set_redis_db(struct ar_config *cfg, const char *value, char *why, size_t whylen)
{
	long v;
	if (set_long(&v, value, 0, 65535, why, whylen) < 0)
		return -1;
	cfg->redis_db = (int)v;
	return 0;
}

static int set_redis_timeout_ms(struct ar_config *cfg, const char *value, char *why, size_t whylen)
{
	long v;
	if (set_long(&v, value, 1, 60000, why, whylen) < 0)
		return -1;
	cfg->redis_timeout_ms = (int)v;
	return 0;
}

static int set_client_timeout_ms(struct ar_config *cfg, const char *value, char *why, size_t whylen)
{
	long v;
	if (set_long(&v, value, 100, 600000, why, whylen) < 0)
		return -1;
	cfg->client_timeout_ms = (int)v;
	return 0;
}

static int set_key_prefix(struct ar_config *cfg, const char *value, char *why, size_t whylen)
{
	if (strlen(value) > CONFIG_KEY_PREFIX_MAX || strpbrk(value, " \t") ||
	    config_hash_tag(value, NULL) < 0) {
		snprintf(why, whylen,
		         "at most %d characters, no spaces, braces only as one hash tag ({shop1}:)",
		         CONFIG_KEY_PREFIX_MAX);
		return -1;
	}
	replace_string(&cfg->key_prefix, value);
	return 0;
}

static int set_token_ttl(struct ar_config *cfg, const char *value, char *why, size_t whylen)
{
	return set_long(&cfg->token_ttl, value, 1, 30L * 86400, why, whylen);
}

static int set_result_ttl(struct ar_config *cfg, const char *value, char *why, size_t whylen)
{
	return set_long(&cfg->result_ttl, value, 1, 366L * 86400, why, whylen);
}

static int set_duplicate_mode(struct ar_config *cfg, const char *value, char *why, size_t whylen)
{
	if (strcmp(value, "replay") == 0)
		cfg->duplicate_mode = DUPLICATE_REPLAY;
	else if (strcmp(value, "reject") == 0)
		cfg->duplicate_mode = DUPLICATE_REJECT;
	else {
		snprintf(why, whylen, "expected replay or reject, got '%.64s'", value);
		return -1;
	}
	return 0;
}

/* 1 if s is a non-empty HTTP token of letters, digits, '-' and '_'. */
static int is_simple_name(const char *s)
{
	if (!*s || strlen(s) > 64)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return 0;
	return 1;
}

/* "X-User-Id" -> "HTTP_X_USER_ID", as web servers name header params. */
static char *header_param_name(const char *header)
{
	size_t n = strlen(header);
	char *p = xmalloc(n + 6);
	memcpy(p, "HTTP_", 5);
	for (size_t i = 0; i < n; i++) {
		char c = header[i];
		p[5 + i] = c == '-' ? '_' : (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
	}
	p[5 + n] = '\0';
	return p;
}

static int set_bind(struct ar_config *cfg, const char *value, char *why, size_t whylen)
{
	free(cfg->bind_name);
	cfg->bind_name = NULL;
	if (strcmp(value, "none") == 0) {
		cfg->bind = BIND_NONE;
	} else if (strcmp(value, "remote_user") == 0) {
		cfg->bind = BIND_REMOTE_USER;
	} else if (strncmp(value, "header:", 7) == 0 && is_simple_name(value + 7) &&
	           !strchr(value + 7, '_')) {
		cfg->bind = BIND_HEADER;
		cfg->bind_name = header_param_name(value + 7);
	} else if (strncmp(value, "cookie:", 7) == 0 && is_simple_name(value + 7)) {
		cfg->bind = BIND_COOKIE;
		cfg->bind_name = xstrdup(value + 7);
	} else {
		snprintf(why, whylen,
		         "expected none, remote_user, header:NAME or cookie:NAME, got '%.64s'",
		         value);
		return -1;
	}
	return 0;
}

static int set_token_rate(struct ar_config *cfg, const char *value, char *why, size_t whylen)
{
	return set_long(&cfg->token_rate, value, 0, 1000000, why, whylen);
}

static int set_keys(struct ar_config *cfg, const char *value, char *why, size_t whylen)
{
	if (strcmp(value, "issued") == 0)
		cfg->keys = KEYS_ISSUED;
	else if (strcmp(value, "client") == 0)
		cfg->keys = KEYS_CLIENT;
	else {
		snprintf(why, whylen, "expected issued or client, got '%.64s'", value);
		return -1;
	}
	return 0;
}

static int set_submit_rate(struct ar_config *cfg, const char *value, char *why, size_t whylen)
{
	return set_long(&cfg->submit_rate, value, 0, 1000000, why, whylen);
}

static int set_max_body(struct ar_config *cfg, const char *value, char *why, size_t whylen)
{
	long v;
	if (set_long(&v, value, 256, 16L * 1024 * 1024, why, whylen) < 0)
		return -1;
	cfg->max_body = (size_t)v;
	return 0;
}

static int set_base_path(struct ar_config *cfg, const char *value, char *why, size_t whylen)
{
	size_t n = strlen(value);
	if (n > 0 && (value[0] != '/' || value[n - 1] == '/' || n > BASE_PATH_MAX ||
	              strpbrk(value, "%?#\\ \t") || strstr(value, "//") || strstr(value, "/./") ||
	              strstr(value, "/../"))) {
		snprintf(why, whylen,
		         "expected empty or an absolute path of at most %d characters without a "
		         "trailing '/' (e.g. /shop/api)",
		         BASE_PATH_MAX);
		return -1;
	}
	replace_string(&cfg->base_path, value);
	return 0;
}

static int set_admin_token(struct ar_config *cfg, const char *value, char *why, size_t whylen)
{
	size_t n = strlen(value);
	if (n > 0 && n < ADMIN_TOKEN_MIN) {
		snprintf(why, whylen, "must be empty (admin routes off) or at least %d characters",
		         ADMIN_TOKEN_MIN);
		return -1;
	}
	replace_string(&cfg->admin_token, value);
	return 0;
}

/* A redirect target of the form flow: a path on this site, so that it can
 * never send a browser elsewhere: no scheme, no "//host", no backslash
 * (browsers read it as '/'), and no placeholder right after the first
 * '/' (filled with an empty order id, "/{order_id}/host" is "//host").
 * Visible ASCII without quotes or angle brackets; braces only around the
 * placeholders of vars[0..n). */
static int set_form_url(char **slot, const char *value, const struct strbuf_var *vars, size_t n,
                        char *why, size_t whylen)
{
	const char *end = value + strlen(value);
	size_t filled = (size_t)(end - value);
	const char *bad = NULL;

	if (*value && (value[0] != '/' || value[1] == '/' || value[1] == '\\' || value[1] == '{'))
		bad = "must be a path on this site: one '/', then not a placeholder "
		      "(/order.html?id={order_id})";
	for (const char *p = value; !bad && *p; p++) {
		const struct strbuf_var *var = strbuf_template_var(p, end, vars, n);
		if (var) {
			p += strlen(var->name) + 1;
			filled += CONFIG_FORM_VALUE_MAX - (strlen(var->name) + 2);
		} else if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e ||
		           strchr("\\\"<>{}", *p))
			bad = "holds a character a URL path may not (blank, control, non-ASCII, "
			      "\\, \", <, >) or a brace outside {placeholder}";
	}
	if (!bad && filled > CONFIG_FORM_URL_MAX)
		bad = "is too long once its placeholders are filled (" UTIL_STR(
		    CONFIG_FORM_URL_MAX) " characters at most)";
	if (bad) {
		snprintf(why, whylen, "%s", bad);
		return -1;
	}
	replace_string(slot, value);
	return 0;
}

static int set_form_success_url(struct ar_config *cfg, const char *value, char *why, size_t whylen)
{
	static const struct strbuf_var vars[] = {{"order_id", ""}};
	return set_form_url(&cfg->form_success_url, value, vars, 1, why, whylen);
}

static int set_form_error_url(struct ar_config *cfg, const char *value, char *why, size_t whylen)
{
	static const struct strbuf_var vars[] = {{"error", ""}};
	return set_form_url(&cfg->form_error_url, value, vars, 1, why, whylen);
}

/* Read now, so that --check-config and the start fail on a missing or
 * wrong file, and a request never touches the disk. */
static int set_form_page(struct ar_config *cfg, const char *value, char *why, size_t whylen)
{
	char *text = NULL;
	size_t len = 0;

	if (*value && value[0] != '/') {
		snprintf(why, whylen, "expected empty or the absolute path of an HTML file");
		return -1;
	}
	if (*value && util_read_file(value, CONFIG_FORM_PAGE_MAX, UTIL_READ_REGULAR, &text, &len,
	                             why, whylen) < 0)
		return -1;
	if (text && !strstr(text, "{token}")) {
		snprintf(why, whylen, "%s: no {token} in it (the form's hidden token field)",
		         value);
		free(text);
		return -1;
	}
	replace_string(&cfg->form_page, value);
	free(cfg->form_page_html);
	cfg->form_page_html = text;
	cfg->form_page_len = len;
	return 0;
}

static int set_log(struct ar_config *cfg, const char *value, char *why, size_t whylen)
{
	if (strcmp(value, "syslog") == 0)
		cfg->log_to_stderr = 0;
	else if (strcmp(value, "stderr") == 0)
		cfg->log_to_stderr = 1;
	else {
		snprintf(why, whylen, "expected syslog or stderr, got '%.64s'", value);
		return -1;
	}
	return 0;
}

static int set_log_level(struct ar_config *cfg, const char *value, char *why, size_t whylen)
{
	if (log_level_parse(value, &cfg->log_level) < 0) {
		snprintf(why, whylen, "expected error, warn, info or debug, got '%.64s'", value);
		return -1;
	}
	return 0;
}

static int set_db(struct ar_config *cfg, const char *value, char *why, size_t whylen)
{
	return set_address(value, &cfg->db_host, &cfg->db_port, &cfg->db_unix_path, why, whylen);
}

static int set_db_user(struct ar_config *cfg, const char *value, char *why, size_t whylen)
{
	if (!*value || strlen(value) > DB_NAME_MAX) {
		snprintf(why, whylen, "expected a user name of 1 to %d bytes", DB_NAME_MAX);
		return -1;
	}
	replace_string(&cfg->db_user, value);
	return 0;
}

static int set_db_password(struct ar_config *cfg, const char *value, char *why, size_t whylen)
{
	(void)why, (void)whylen;
	replace_string(&cfg->db_password, value);
	return 0;
}

/* A database name: quoted nowhere, so letters, digits, '_' and '$' only. */
static int set_db_name(struct ar_config *cfg, const char *value, char *why, size_t whylen)
{
	size_t n = strlen(value);
	if (n == 0 || n > DB_NAME_MAX ||
	    strspn(value, "abcdefghijklmnopqrstuvwxyz"
	                  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$") != n) {
		snprintf(why, whylen, "expected 1 to %d letters, digits, '_' or '$', got '%.64s'",
		         DB_NAME_MAX, value);
		return -1;
	}
	replace_string(&cfg->db_name, value);
	return 0;
}

static int set_db_timeout(struct ar_config *cfg, const char *value, char *why, size_t whylen)
{
	long v;
	if (set_long(&v, value, 1, 3600, why, whylen) < 0)
		return -1;
	cfg->db_timeout = (int)v;
	return 0;
}

static int set_drain_batch(struct ar_config *cfg, const char *value, char *why, size_t whylen)
{
	long v;
	if (set_long(&v, value, 1, DRAIN_BATCH_MAX, why, whylen) < 0)
		return -1;
	cfg->drain_batch = (int)v;
	return 0;
}

static int set_drain_block_ms(struct ar_config *cfg, const char *value, char *why, size_t whylen)
{
	long v;
	if (set_long(&v, value, 10, 60000, why, whylen) < 0)
		return -1;
	cfg->drain_block_ms = (int)v;
	return 0;
}

static int set_drain_claim_ms(struct ar_config *cfg, const char *value, char *why, size_t whylen)
{
	return set_long(&cfg->drain_claim_ms, value, 100, 7L * 86400 * 1000, why, whylen);
}

static int set_order_ttl(struct ar_config *cfg, const char *value, char *why, size_t whylen)
{
	return set_long(&cfg->order_ttl, value, 1, 366L * 86400, why, whylen);
}

/* In the order of the documentation (README, antireplay.conf(5), the
 * commented example, --help). */
static const struct {
	const char *key;
	setter_fn set;
	unsigned readers; /* CONFIG_FCGI, CONFIG_DRAIN */
} keys[] = {
    {"redis", set_redis, CONFIG_FCGI | CONFIG_DRAIN},
    {"redis_password", set_redis_password, CONFIG_FCGI | CONFIG_DRAIN},
    {"redis_user", set_redis_user, CONFIG_FCGI | CONFIG_DRAIN},
    {"redis_db", set_redis_db, CONFIG_FCGI | CONFIG_DRAIN},
    {"redis_timeout_ms", set_redis_timeout_ms, CONFIG_FCGI | CONFIG_DRAIN},
    {"sentinel_password", set_sentinel_password, CONFIG_FCGI | CONFIG_DRAIN},
    {"wait_replicas", set_wait_replicas, CONFIG_FCGI | CONFIG_DRAIN},
    {"wait_timeout_ms", set_wait_timeout_ms, CONFIG_FCGI | CONFIG_DRAIN},
    {"client_timeout_ms", set_client_timeout_ms, CONFIG_FCGI},
    {"key_prefix", set_key_prefix, CONFIG_FCGI | CONFIG_DRAIN},
    {"token_ttl", set_token_ttl, CONFIG_FCGI},
    {"result_ttl", set_result_ttl, CONFIG_FCGI | CONFIG_DRAIN},
    {"duplicate_mode", set_duplicate_mode, CONFIG_FCGI},
    {"bind", set_bind, CONFIG_FCGI},
    {"token_rate", set_token_rate, CONFIG_FCGI},
    {"keys", set_keys, CONFIG_FCGI},
    {"submit_rate", set_submit_rate, CONFIG_FCGI},
    {"max_body", set_max_body, CONFIG_FCGI},
    {"base_path", set_base_path, CONFIG_FCGI},
    {"admin_token", set_admin_token, CONFIG_FCGI},
    {"form_success_url", set_form_success_url, CONFIG_FCGI},
    {"form_error_url", set_form_error_url, CONFIG_FCGI},
    {"form_page", set_form_page, CONFIG_FCGI},
    {"log", set_log, CONFIG_FCGI | CONFIG_DRAIN},
    {"log_level", set_log_level, CONFIG_FCGI | CONFIG_DRAIN},
    {"db", set_db, CONFIG_DRAIN},
    {"db_user", set_db_user, CONFIG_DRAIN},
    {"db_password", set_db_password, CONFIG_DRAIN},
    {"db_name", set_db_name, CONFIG_DRAIN},
    {"db_timeout", set_db_timeout, CONFIG_DRAIN},
    {"drain_batch", set_drain_batch, CONFIG_DRAIN},
    {"drain_block_ms", set_drain_block_ms, CONFIG_DRAIN},
    {"drain_claim_ms", set_drain_claim_ms, CONFIG_DRAIN},
    {"order_ttl", set_order_ttl, CONFIG_DRAIN},
};
#define N_KEYS (sizeof keys / sizeof keys[0])

void config_init(struct ar_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->redis_host = xstrdup("127.0.0.1");
	cfg->redis_port = 6379;
	cfg->redis_password = xstrdup("");
	cfg->redis_user = xstrdup("");
	cfg->redis_db = 0;
	cfg->redis_timeout_ms = 500;
	cfg->sentinel_password = xstrdup("");
	cfg->wait_replicas = 0;
	cfg->wait_timeout_ms = 100;
	cfg->client_timeout_ms = 10000;
	cfg->key_prefix = xstrdup("ar:");
	cfg->token_ttl = 600;
	cfg->result_ttl = 86400;
	cfg->duplicate_mode = DUPLICATE_REPLAY;
	cfg->bind = BIND_NONE;
	cfg->token_rate = 60;
	cfg->keys = KEYS_ISSUED;
	cfg->submit_rate = 0;
	cfg->max_body = 16384;
	cfg->base_path = xstrdup("");
	cfg->admin_token = xstrdup("");
	cfg->form_success_url = xstrdup("");
	cfg->form_error_url = xstrdup("");
	cfg->form_page = xstrdup("");
	cfg->log_to_stderr = 0;
	cfg->log_level = AR_LOG_INFO;
	cfg->db_unix_path = xstrdup("/run/mysqld/mysqld.sock");
	cfg->db_port = 3306;
	cfg->db_user = xstrdup("antireplay");
	cfg->db_password = xstrdup("");
	cfg->db_name = xstrdup("antireplay");
	cfg->db_timeout = 10;
	cfg->drain_batch = 100;
	cfg->drain_block_ms = 1000;
	cfg->drain_claim_ms = 60000;
	cfg->order_ttl = 0;
}

const char *config_key(size_t i, unsigned *readers)
{
	if (i >= N_KEYS)
		return NULL;
	if (readers)
		*readers = keys[i].readers;
	return keys[i].key;
}

long config_order_ttl(const struct ar_config *cfg)
{
	return cfg->order_ttl ? cfg->order_ttl : cfg->result_ttl;
}

void config_free(struct ar_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->redis_host);
	free(cfg->redis_unix_path);
	free(cfg->redis_password);
	free(cfg->redis_user);
	clear_redis_nodes(cfg);
	free(cfg->sentinel_password);
	free(cfg->key_prefix);
	free(cfg->bind_name);
	free(cfg->base_path);
	free(cfg->admin_token);
	free(cfg->form_success_url);
	free(cfg->form_error_url);
	free(cfg->form_page);
	free(cfg->form_page_html);
	free(cfg->db_host);
	free(cfg->db_unix_path);
	free(cfg->db_user);
	free(cfg->db_password);
	free(cfg->db_name);
	memset(cfg, 0, sizeof *cfg);
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Trims spaces and tabs (and a CR) from both ends of s[0..*len). */
static const char *trim(const char *s, size_t *len)
{
	while (*len > 0 && is_space(*s)) {
		s++;
		(*len)--;
	}
	while (*len > 0 && is_space(s[*len - 1]))
		(*len)--;
	return s;
}

/* Applies one non-comment line. */
static int apply_line(struct ar_config *cfg, const char *line, size_t len, int seen[N_KEYS],
                      const char *name, unsigned lineno, char *err, size_t errlen)
{
	const char *eq = memchr(line, '=', len);
	char why[256];

	if (!eq) {
		snprintf(err, errlen, "%s:%u: expected 'key = value'", name, lineno);
		return -1;
	}
	size_t klen = (size_t)(eq - line), vlen = len - klen - 1;
	const char *key = trim(line, &klen);
	const char *val = trim(eq + 1, &vlen);

	for (size_t i = 0; i < N_KEYS; i++) {
		if (strlen(keys[i].key) != klen || memcmp(keys[i].key, key, klen) != 0)
			continue;
		if (seen[i]) {
			snprintf(err, errlen, "%s:%u: key '%s': repeated (first set on line %d)",
			         name, lineno, keys[i].key, seen[i]);
			return -1;
		}
		seen[i] = (int)lineno;
		char *value = xstrndup(val, vlen);
		int rc = -1;
		if (strlen(value) != vlen)
			snprintf(why, sizeof why, "NUL byte in value");
		else
			rc = keys[i].set(cfg, value, why, sizeof why);
		free(value);
		if (rc < 0) {
			snprintf(err, errlen, "%s:%u: key '%s': %s", name, lineno, keys[i].key,
			         why);
			return -1;
		}
		return 0;
	}
	snprintf(err, errlen, "%s:%u: key '%.*s': unknown key", name, lineno,
	         (int)(klen > 64 ? 64 : klen), key);
	return -1;
}

/* The line that set key (0 when the default stands). */
static int line_of(const int seen[N_KEYS], const char *key)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (strcmp(keys[i].key, key) == 0)
			return seen[i];
	return 0;
}

int config_hash_tag(const char *prefix, size_t *len)
{
	const char *open = strchr(prefix, '{');
	const char *close = strchr(prefix, '}');

	if (!open && !close)
		return 0;
	/* One pair, in order, not empty: what Redis takes as the tag. */
	if (!open || !close || close < open + 2 || strchr(open + 1, '{') ||
	    strchr(close + 1, '{') || strchr(close + 1, '}'))
		return -1;
	if (len)
		*len = (size_t)(close - open - 1);
	return (int)(open + 1 - prefix);
}

/* Values that are fine alone but not together. */
static int check_combinations(const struct ar_config *cfg, const char *name, const int seen[N_KEYS],
                              char *err, size_t errlen)
{
	if (cfg->wait_replicas > 0 && cfg->wait_timeout_ms >= cfg->redis_timeout_ms) {
		/* The WAIT's reply must come back within the command timeout, or
		 * every confirmed write would look like a lost connection. */
		snprintf(err, errlen,
		         "%s:%d: key 'wait_timeout_ms': %d must be below redis_timeout_ms (%d)",
		         name,
		         line_of(seen, line_of(seen, "wait_timeout_ms") ? "wait_timeout_ms"
		                                                        : "redis_timeout_ms"),
		         cfg->wait_timeout_ms, cfg->redis_timeout_ms);
		return -1;
	}
	if (cfg->redis_mode == REDIS_MODE_CLUSTER && config_hash_tag(cfg->key_prefix, NULL) <= 0) {
		/* Every key of one request must be in one slot, or the one
		 * script of a submission cannot run. */
		snprintf(err, errlen,
		         "%s:%d: key 'key_prefix': with a Redis Cluster it must hold one hash tag "
		         "({shop1}:), so that every key of this deployment is in one slot",
		         name, line_of(seen, line_of(seen, "key_prefix") ? "key_prefix" : "redis"));
		return -1;
	}
	if (cfg->redis_mode == REDIS_MODE_CLUSTER && cfg->redis_db != 0) {
		snprintf(err, errlen, "%s:%d: key 'redis_db': a Redis Cluster has database 0 only",
		         name, line_of(seen, "redis_db"));
		return -1;
	}
	if (!cfg->form_success_url[0] != !cfg->form_error_url[0]) {
		/* Half a flow would answer a browser's form post with a
		 * redirect or with JSON depending on the outcome. */
		snprintf(err, errlen,
		         "%s:%d: keys 'form_success_url' and 'form_error_url': set both or neither",
		         name,
		         line_of(seen, line_of(seen, "form_success_url") ? "form_success_url"
		                                                         : "form_error_url"));
		return -1;
	}
	if (cfg->keys == KEYS_CLIENT && cfg->bind == BIND_NONE) {
		/* With no identity every client would share one key space, and
		 * could read another's order by replaying its key. */
		snprintf(err, errlen,
		         "%s:%d: key 'keys': client needs bind (remote_user, header:NAME or "
		         "cookie:NAME): with bind = none every client would share one key space",
		         name, line_of(seen, "keys"));
		return -1;
	}
	return 0;
}

int config_load_string(struct ar_config *cfg, const char *name, const char *text, char *err,
                       size_t errlen)
{
	int seen[N_KEYS] = {0};
	unsigned lineno = 0;
	const char *p = text;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		size_t tlen = len;
		const char *t = trim(p, &tlen);

		lineno++;
		/* '#' starts a comment only at the start of a line (after blanks). */
		if (tlen > 0 && t[0] != '#' &&
		    apply_line(cfg, t, tlen, seen, name, lineno, err, errlen) < 0)
			return -1;
		p = nl ? nl + 1 : p + len;
	}
	return check_combinations(cfg, name, seen, err, errlen);
}

int config_load_file(struct ar_config *cfg, const char *path, char *err, size_t errlen)
{
	char *text;
	size_t len;

	if (util_read_file(path, CONFIG_FILE_MAX, UTIL_READ_ANY, &text, &len, err, errlen) < 0)
		return -1;
	int rc = config_load_string(cfg, path, text, err, errlen);
	free(text);
	return rc;
}
