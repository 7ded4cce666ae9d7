/* keyspace: key names and token issue windows (see keyspace.h). */
#include "keyspace.h"

#include <string.h>

#include "strbuf.h"

/* Every kind's name, one a line (keyspace.h says what each key holds). */
static const char *const kind_names[KEY_KIND_COUNT] = {
    [KEY_TOKEN] = "t:",           /* + token key */
    [KEY_ORDER] = "order:",       /* + order id */
    [KEY_ORDERS] = "orders",      /* the stream */
    [KEY_DEAD] = "orders:dead",   /* its dead letters */
    [KEY_METRICS] = "metrics",    /* the counters */
    [KEY_STOCK] = "stock:",       /* + SKU */
    [KEY_RATE] = "rate:",         /* + client */
    [KEY_CLIENT_KEY] = "k:",      /* + idem_key_name */
    [KEY_SUBMIT_RATE] = "srate:", /* + client */
};

/* Appends s[0..len) to out at *n, terminated; -1 when it would not fit. */
static int append(char out[KEYSPACE_KEY_MAX], size_t *n, const char *s, size_t len)
{
	if (len >= KEYSPACE_KEY_MAX - *n)
		return -1;
	memcpy(out + *n, s, len);
	*n += len;
	out[*n] = '\0';
	return 0;
}

size_t keyspace_key(char out[KEYSPACE_KEY_MAX], const char *prefix, enum key_kind kind,
                    const char *name)
{
	const char *kind_name = kind_names[kind];
	size_t n = 0;

	if (append(out, &n, prefix, strlen(prefix)) < 0 ||
	    append(out, &n, kind_name, strlen(kind_name)) < 0 ||
	    append(out, &n, name, strlen(name)) < 0) {
		out[0] = '\0'; /* nothing cut short left behind */
		return 0;
	}
	return n;
}

/* "<prefix>tw:<seconds>:<index>" into out; 0 when it does not fit. */
static size_t window_key(char out[KEYSPACE_KEY_MAX], const char *prefix, long seconds,
                         long long index)
{
	char name[48];
	size_t len = 0, n = 0;

	memcpy(name, "tw:", 3);
	len = 3 + strbuf_format_int(name + 3, seconds);
	name[len++] = ':';
	len += strbuf_format_int(name + len, index);
	if (append(out, &n, prefix, strlen(prefix)) < 0 || append(out, &n, name, len) < 0) {
		out[0] = '\0';
		return 0;
	}
	return n;
}

void keyspace_windows_init(struct token_windows *tw)
{
	memset(tw, 0, sizeof *tw);
	tw->current = -1;
}

int keyspace_windows_at(struct token_windows *tw, const char *prefix, long token_ttl, long long now)
{
	long w = (token_ttl + KEYSPACE_WINDOWS_PER_TTL - 1) / KEYSPACE_WINDOWS_PER_TTL;
	long back;
	long long current;

	if (w < KEYSPACE_WINDOW_MIN_S)
		w = KEYSPACE_WINDOW_MIN_S;
	back = (token_ttl + w - 1) / w + 1; /* <= KEYSPACE_WINDOWS_PER_TTL + 1 */
	current = now / w;
	tw->now = now;
	if (current == tw->current && w == tw->seconds)
		return tw->overflow ? -1 : 0;
	tw->seconds = w;
	tw->current = current;
	tw->count = 0;
	tw->overflow = 0;
	/* Slots 0..back are the current window and those behind it; the one
	 * ahead (index current + 1) comes last. */
	for (long k = 0; k <= back + 1; k++) {
		long long index = k <= back ? current - k : current + 1;
		tw->key_len[k] = window_key(tw->key[k], prefix, w, index);
		tw->overflow |= tw->key_len[k] == 0;
		tw->count++;
	}
	return tw->overflow ? -1 : 0;
}

long long keyspace_window_expireat(const struct token_windows *tw)
{
	return (tw->current + 2 + KEYSPACE_WINDOWS_PER_TTL) * tw->seconds;
}

long keyspace_max_skew(const struct token_windows *tw)
{
	return tw->seconds / 2;
}
