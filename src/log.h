/* log: one sink for the whole process, syslog (default; spawn-fcgi sends a
 * child's stderr to /dev/null) or stderr. Client data is escaped before it
 * is written; tokens are shortened with log_token(), never logged whole. */
#ifndef AR_LOG_H
#define AR_LOG_H

#include <stddef.h>

enum ar_log_level { AR_LOG_ERROR, AR_LOG_WARN, AR_LOG_INFO, AR_LOG_DEBUG };

/* Opens the sink. ident names the program in syslog and on stderr. */
void log_open(const char *ident, int to_stderr, enum ar_log_level level);
void log_close(void);

/* printf-like; the line is cut at 1 KiB, control bytes become \xNN. */
void log_msg(enum ar_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(AR_LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(AR_LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(AR_LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(AR_LOG_DEBUG, __VA_ARGS__)

/* 1 if a message at level would be written (skip building costly ones). */
int log_enabled(enum ar_log_level level);

#define LOG_TOKEN_SHOWN 8
/* The first 8 characters of token (of a key shorter than 16, the first
 * half) followed by "...", in buf; returns buf. A NULL or empty token
 * gives "-". */
const char *log_token(const char *token, char buf[LOG_TOKEN_SHOWN + 4]);

/* Parses "error", "warn", "info", "debug". Returns 0 or -1. */
int log_level_parse(const char *name, enum ar_log_level *out);

#endif
