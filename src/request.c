/* request: lookups over the FastCGI params of a plain request. */
#include "request.h"

#include <string.h>

/* The value of env entry e if it is called name, else NULL. Most entries
 * differ in their first byte: test it before calling strncmp (every
 * request looks up about six names among some thirty params). */
static const char *param_value(const char *e, const char *name, size_t namelen)
{
	if (e[0] == name[0] && strncmp(e, name, namelen) == 0 && e[namelen] == '=')
		return e + namelen + 1;
	return NULL;
}

const char *request_param(const struct ar_request *req, const char *name)
{
	size_t namelen = strlen(name);
	if (!req->env)
		return NULL;
	for (char *const *e = req->env; *e; e++) {
		const char *v = param_value(*e, name, namelen);
		if (v)
			return v;
	}
	return NULL;
}

size_t request_param_count(const struct ar_request *req, const char *name)
{
	size_t namelen = strlen(name), n = 0;
	if (!req->env)
		return 0;
	for (char *const *e = req->env; *e; e++)
		if (param_value(*e, name, namelen))
			n++;
	return n;
}

int request_is_gate(const struct ar_request *req)
{
	const char *mark;

	if (req->role == ROLE_AUTHORIZER)
		return 1;
	mark = request_param(req, "ANTIREPLAY_GATE");
	return mark && strcmp(mark, "1") == 0;
}
