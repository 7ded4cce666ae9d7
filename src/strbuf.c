/* strbuf: growable text buffer with the few formatters the hot paths need. */
#include "strbuf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Room for len more bytes and the NUL after them. Sizes are bounded by
 * max_body long before; a size_t overflow would be a bug: abort. */
static void reserve(struct strbuf *sb, size_t len)
{
	size_t need, cap;

	if (len > SIZE_MAX - 1 - sb->len)
		abort();
	need = sb->len + len + 1;
	if (need <= sb->cap)
		return;
	cap = sb->cap ? sb->cap : 256;
	while (cap < need)
		cap = cap <= SIZE_MAX / 2 ? cap * 2 : need;
	sb->data = xrealloc(sb->data, cap);
	sb->cap = cap;
}

char *strbuf_reserve(struct strbuf *sb, size_t len)
{
	reserve(sb, len);
	return sb->data + sb->len;
}

void strbuf_commit(struct strbuf *sb, size_t written)
{
	if (!sb->data || written > sb->cap - 1 - sb->len)
		abort(); /* more than was reserved: a bug */
	sb->len += written;
	sb->data[sb->len] = '\0';
}

void strbuf_reset(struct strbuf *sb)
{
	sb->len = 0;
	if (sb->data)
		sb->data[0] = '\0';
}

void strbuf_free(struct strbuf *sb)
{
	free(sb->data);
	sb->data = NULL;
	sb->len = sb->cap = 0;
}

char *strbuf_detach(struct strbuf *sb, size_t *len)
{
	char *s;

	reserve(sb, 0);
	sb->data[sb->len] = '\0';
	s = sb->data;
	if (len)
		*len = sb->len;
	sb->data = NULL;
	sb->len = sb->cap = 0;
	return s;
}

void strbuf_put(struct strbuf *sb, const void *s, size_t len)
{
	reserve(sb, len);
	memcpy(sb->data + sb->len, s, len);
	sb->len += len;
	sb->data[sb->len] = '\0';
}

void strbuf_puts(struct strbuf *sb, const char *s)
{
	strbuf_put(sb, s, strlen(s));
}

void strbuf_putc(struct strbuf *sb, char c)
{
	reserve(sb, 1);
	sb->data[sb->len++] = c;
	sb->data[sb->len] = '\0';
}

size_t strbuf_format_int(char *out, long long v)
{
	char rev[20];
	/* Through unsigned: -LLONG_MIN does not fit a long long. */
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	size_t n = 0, len = 0;

	do {
		rev[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		out[len++] = '-';
	while (n)
		out[len++] = rev[--n];
	return len;
}

void strbuf_put_int(struct strbuf *sb, long long v)
{
	char digits[21];
	strbuf_put(sb, digits, strbuf_format_int(digits, v));
}

void strbuf_put_json_string(struct strbuf *sb, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF"; /* jansson writes \u001F */
	size_t start = 0;

	strbuf_putc(sb, '"');
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[6] = {'\\', 0, 0, 0, 0, 0};
		size_t esc_len = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		strbuf_put(sb, s + start, i - start); /* the plain run before c */
		start = i + 1;
		switch (c) {
		case '"':
			esc[1] = '"';
			break;
		case '\\':
			esc[1] = '\\';
			break;
		case '\b':
			esc[1] = 'b';
			break;
		case '\f':
			esc[1] = 'f';
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		case '\t':
			esc[1] = 't';
			break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			esc_len = 6;
		}
		strbuf_put(sb, esc, esc_len);
	}
	strbuf_put(sb, s + start, len - start);
	strbuf_putc(sb, '"');
}

const struct strbuf_var *strbuf_template_var(const char *p, const char *end,
                                             const struct strbuf_var *vars, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t name_len = strlen(vars[i].name);
		if ((size_t)(end - p) >= name_len + 2 && p[0] == '{' &&
		    memcmp(p + 1, vars[i].name, name_len) == 0 && p[name_len + 1] == '}')
			return &vars[i];
	}
	return NULL;
}

void strbuf_put_template(struct strbuf *sb, const char *tmpl, size_t len,
                         const struct strbuf_var *vars, size_t n)
{
	const char *p = tmpl, *end = tmpl + len;

	while (p < end) {
		const char *brace = memchr(p, '{', (size_t)(end - p));
		if (!brace) {
			strbuf_put(sb, p, (size_t)(end - p));
			return;
		}
		strbuf_put(sb, p, (size_t)(brace - p));
		const struct strbuf_var *var = strbuf_template_var(brace, end, vars, n);
		if (var) {
			strbuf_puts(sb, var->value);
			p = brace + strlen(var->name) + 2;
		} else {
			strbuf_putc(sb, '{');
			p = brace + 1;
		}
	}
}
