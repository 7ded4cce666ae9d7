/* redisbench.c: what Redis costs alone, for bench/run. Calls the app's own
 * Lua scripts (lua/issue_token.lua, lua/submit_order.lua) with EVALSHA and
 * the same keys and arguments as src/store.c, over a unix socket, with
 * fresh tokens:
 *
 *   redisbench SOCK LUA_DIR MODE N DEPTH [LINES]
 *
 * MODE   tokens  issue_token for N fresh tokens (token_rate 0)
 *        orders  submit_order for N fresh tokens (HSET into the window first,
 *                pipelined, not timed), LINES lines of qty 1 on SKU-1..
 *        replay  submit_order N times with one used token
 *        client  submit_order for N fresh keys the client made (keys =
 *                client: no issue window to look in, the outcome under k:)
 * DEPTH  commands in flight: 1 gives the round trip of one call (p50/p99),
 *        32 keeps Redis busy (calls/s = what one Redis core can do).
 *
 * Prints: REDIS calls=N calls_per_s=X p50_us=P p99_us=Q
 * (with DEPTH > 1 the latencies are those of a batch of DEPTH calls).
 * Any reply other than the expected result exits 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#define MAX_LINES 50
#define MAX_ARGS (3 + 7 + 11 + MAX_LINES + 13 + 2 * MAX_LINES) /* 11 = WINDOWS */

static redisContext *ctx;
static char sha_issue[41], sha_submit[41];

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void die(const char *what, redisReply *r)
{
	fprintf(stderr, "redisbench: %s: %s\n", what,
	        r ? (r->type == REDIS_REPLY_ERROR || r->type == REDIS_REPLY_STRING ||
	                     r->type == REDIS_REPLY_STATUS
	                 ? r->str
	                 : "unexpected reply type")
	          : ctx->errstr);
	exit(1);
}

/* Appends dir/name.lua to src at *n (size max). */
static void append_file(const char *dir, const char *name, char *src, size_t max, size_t *n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s.lua", dir, name);
	f = fopen(path, "r");
	if (!f) {
		perror(path);
		exit(1);
	}
	*n += fread(src + *n, 1, max - 1 - *n, f);
	fclose(f);
	src[*n] = '\0';
}

/* Loads a script as the programs run it: lua/common.lua, then the script. */
static void load(const char *dir, const char *name, char sha[41])
{
	static char src[65536];
	size_t n = 0;
	redisReply *r;

	append_file(dir, "common", src, sizeof src, &n);
	append_file(dir, name, src, sizeof src, &n);
	r = redisCommand(ctx, "SCRIPT LOAD %b", src, n);
	if (!r || r->type != REDIS_REPLY_STRING || r->len != 40)
		die("SCRIPT LOAD", r);
	memcpy(sha, r->str, 41);
	freeReplyObject(r);
}

static void token(char out[37], const char *tag, unsigned long i)
{
	/* A v4-shaped UUID, unique per run (tag) and call. */
	snprintf(out, 37, "%.8s-%04lx-4%03lx-8%03lx-%012lx", tag, (i >> 40) & 0xffff,
	         (i >> 28) & 0xfff, (i >> 16) & 0xfff, i & 0xffffffffffffUL);
}

/* The app's names for tok: its field ("ar:t:" + the field is its key once
 * used) is 22 characters (the app writes the token's 16 bytes in base64url;
 * here the tag and the counter, the same length, so the same Redis cost).
 * Unused tokens live in the hash of their issue window: with token_ttl
 * 3600 the app uses W = 450 s windows and passes WINDOWS window keys to
 * submit_order, the current one first (src/keyspace.c, keyspace_windows_at). */
#define TTL 3600
#define WINDOW_S (TTL / 8)
#define WINDOWS 11
static const char skew[] = "225"; /* W / 2: how far our clock may be from Redis's */

static void token_field(char *out, size_t len, const char *tok)
{
	snprintf(out, len, "%.8s%.14s", tok, tok + 22);
}

static long long window_now(void)
{
	return (long long)time(NULL) / WINDOW_S;
}

static void window_key(char *out, size_t len, long long index)
{
	snprintf(out, len, "ar:tw:%d:%lld", WINDOW_S, index);
}

struct call {
	int argc;
	const char *argv[MAX_ARGS];
	size_t len[MAX_ARGS];
	char keys[6 + WINDOWS + MAX_LINES][64];
	char field[32];
	char expire_at[24];
	char host_now[24];
	char nums[MAX_LINES][8];
	char skus[MAX_LINES][16];
	char order_id[37];
	char issued_id[37]; /* stands for the id derived from the token */
	char issued_key[64];
	char canonical[64 + MAX_LINES * 16];
	char json[256 + MAX_LINES * 32];
};

static void push(struct call *c, const char *s)
{
	c->argv[c->argc] = s;
	c->len[c->argc] = strlen(s);
	c->argc++;
}

