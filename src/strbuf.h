/* strbuf: a growable byte buffer for building text (JSON bodies, the
 * canonical order, Redis commands) without printf or a JSON tree. A buffer
 * kept across requests keeps its capacity, so the hot paths allocate only
 * when a request is larger than any before it. Always NUL-terminated after
 * the first append; out of memory aborts (xrealloc). */
#ifndef AR_STRBUF_H
#define AR_STRBUF_H

#include <stddef.h>

struct strbuf {
	char *data; /* owned; NULL until the first append */
	size_t len;
	size_t cap;
};

#define STRBUF_INIT        \
	{                  \
		NULL, 0, 0 \
	}

/* Empties sb and keeps its memory for the next use. */
void strbuf_reset(struct strbuf *sb);

/* Frees the memory; sb is empty (STRBUF_INIT) again. */
void strbuf_free(struct strbuf *sb);

/* Hands the text over (malloc'd, NUL-terminated; caller frees) with its
 * length in *len; sb is empty again. Never returns NULL. */
char *strbuf_detach(struct strbuf *sb, size_t *len);

/* For writers that know an upper bound: room for len more bytes; returns
 * where they go. Write at most len bytes there, then strbuf_commit the
 * number written. */
char *strbuf_reserve(struct strbuf *sb, size_t len);
void strbuf_commit(struct strbuf *sb, size_t written);

void strbuf_put(struct strbuf *sb, const void *s, size_t len);
void strbuf_puts(struct strbuf *sb, const char *s);
void strbuf_putc(struct strbuf *sb, char c);

/* v in decimal. */
void strbuf_put_int(struct strbuf *sb, long long v);

/* s[0..len) as a JSON string, quotes included, escaped exactly as jansson's
 * json_dumps does without flags: '"', '\\' and bytes below 0x20 (\b \f \n
 * \r \t by name, the rest as \u00XX); everything else, UTF-8 included, as
 * is; \u00XX in upper case, as jansson writes it. The caller has checked
 * that s is valid UTF-8. */
void strbuf_put_json_string(struct strbuf *sb, const char *s, size_t len);

/* A placeholder of strbuf_put_template: "{name}" stands for value. */
struct strbuf_var {
	const char *name;
	const char *value;
};

/* Appends tmpl[0..len) with every "{name}" of vars[0..n) replaced by its
 * value, as is (the caller picks values that need no escaping where they
 * go); any other text, braces included, is copied unchanged. */
void strbuf_put_template(struct strbuf *sb, const char *tmpl, size_t len,
                         const struct strbuf_var *vars, size_t n);

/* The var of vars[0..n) whose "{name}" starts at p (within [p, end)), or
 * NULL. What strbuf_put_template replaces, for checking a template. */
const struct strbuf_var *strbuf_template_var(const char *p, const char *end,
                                             const struct strbuf_var *vars, size_t n);

/* Writes v in decimal into out (at least 21 bytes); returns the length.
 * No NUL is written. */
size_t strbuf_format_int(char *out, long long v);

#endif
