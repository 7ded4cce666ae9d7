/* util: allocation wrappers, the one bounded number parser, constant-time
 * comparison, timestamps and reading a whole file. Out of memory is fatal:
 * the x-wrappers log and abort, so callers bound every client-controlled
 * size before allocating. */
#ifndef AR_UTIL_H
#define AR_UTIL_H

#include <stddef.h>
#include <time.h>

/* Allocate or abort; never return NULL. */
void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Parse the whole of s (len bytes, digits with an optional leading -) as a decimal
 * integer within [min, max]. Returns 0 and sets *out, or -1 for empty input,
 * a stray character, or a value out of range. */
int util_parse_long(const char *s, size_t len, long min, long max, long *out);

/* 1 if a[0..alen) equals b[0..blen), else 0. Time depends only on alen and
 * blen, not on where the bytes differ. */
int util_consttime_equal(const char *a, size_t alen, const char *b, size_t blen);

#define UTIL_RFC3339_LEN 24 /* 2026-11-27T05:44:47.123Z */

/* A macro's value as a string literal: UTIL_STR(ORDER_STOCK_MAX). */
#define UTIL_STR_(x) #x
#define UTIL_STR(x) UTIL_STR_(x)
/* Writes ts as RFC 3339 UTC with milliseconds into out (25 bytes). */
void util_format_rfc3339_ms(const struct timespec *ts, char out[UTIL_RFC3339_LEN + 1]);

/* Monotonic milliseconds, for durations. */
double util_now_ms(void);

/* Sleeps ms milliseconds (signals may cut it short: callers bound their
 * waits by what they counted, not by the clock). */
void util_sleep_ms(long ms);

/* in[0..n) in unpadded base64url (RFC 4648 section 5) into out, which
 * holds UTIL_BASE64URL_LEN(n) + 1 bytes; NUL-terminated. The Redis names
 * of tokens and client keys. */
#define UTIL_BASE64URL_LEN(n) (((n)*4 + 2) / 3)
void util_base64url(const unsigned char *in, size_t n, char *out);

/* Reads the file at path whole: *text (malloc'd, NUL-terminated, the
 * caller frees) and *len. Refuses more than max bytes and a NUL byte; with
 * UTIL_READ_REGULAR, anything but a regular file too (a FIFO or a device
 * would block or never end; without it a pipe such as -c <(...) works).
 * Returns 0, or -1 with "PATH: why" in err. */
enum util_read_mode { UTIL_READ_ANY, UTIL_READ_REGULAR };
int util_read_file(const char *path, size_t max, enum util_read_mode mode, char **text, size_t *len,
                   char *err, size_t errlen);

#endif