static void build_issue(struct call *c, const char *tok)
{
	long long now = window_now();

	c->argc = 0;
	push(c, "EVALSHA");
	push(c, sha_issue);
	push(c, "3");
	push(c, "ar:rate:a:127.0.0.1");
	window_key(c->keys[0], sizeof c->keys[0], now);
	push(c, c->keys[0]);
	push(c, "ar:metrics");
	push(c, "0");
	push(c, "3600");
	push(c, "");
	token_field(c->field, sizeof c->field, tok);
	push(c, c->field);
	snprintf(c->expire_at, sizeof c->expire_at, "%lld", (now + 10) * WINDOW_S);
	push(c, c->expire_at);
	snprintf(c->host_now, sizeof c->host_now, "%lld", (long long)time(NULL));
	push(c, c->host_now);
	push(c, skew);
}

static void build_submit(struct call *c, const char *tok, const char *order_id, int lines,
                         int client)
{
	static char nkeys[8];
	size_t off;

	c->argc = 0;
	push(c, "EVALSHA");
	push(c, sha_submit);
	long long now = window_now();

	/* keys = issued: the token's outcome key twice, the windows; keys =
	 * client with a key that is no UUID: its k: name twice, no window
	 * (lua/submit_order.lua). */
	int windows = client ? 0 : WINDOWS;
	snprintf(nkeys, sizeof nkeys, "%d", 7 + windows + lines);
	push(c, nkeys);
	if (client) {
		/* 43 characters, as idem_key_name's base64url of a SHA-256. */
		snprintf(c->keys[0], sizeof c->keys[0], "ar:k:%.36s-client", tok);
		c->field[0] = '\0';
	} else {
		token_field(c->field, sizeof c->field, tok);
		snprintf(c->keys[0], sizeof c->keys[0], "ar:t:%s", c->field);
	}
	push(c, c->keys[0]);
	push(c, c->keys[0]);
	snprintf(c->keys[1], sizeof c->keys[1], "ar:order:%s", order_id);
	push(c, c->keys[1]);
	push(c, "ar:orders");
	push(c, "ar:metrics");
	push(c, "ar:srate:a:127.0.0.1");
	/* An issued token's order gets the id derived from it (the app's
	 * token_order_id; any other fresh id costs Redis the same). */
	snprintf(c->issued_id, sizeof c->issued_id, "%s", client ? "" : order_id);
	if (!client)
		c->issued_id[0] = c->issued_id[0] == 'f' ? 'e' : 'f';
	snprintf(c->issued_key, sizeof c->issued_key, "ar:order:%s",
	         client ? order_id : c->issued_id);
	push(c, c->issued_key);
	for (int k = 0; k < windows; k++) {
		window_key(c->keys[6 + k], sizeof c->keys[6 + k],
		           k == WINDOWS - 1 ? now + 1 : now - k);
		push(c, c->keys[6 + k]);
	}
	for (int i = 0; i < lines; i++) {
		snprintf(c->skus[i], sizeof c->skus[i], "SKU-%d", i + 1);
		snprintf(c->keys[6 + WINDOWS + i], sizeof c->keys[6 + WINDOWS + i],
		         "ar:stock:SKU-%d", i + 1);
		push(c, c->keys[6 + WINDOWS + i]);
	}
	push(c, "");
	off = (size_t)snprintf(c->canonical, sizeof c->canonical, "v1\n");
	for (int i = 0; i < lines; i++)
		off += (size_t)snprintf(c->canonical + off, sizeof c->canonical - off, "%s 1\n",
		                        c->skus[i]);
	snprintf(c->canonical + off, sizeof c->canonical - off, "c-");
	push(c, c->canonical);
	push(c, "86400");
	push(c, "replay");
	snprintf(c->order_id, sizeof c->order_id, "%s", order_id);
	push(c, c->order_id);
	off = (size_t)snprintf(c->json, sizeof c->json,
	                       "{\"order_id\":\"%s\",\"status\":\"created\",\"items\":[", order_id);
	for (int i = 0; i < lines; i++)
		off += (size_t)snprintf(c->json + off, sizeof c->json - off,
		                        "%s{\"sku\":\"%s\",\"qty\":1}", i ? "," : "", c->skus[i]);
	snprintf(c->json + off, sizeof c->json - off,
	         "],\"created_at\":\"2026-11-27T05:44:47.123Z\"}");
	push(c, c->json);
	snprintf(c->expire_at, sizeof c->expire_at, "%d", windows);
	push(c, c->expire_at); /* here: the number of window keys */
	push(c, c->field);
	snprintf(c->host_now, sizeof c->host_now, "%lld", (long long)time(NULL));
	push(c, c->host_now);
	push(c, skew);
	push(c, client ? "1" : "0"); /* keys */
	push(c, "0");                /* submit_rate: none */
	push(c, c->issued_id);       /* '' for a client's key */
	for (int i = 0; i < lines; i++) {
		snprintf(c->nums[i], sizeof c->nums[i], "1");
		push(c, c->nums[i]);
	}
	for (int i = 0; i < lines; i++)
		push(c, c->skus[i]);
}

