/* router: REQUEST_URI (or SCRIPT_NAME + PATH_INFO) -> route path -> route.
 * Pure. Exact matches only; anything odd in the path (%, //, /./, /../)
 * fails closed as "not found". */
#ifndef AR_ROUTER_H
#define AR_ROUTER_H

#include <stddef.h>

enum ar_route {
	ROUTE_TOKENS,     /* POST /tokens */
	ROUTE_ORDERS,     /* POST /orders */
	ROUTE_ORDER,      /* GET|HEAD /orders/{order_id} */
	ROUTE_STOCK,      /* GET|HEAD|PUT /stock/{sku} */
	ROUTE_HEALTH,     /* GET|HEAD /healthz */
	ROUTE_METRICS,    /* GET|HEAD /metrics */
	ROUTE_ORDER_FORM, /* GET|HEAD /order-form */
};

enum ar_method { METHOD_GET, METHOD_HEAD, METHOD_POST, METHOD_PUT, METHOD_OTHER };

enum router_status { ROUTER_OK, ROUTER_NOT_FOUND, ROUTER_METHOD_NOT_ALLOWED };

#define ROUTER_ARG_MAX 64

struct ar_route_match {
	enum ar_route route;
	enum ar_method method;
	char arg[ROUTER_ARG_MAX + 1]; /* order id (lowercased) or sku; else "" */
	const char *allow;            /* the Allow header for 405, static */
};

/* The method named by REQUEST_METHOD (case-sensitive, as HTTP is). */
enum ar_method router_method(const char *name);

/* Computes the route path: the path of request_uri (before '?'), or
 * script_name + path_info when request_uri is NULL, with base_path cut
 * from its front. Returns 0 and writes out, or -1 when the path is not
 * under base_path, does not fit, or is malformed. */
int router_route_path(const char *base_path, const char *request_uri, const char *script_name,
                      const char *path_info, char *out, size_t outlen);

/* Matches method + route path. ROUTER_OK fills m; ROUTER_METHOD_NOT_ALLOWED
 * fills m->allow; ROUTER_NOT_FOUND leaves m untouched. */
enum router_status router_match(const char *method, const char *path, struct ar_route_match *m);

#endif
