/* form: application/x-www-form-urlencoded decoding (+ is a space, %XX a
 * byte). Pure; the field list keeps the order of the body. */
#ifndef AR_FORM_H
#define AR_FORM_H

#include <stddef.h>

struct form_field {
	char *name;  /* decoded, NUL-terminated */
	char *value; /* decoded, NUL-terminated; may hold NUL bytes */
	size_t value_len;
};

struct form {
	struct form_field *fields; /* owned */
	size_t n_fields;
};

/* Decodes body[0..len). Empty pieces ("a=1&&b=2") are skipped; a piece
 * without '=' is a name with an empty value. Returns 0, or -1 with a reason
 * in err for a bad %-escape, a NUL byte in a name, or more than max_fields
 * fields; out is empty on failure. */
int form_parse(const char *body, size_t len, size_t max_fields, struct form *out, char *err,
               size_t errlen);

/* The number of fields called name. */
size_t form_count(const struct form *f, const char *name);

/* The first field called name, or NULL. */
const struct form_field *form_get(const struct form *f, const char *name);

/* Frees the fields; f is empty again. NULL-safe. */
void form_free(struct form *f);

#endif
