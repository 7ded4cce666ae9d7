/* form: application/x-www-form-urlencoded decoding. */
#include "form.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes s[0..len) into a new string; -1 on a bad %-escape. */
static int decode_piece(const char *s, size_t len, char **out, size_t *outlen)
{
	char *d = xmalloc(len + 1);
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '+') {
			d[o++] = ' ';
		} else if (s[i] == '%') {
			int hi = i + 2 < len ? hex_value(s[i + 1]) : -1;
			int lo = i + 2 < len ? hex_value(s[i + 2]) : -1;
			if (hi < 0 || lo < 0) {
				free(d);
				return -1;
			}
			d[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else {
			d[o++] = s[i];
		}
	}
	d[o] = '\0';
	*out = d;
	*outlen = o;
	return 0;
}

int form_parse(const char *body, size_t len, size_t max_fields, struct form *out, char *err,
               size_t errlen)
{
	size_t cap = 0;
	const char *p = body, *end = body + len;

	out->fields = NULL;
	out->n_fields = 0;
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *piece_end = amp ? amp : end;
		if (piece_end > p) {
			const char *eq = memchr(p, '=', (size_t)(piece_end - p));
			const char *name_end = eq ? eq : piece_end;
			const char *val = eq ? eq + 1 : piece_end;
			struct form_field f;
			size_t name_len;

			if (out->n_fields == max_fields) {
				snprintf(err, errlen, "more than %lu form fields",
				         (unsigned long)max_fields);
				goto fail;
			}
			if (decode_piece(p, (size_t)(name_end - p), &f.name, &name_len) < 0) {
				snprintf(err, errlen, "bad %%-escape in a form field name");
				goto fail;
			}
			if (memchr(f.name, '\0', name_len)) {
				free(f.name);
				snprintf(err, errlen, "NUL byte in a form field name");
				goto fail;
			}
			if (decode_piece(val, (size_t)(piece_end - val), &f.value, &f.value_len) <
			    0) {
				snprintf(err, errlen,
				         "bad %%-escape in the value of form field %lu",
				         (unsigned long)out->n_fields + 1);
				free(f.name);
				goto fail;
			}
			if (out->n_fields == cap) {
				cap = cap ? cap * 2 : 8;
				out->fields = xrealloc(out->fields, cap * sizeof *out->fields);
			}
			out->fields[out->n_fields++] = f;
		}
		p = amp ? amp + 1 : end;
	}
	return 0;
fail:
	form_free(out);
	return -1;
}

size_t form_count(const struct form *f, const char *name)
{
	size_t n = 0;
	for (size_t i = 0; i < f->n_fields; i++)
		if (strcmp(f->fields[i].name, name) == 0)
			n++;
	return n;
}

const struct form_field *form_get(const struct form *f, const char *name)
{
	for (size_t i = 0; i < f->n_fields; i++)
		if (strcmp(f->fields[i].name, name) == 0)
			return &f->fields[i];
	return NULL;
}

void form_free(struct form *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n_fields; i++) {
		free(f->fields[i].name);
		free(f->fields[i].value);
	}
	free(f->fields);
	f->fields = NULL;
	f->n_fields = 0;
}
