/* keyspace: the name of every Redis key antireplay uses, and the issue
 * windows that hold unused tokens. Pure: no I/O and no clock (the caller
 * passes the time), so the layout is tested on its own (test_keyspace).
 * Both programs name keys only through here. */
#ifndef AR_KEYSPACE_H
#define AR_KEYSPACE_H

#include <stddef.h>

#include "config.h"
#include "identity.h"

/* The longest key, with its NUL: prefix + "rate:" + a client key ("i:" +
 * identity, or "a:" + REMOTE_ADDR, < IDENTITY_MAX + 64). */
#define KEYSPACE_KEY_MAX (CONFIG_KEY_PREFIX_MAX + 8 + IDENTITY_MAX + 64)

enum key_kind {
	KEY_TOKEN,       /* "t:<token key>": a used token's recorded outcome */
	KEY_ORDER,       /* "order:<order id>": an order (hash) */
	KEY_ORDERS,      /* "orders": the stream of new orders */
	KEY_DEAD,        /* "orders:dead": orders the database refused */
	KEY_METRICS,     /* "metrics": counters shared by every process (hash) */
	KEY_STOCK,       /* "stock:<sku>": units available */
	KEY_RATE,        /* "rate:<client>": tokens issued in this minute */
	KEY_CLIENT_KEY,  /* "k:<idem_key_name>": a client-made key's recorded outcome */
	KEY_SUBMIT_RATE, /* "srate:<client>": first submissions in this minute */
	KEY_KIND_COUNT
};

/* prefix, the kind's name, then name ("" for the kinds without one) into
 * out. Its length, or 0 when it does not fit: a key cut short could name
 * another client's key, so it must never be sent. */
size_t keyspace_key(char out[KEYSPACE_KEY_MAX], const char *prefix, enum key_kind kind,
                    const char *name);

/* Unused tokens are kept in one hash per issue window of W seconds,
 * W = max(KEYSPACE_WINDOW_MIN_S, ceil(token_ttl / KEYSPACE_WINDOWS_PER_TTL)):
 * one hash field costs Redis less than one key with an expiry of its own.
 * A token issued at unix time t goes into "<prefix>tw:<W>:<t / W>". */
#define KEYSPACE_WINDOWS_PER_TTL 8
#define KEYSPACE_WINDOW_MIN_S 10
/* The windows a live token can be in: KEYSPACE_WINDOWS_PER_TTL + 1 back
 * (its TTL, and one window for clocks that disagree), the current one, and
 * one ahead. */
#define KEYSPACE_WINDOWS_MAX (KEYSPACE_WINDOWS_PER_TTL + 3)

/* The windows to look in at one time. */
struct token_windows {
	long long now;     /* unix time given to the last keyspace_windows_at */
	long seconds;      /* W */
	long long current; /* now / W; -1 until first named */
	int count;         /* key[0..count) */
	char key[KEYSPACE_WINDOWS_MAX][KEYSPACE_KEY_MAX]; /* the current window first */
	size_t key_len[KEYSPACE_WINDOWS_MAX];
	int overflow; /* a name did not fit: none may be sent */
};

/* An empty set (named on first use). */
void keyspace_windows_init(struct token_windows *tw);

/* The windows a submission at unix time now must look in, the likeliest
 * first: the current window (tokens are mostly used soon), back over the
 * TTL and one window more (another host's clock may be behind ours), and
 * last the window ahead (it may be ahead). W is in the names, so processes
 * with another token_ttl keep to their own hashes. The names change once
 * a window: they are rendered then, not on every call, so prefix and
 * token_ttl must be the same on every call with tw. 0, or -1 when a name
 * does not fit (tw->overflow). */
int keyspace_windows_at(struct token_windows *tw, const char *prefix, long token_ttl,
                        long long now);

/* When the current window's hash may go (unix s): past the last expiry of
 * any token in it by Redis's clock (the window's end, a TTL, one window
 * for clocks), the same for every process that shares W. */
long long keyspace_window_expireat(const struct token_windows *tw);

/* How far (s) a caller's clock may be from Redis's before the scripts
 * refuse it: W / 2, or a token could land where no submission looks. */
long keyspace_max_skew(const struct token_windows *tw);

#endif
