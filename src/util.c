/* util: allocation wrappers, bounded number parsing, constant-time
 * comparison, timestamps. */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

static void *out_of_memory(size_t size)
{
	log_error("out of memory allocating %lu bytes", (unsigned long)size);
	abort();
}

void *xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);
	return p ? p : out_of_memory(size);
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	return p ? p : out_of_memory(n * size);
}

void *xrealloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);
	return p ? p : out_of_memory(size);
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	n = strnlen(s, n);
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

int util_parse_long(const char *s, size_t len, long min, long max, long *out)
{
	size_t i = 0;
	int negative = 0;
	unsigned long long v = 0;

	if (len > 0 && s[0] == '-') {
		negative = 1;
		i = 1;
	}
	if (i == len || len - i > 19)
		return -1;
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long long)(s[i] - '0');
	}
	if (v > (unsigned long long)INT64_MAX)
		return -1;
	long long signed_v = negative ? -(long long)v : (long long)v;
	if (signed_v < min || signed_v > max)
		return -1;
	*out = (long)signed_v;
	return 0;
}

int util_consttime_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	unsigned char diff = (unsigned char)(alen != blen);
	size_t n = alen < blen ? alen : blen;

	/* Walk the shorter length fully; only the lengths leak, not contents. */
	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return diff == 0;
}

void util_format_rfc3339_ms(const struct timespec *ts, char out[UTIL_RFC3339_LEN + 1])
{
	struct tm tm;
	time_t secs = ts->tv_sec;

	gmtime_r(&secs, &tm);
	/* Digit by digit, not strftime + snprintf: one of these per order. */
	const struct {
		int value, width;
	} fields[] = {{tm.tm_year + 1900, 4},
	              {tm.tm_mon + 1, 2},
	              {tm.tm_mday, 2},
	              {tm.tm_hour, 2},
	              {tm.tm_min, 2},
	              {tm.tm_sec, 2},
	              {(int)(ts->tv_nsec / 1000000) % 1000, 3}};
	static const char after[] = "--T::.Z";
	size_t o = 0;

	for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++) {
		unsigned v = (unsigned)fields[f].value;
		for (int d = fields[f].width - 1; d >= 0; d--, v /= 10)
			out[o + (size_t)d] = (char)('0' + v % 10);
		o += (size_t)fields[f].width;
		out[o++] = after[f];
	}
	out[o] = '\0';
}

double util_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

void util_base64url(const unsigned char *in, size_t n, char *out)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t o = 0, i = 0;

	for (; i + 3 <= n; i += 3) {
		unsigned long v =
		    (unsigned long)in[i] << 16 | (unsigned long)in[i + 1] << 8 | in[i + 2];
		out[o++] = alphabet[v >> 18];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = alphabet[(v >> 6) & 63];
		out[o++] = alphabet[v & 63];
	}
	/* 1 or 2 bytes left: 2 or 3 characters, no padding. */
	if (n - i == 1) {
		out[o++] = alphabet[in[i] >> 2];
		out[o++] = alphabet[(in[i] & 3) << 4];
	} else if (n - i == 2) {
		unsigned long v = (unsigned long)in[i] << 8 | in[i + 1];
		out[o++] = alphabet[v >> 10];
		out[o++] = alphabet[(v >> 4) & 63];
		out[o++] = alphabet[(v << 2) & 63];
	}
	out[o] = '\0';
}

void util_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

int util_read_file(const char *path, size_t max, enum util_read_mode mode, char **text, size_t *len,
                   char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	ssize_t n = 0;
	/* O_NONBLOCK: opening a FIFO must not wait for a writer. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | (mode == UTIL_READ_REGULAR ? O_NONBLOCK : 0));

	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	if (mode == UTIL_READ_REGULAR && fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s: cannot stat: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (mode == UTIL_READ_REGULAR && !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	buf = xmalloc(max + 2);
	/* One byte more than max tells a file that is too large. */
	while (got <= max && (n = read(fd, buf + got, max + 1 - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (n < 0)
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
	else if (got > max)
		snprintf(err, errlen, "%s: larger than %zu bytes", path, max);
	else if (memchr(buf, '\0', got))
		snprintf(err, errlen, "%s: holds a NUL byte", path);
	else {
		buf[got] = '\0';
		*text = buf;
		*len = got;
		return 0;
	}
	free(buf);
	return -1;
}
