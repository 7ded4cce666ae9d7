/* router: route path computation and the route table. */
#include "router.h"

#include <stdio.h>
#include <string.h>

#include "order.h"
#include "token.h"

enum {
	ALLOW_GET = 1 << METHOD_GET,
	ALLOW_HEAD = 1 << METHOD_HEAD,
	ALLOW_POST = 1 << METHOD_POST,
	ALLOW_PUT = 1 << METHOD_PUT,
};

/* The argument check of a route with a "/{arg}" suffix. */
typedef int (*arg_check_fn)(const char *s, size_t len);

struct route_entry {
	const char *prefix;  /* exact path, or the part before "/{arg}" */
	arg_check_fn arg_ok; /* NULL: exact match */
	enum ar_route route;
	unsigned allowed;
	const char *allow;
};

static int order_id_ok(const char *s, size_t len)
{
	return token_is_valid(s, len);
}

static const struct route_entry routes[] = {
    {"/tokens", NULL, ROUTE_TOKENS, ALLOW_POST, "POST"},
    {"/orders", NULL, ROUTE_ORDERS, ALLOW_POST, "POST"},
    {"/orders", order_id_ok, ROUTE_ORDER, ALLOW_GET | ALLOW_HEAD, "GET, HEAD"},
    {"/stock", order_sku_is_valid, ROUTE_STOCK, ALLOW_GET | ALLOW_HEAD | ALLOW_PUT,
     "GET, HEAD, PUT"},
    {"/healthz", NULL, ROUTE_HEALTH, ALLOW_GET | ALLOW_HEAD, "GET, HEAD"},
    {"/metrics", NULL, ROUTE_METRICS, ALLOW_GET | ALLOW_HEAD, "GET, HEAD"},
    {"/order-form", NULL, ROUTE_ORDER_FORM, ALLOW_GET | ALLOW_HEAD, "GET, HEAD"},
};

enum ar_method router_method(const char *name)
{
	if (!name)
		return METHOD_OTHER;
	if (strcmp(name, "GET") == 0)
		return METHOD_GET;
	if (strcmp(name, "HEAD") == 0)
		return METHOD_HEAD;
	if (strcmp(name, "POST") == 0)
		return METHOD_POST;
	if (strcmp(name, "PUT") == 0)
		return METHOD_PUT;
	return METHOD_OTHER;
}

/* 1 if path[0..len) is one we refuse to interpret: not absolute, escaped,
 * or holding empty, "." or ".." segments. */
static int path_is_suspect(const char *path, size_t len)
{
	if (len == 0 || path[0] != '/')
		return 1;
	for (size_t i = 0; i < len; i++) {
		if (path[i] == '%' || path[i] == '\\' || (unsigned char)path[i] < 0x21)
			return 1;
		if (path[i] != '/')
			continue;
		/* A segment after this slash: empty, "." or "..". */
		size_t seg = i + 1, j = seg;
		while (j < len && path[j] != '/')
			j++;
		size_t seglen = j - seg;
		if (j < len && seglen == 0)
			return 1; /* "//" */
		if ((seglen == 1 && path[seg] == '.') ||
		    (seglen == 2 && path[seg] == '.' && path[seg + 1] == '.'))
			return 1;
	}
	return 0;
}

int router_route_path(const char *base_path, const char *request_uri, const char *script_name,
                      const char *path_info, char *out, size_t outlen)
{
	char joined[2048];
	const char *path;
	size_t len;

	if (request_uri) {
		path = request_uri;
		const char *q = strchr(request_uri, '?');
		len = q ? (size_t)(q - request_uri) : strlen(request_uri);
	} else {
		int n = snprintf(joined, sizeof joined, "%s%s", script_name ? script_name : "",
		                 path_info ? path_info : "");
		if (n < 0 || (size_t)n >= sizeof joined)
			return -1;
		path = joined;
		len = (size_t)n;
	}
	if (path_is_suspect(path, len))
		return -1;

	size_t base_len = base_path ? strlen(base_path) : 0;
	if (base_len > 0) {
		if (len <= base_len || memcmp(path, base_path, base_len) != 0 ||
		    path[base_len] != '/')
			return -1;
		path += base_len;
		len -= base_len;
	}
	if (len + 1 > outlen)
		return -1;
	memcpy(out, path, len);
	out[len] = '\0';
	return 0;
}

enum router_status router_match(const char *method, const char *path, struct ar_route_match *m)
{
	size_t len = strlen(path);

	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		const struct route_entry *r = &routes[i];
		size_t plen = strlen(r->prefix);
		const char *arg = NULL;
		size_t arglen = 0;

		if (len < plen || memcmp(path, r->prefix, plen) != 0)
			continue;
		if (r->arg_ok) {
			if (path[plen] != '/')
				continue;
			arg = path + plen + 1;
			arglen = len - plen - 1;
			if (arglen > ROUTER_ARG_MAX || !r->arg_ok(arg, arglen))
				continue;
		} else if (len != plen) {
			continue;
		}

		enum ar_method meth = router_method(method);
		m->allow = r->allow;
		if (meth == METHOD_OTHER || !(r->allowed & (1u << meth)))
			return ROUTER_METHOD_NOT_ALLOWED;
		m->route = r->route;
		m->method = meth;
		for (size_t k = 0; k < arglen; k++) {
			char c = arg[k];
			/* Order ids are kept lowercase; SKUs are case-sensitive. */
			m->arg[k] = (r->route == ROUTE_ORDER && c >= 'A' && c <= 'F')
			                ? (char)(c - 'A' + 'a')
			                : c;
		}
		m->arg[arglen] = '\0';
		return ROUTER_OK;
	}
	return ROUTER_NOT_FOUND;
}
