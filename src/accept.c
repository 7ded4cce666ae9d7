/* accept: the Accept header's media ranges and their q values. */
#include "accept.h"

#include <string.h>
#include <strings.h>

/* One member of the list: "type/subtype" and its q, in thousandths. */
struct media_range {
	const char *type;
	size_t type_len;
	const char *subtype;
	size_t subtype_len;
	int q;
};

static int is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* [*p, *end) without the blanks around it. */
static void trim(const char **p, const char **end)
{
	while (*p < *end && is_ows(**p))
		(*p)++;
	while (*end > *p && is_ows((*end)[-1]))
		(*end)--;
}

/* A qvalue: "0", "0.5", "1", "1.000" (at most three decimals, not above
 * 1). Returns 0 with *q in thousandths, or -1. */
static int parse_q(const char *p, const char *end, int *q)
{
	size_t n = (size_t)(end - p);
	int v, scale = 100;

	if (n == 0 || n > 5 || (p[0] != '0' && p[0] != '1') || (n > 1 && p[1] != '.'))
		return -1;
	v = (p[0] - '0') * 1000;
	for (size_t i = 2; i < n; i++, scale /= 10) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v += (p[i] - '0') * scale;
	}
	if (v > 1000)
		return -1;
	*q = v;
	return 0;
}

/* Parses the member [p, end). Returns 0, or -1 when it is malformed. */
static int parse_range(const char *p, const char *end, struct media_range *r)
{
	const char *semi = memchr(p, ';', (size_t)(end - p));
	const char *range_end = semi ? semi : end;

	trim(&p, &range_end);
	const char *slash = memchr(p, '/', (size_t)(range_end - p));
	if (!slash || slash == p || slash + 1 == range_end)
		return -1;
	r->type = p;
	r->type_len = (size_t)(slash - p);
	r->subtype = slash + 1;
	r->subtype_len = (size_t)(range_end - slash - 1);
	r->q = 1000;
	while (semi) {
		const char *param = semi + 1;
		semi = memchr(param, ';', (size_t)(end - param));
		const char *param_end = semi ? semi : end;
		trim(&param, &param_end);
		if (param_end - param >= 2 && (param[0] == 'q' || param[0] == 'Q') &&
		    param[1] == '=' && parse_q(param + 2, param_end, &r->q) < 0)
			return -1;
	}
	return 0;
}

static int name_is(const char *s, size_t len, const char *name)
{
	return len == strlen(name) && strncasecmp(s, name, len) == 0;
}

/* How specifically r names type/subtype: 3 exactly, 2 as "type/any", 1 as
 * any/any, 0 not at all. */
static int specificity(const struct media_range *r, const char *type, const char *subtype)
{
	int any_subtype = name_is(r->subtype, r->subtype_len, "*");

	if (name_is(r->type, r->type_len, "*"))
		return any_subtype ? 1 : 0;
	if (!name_is(r->type, r->type_len, type))
		return 0;
	if (any_subtype)
		return 2;
	return name_is(r->subtype, r->subtype_len, subtype) ? 3 : 0;
}

int accept_quality(const char *accept, const char *type, const char *subtype)
{
	int best = 0, q = 0;

	if (!accept)
		return 0;
	for (const char *p = accept; *p;) {
		const char *comma = strchr(p, ',');
		const char *end = comma ? comma : p + strlen(p);
		struct media_range r;

		if (parse_range(p, end, &r) == 0) {
			int s = specificity(&r, type, subtype);
			if (s > best) {
				best = s;
				q = r.q;
			}
		}
		p = comma ? comma + 1 : end;
	}
	return q;
}

int accept_prefers_html(const char *accept)
{
	int html = accept_quality(accept, "text", "html");

	return html > 0 && html > accept_quality(accept, "application", "json");
}
