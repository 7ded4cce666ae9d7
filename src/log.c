/* log: syslog or stderr, one line per call, control bytes escaped. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 1024

static int log_stderr = 1;
static enum ar_log_level log_threshold = AR_LOG_INFO;
static const char *log_ident = "antireplay-fcgi";

static const char *const level_names[] = {"error", "warn", "info", "debug"};
static const int syslog_priorities[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};

void log_open(const char *ident, int to_stderr, enum ar_log_level level)
{
	log_ident = ident;
	log_stderr = to_stderr;
	log_threshold = level;
	if (!to_stderr)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_close(void)
{
	if (!log_stderr)
		closelog();
}

int log_enabled(enum ar_log_level level)
{
	return level <= log_threshold;
}

/* Copies src into dst, \xNN for control bytes and DEL; always terminates. */
static void escape_line(char *dst, size_t dstlen, const char *src)
{
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)src; *p && o + 5 < dstlen; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			snprintf(dst + o, dstlen - o, "\\x%02x", *p);
			o += 4;
		} else {
			dst[o++] = (char)*p;
		}
	}
	dst[o] = '\0';
}

void log_msg(enum ar_log_level level, const char *fmt, ...)
{
	char raw[LOG_LINE_MAX];
	char line[LOG_LINE_MAX];
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	escape_line(line, sizeof line, raw);

	if (!log_stderr) {
		syslog(syslog_priorities[level], "%s", line);
		return;
	}
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s[%ld] %s: %s\n", tm.tm_year + 1900,
	        tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
	        log_ident, (long)getpid(), level_names[level], line);
}

const char *log_token(const char *token, char buf[LOG_TOKEN_SHOWN + 4])
{
	if (!token || !*token) {
		strcpy(buf, "-");
		return buf;
	}
	/* At most half of it: a short key a client made is not shown whole. */
	size_t n = strnlen(token, LOG_TOKEN_SHOWN);
	if (n > strlen(token) / 2)
		n = strlen(token) / 2;
	memcpy(buf, token, n);
	strcpy(buf + n, "...");
	return buf;
}

int log_level_parse(const char *name, enum ar_log_level *out)
{
	for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*out = (enum ar_log_level)i;
			return 0;
		}
	}
	return -1;
}