static void check(redisReply *r, const char *mode)
{
	if (!r)
		die(mode, r);
	if (strcmp(mode, "tokens") == 0) {
		if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
		    r->element[0]->type != REDIS_REPLY_INTEGER || r->element[0]->integer != 1)
			die("issue_token did not issue", r);
		return;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 6 ||
	    r->element[0]->type != REDIS_REPLY_STRING)
		die("submit_order", r);
	if (strcmp(r->element[0]->str, strcmp(mode, "replay") != 0 ? "created" : "replayed") != 0) {
		fprintf(stderr, "redisbench: %s: result %s\n", mode, r->element[0]->str);
		exit(1);
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	const char *mode;
	long n, depth, lines = 1;
	char tag[9], tok[37], oid[37], key[64], field[32];
	long long expires_ms = ((long long)time(NULL) + TTL) * 1000;
	struct call *c = calloc(1, sizeof *c);
	double *lat, t0, t1;
	long nbatches, b = 0;
	redisReply *r;

	if (argc < 6) {
		fprintf(
		    stderr,
		    "usage: redisbench SOCK LUA_DIR tokens|orders|replay|client N DEPTH [LINES]\n");
		return 2;
	}
	mode = argv[3];
	n = atol(argv[4]);
	depth = atol(argv[5]);
	if (argc > 6)
		lines = atol(argv[6]);
	if (n < 1 || depth < 1 || lines < 1 || lines > MAX_LINES)
		return 2;
	ctx = redisConnectUnix(argv[1]);
	if (!ctx || ctx->err)
		die("connect", NULL);
	load(argv[2], "issue_token", sha_issue);
	load(argv[2], "submit_order", sha_submit);
	snprintf(tag, sizeof tag, "%08lx",
	         ((unsigned long)time(NULL) ^ (unsigned long)getpid() << 16) & 0xffffffffUL);
	for (int i = 1; i <= lines; i++) {
		r = redisCommand(ctx, "SET ar:stock:SKU-%d 2000000000", i);
		if (!r)
			die("SET stock", r);
		freeReplyObject(r);
	}

	window_key(key, sizeof key, window_now());
	if (strcmp(mode, "orders") == 0) {
		/* The tokens, as issue_token.lua leaves them, outside the clock. */
		for (long i = 0; i < n; i++) {
			token(tok, tag, (unsigned long)i);
			token_field(field, sizeof field, tok);
			redisAppendCommand(ctx, "HSET %s %s %lld", key, field, expires_ms);
			if ((i + 1) % 1000 == 0 || i == n - 1) {
				for (long j = i - i % 1000; j <= i; j++) {
					if (redisGetReply(ctx, (void **)&r) != REDIS_OK)
						die("SET token", NULL);
					freeReplyObject(r);
				}
			}
		}
	} else if (strcmp(mode, "replay") == 0) {
		token(tok, tag, 0);
		token_field(field, sizeof field, tok);
		r = redisCommand(ctx, "HSET %s %s %lld", key, field, expires_ms);
		freeReplyObject(r);
		/* Unique per run too: an existing order hash is never written over. */
		token(oid, tag, 0x300000000UL);
		build_submit(c, tok, oid, (int)lines, 0);
		r = redisCommandArgv(ctx, c->argc, c->argv, c->len);
		check(r, "orders");
		freeReplyObject(r);
	} else if (strcmp(mode, "tokens") != 0 && strcmp(mode, "client") != 0) {
		fprintf(stderr, "redisbench: unknown mode %s\n", mode);
		return 2;
	}

	nbatches = (n + depth - 1) / depth;
	lat = calloc((size_t)nbatches, sizeof *lat);
	t0 = now_us();
	for (long i = 0; i < n; i += depth, b++) {
		long m = n - i < depth ? n - i : depth;
		double s = now_us();
		for (long j = 0; j < m; j++) {
			unsigned long k = (unsigned long)(i + j);
			if (strcmp(mode, "tokens") == 0) {
				token(tok, tag, k + 0x100000000UL);
				build_issue(c, tok);
			} else if (strcmp(mode, "orders") == 0 || strcmp(mode, "client") == 0) {
				token(tok, tag, k);
				token(oid, tag, k + 0x200000000UL);
				build_submit(c, tok, oid, (int)lines, mode[0] == 'c');
			} /* replay: c already holds the call */
			redisAppendCommandArgv(ctx, c->argc, c->argv, c->len);
		}
		for (long j = 0; j < m; j++) {
			if (redisGetReply(ctx, (void **)&r) != REDIS_OK)
				die(mode, NULL);
			check(r, mode);
			freeReplyObject(r);
		}
		lat[b] = now_us() - s;
	}
	t1 = now_us();
	qsort(lat, (size_t)nbatches, sizeof *lat, cmp_double);
	printf("REDIS calls=%ld calls_per_s=%.1f p50_us=%.1f p99_us=%.1f\n", n,
	       n / ((t1 - t0) / 1e6), lat[nbatches / 2],
	       lat[(long)(nbatches * 0.99) < nbatches ? (long)(nbatches * 0.99) : nbatches - 1]);
	redisFree(ctx);
	return 0;
}
