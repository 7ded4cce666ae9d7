/* Unit tests for router: the route path (REQUEST_URI or SCRIPT_NAME +
 * PATH_INFO, base_path cut, query ignored, odd paths refused), and method +
 * path -> route, 405 Allow values, path arguments. Expected values come
 * from router.h and the contract. */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "router.h"

#define ID_LOWER "0f8fad5b-d9cb-469f-a165-70867728950e"
#define ID_UPPER "0F8FAD5B-D9CB-469F-A165-70867728950E"

#define SKU64 "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-"
#define SKU65 SKU64 "_"

static void expect_path(const char *base, const char *uri, const char *sn, const char *pi,
                        const char *want)
{
	char out[256];

	memset(out, 'x', sizeof out);
	if (router_route_path(base, uri, sn, pi, out, sizeof out) != 0)
		fail_msg("router_route_path(\"%s\", \"%s\", \"%s\", \"%s\") failed, want \"%s\"",
		         base, uri ? uri : "(null)", sn ? sn : "(null)", pi ? pi : "(null)", want);
	assert_string_equal(out, want);
}

static void expect_no_path(const char *base, const char *uri, const char *sn, const char *pi)
{
	char out[256];

	if (router_route_path(base, uri, sn, pi, out, sizeof out) != -1)
		fail_msg("router_route_path(\"%s\", \"%s\", \"%s\", \"%s\") gave \"%s\", want -1",
		         base, uri ? uri : "(null)", sn ? sn : "(null)", pi ? pi : "(null)", out);
}

/* The whole routing decision as the app makes it: a failed route path is
 * not found too. */
static enum router_status route(const char *base, const char *uri, const char *method,
                                struct ar_route_match *m)
{
	char out[256];

	if (router_route_path(base, uri, NULL, NULL, out, sizeof out) != 0)
		return ROUTER_NOT_FOUND;
	return router_match(method, out, m);
}

static void test_path_from_request_uri(void **state)
{
	struct ar_route_match m;

	(void)state;
	expect_path("", "/orders", NULL, NULL, "/orders");
	expect_path("", "/tokens", "/ignored", "/ignored", "/tokens");
	expect_path("", "/stock/SKU-1", NULL, NULL, "/stock/SKU-1");
	expect_path("", "/", NULL, NULL, "/");
	assert_int_equal(route("", "", "GET", &m), ROUTER_NOT_FOUND);
	assert_int_equal(route("", "?/healthz", "GET", &m), ROUTER_NOT_FOUND);
}

static void test_path_query_ignored(void **state)
{
	(void)state;
	expect_path("", "/orders?x=1", NULL, NULL, "/orders");
	expect_path("", "/tokens?", NULL, NULL, "/tokens");
	expect_path("", "/healthz?a=%41&b=//c&d=/../e&f=/./g", NULL, NULL, "/healthz");
	expect_path("", "/metrics?x=1?y=2", NULL, NULL, "/metrics");
	expect_path("/shop/api", "/shop/api/orders?next=/shop/api/x", NULL, NULL, "/orders");
}

static void test_path_base_path(void **state)
{
	(void)state;
	expect_path("/shop/api", "/shop/api/orders", NULL, NULL, "/orders");
	expect_path("/shop", "/shop/stock/A", NULL, NULL, "/stock/A");
	expect_path("/api", "/api/healthz?x", NULL, NULL, "/healthz");
	expect_no_path("/shop/api", "/orders", NULL, NULL);
	expect_no_path("/shop/api", "/shop/orders", NULL, NULL);
	expect_no_path("/shop", "/SHOP/orders", NULL, NULL);
	expect_no_path("/shop", "?/shop/orders", NULL, NULL);
}

static void test_path_base_path_is_a_whole_segment(void **state)
{
	struct ar_route_match m;

	(void)state;
	/* "/shopping/tokens" is not under "/shop". */
	assert_int_equal(route("/shop", "/shopping/tokens", "POST", &m), ROUTER_NOT_FOUND);
	assert_int_equal(route("/shop", "/shoptokens", "POST", &m), ROUTER_NOT_FOUND);
	assert_int_equal(route("/shop", "/shop", "POST", &m), ROUTER_NOT_FOUND);
	assert_int_equal(route("/shop", "/shop/", "POST", &m), ROUTER_NOT_FOUND);
	assert_int_equal(route("/shop", "/shop/tokens", "POST", &m), ROUTER_OK);
	assert_int_equal(m.route, ROUTE_TOKENS);
}

static void test_path_script_name_fallback(void **state)
{
	(void)state;
	expect_path("", NULL, "/orders", NULL, "/orders");
	expect_path("", NULL, "/orders", "", "/orders");
	expect_path("", NULL, "/stock", "/SKU-1", "/stock/SKU-1");
	expect_path("/api", NULL, "/api", "/orders", "/orders");
	expect_path("/shop/api", NULL, "/shop/api/tokens", NULL, "/tokens");
	expect_path("", NULL, "", "/healthz", "/healthz");
	expect_path("", NULL, NULL, "/healthz", "/healthz");
	expect_no_path("/api", NULL, "/other", "/orders");
}

static void test_path_malformed(void **state)
{
	static const char *const bad[] = {
	    "/orders%2Fx",   "/stock/SKU%41", "/%6Frders",      "//orders",     "/stock//A",
	    "/orders//",     "/./orders",     "/stock/./A",     "/a/../orders", "/stock/../tokens",
	    "/../orders",    "/orders/%",     "/x/.././tokens", "//",           "/stock/A%00",
	    "/tokens%3Fx=1",
	};
	struct ar_route_match m;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		expect_no_path("", bad[i], NULL, NULL);
		if (route("", bad[i], "GET", &m) != ROUTER_NOT_FOUND)
			fail_msg("\"%s\" was routed", bad[i]);
	}
	/* The same under a base path. */
	expect_no_path("/shop", "/shop//orders", NULL, NULL);
	expect_no_path("/shop", "/shop/./orders", NULL, NULL);
	expect_no_path("/shop", "/shop/x/../orders", NULL, NULL);
	expect_no_path("/shop", "/shop/%6Frders", NULL, NULL);
	expect_no_path("/shop", "/x/../shop/orders", NULL, NULL);
	/* And from SCRIPT_NAME + PATH_INFO. */
	expect_no_path("", NULL, "/stock", "/%41");
	expect_no_path("", NULL, "/a", "/../orders");
	expect_no_path("", NULL, "/orders/", "/x");
}

static void test_path_too_long(void **state)
{
	char out[8];

	(void)state;
	assert_int_equal(router_route_path("", "/orders", NULL, NULL, out, sizeof out), 0);
	assert_string_equal(out, "/orders");
	assert_int_equal(router_route_path("", "/tokens/", NULL, NULL, out, sizeof out), -1);
	assert_int_equal(router_route_path("", "/healthz", NULL, NULL, out, sizeof out), -1);
}

static void test_method_names(void **state)
{
	(void)state;
	assert_int_equal(router_method("GET"), METHOD_GET);
	assert_int_equal(router_method("HEAD"), METHOD_HEAD);
	assert_int_equal(router_method("POST"), METHOD_POST);
	assert_int_equal(router_method("PUT"), METHOD_PUT);
	assert_int_equal(router_method("get"), METHOD_OTHER);
	assert_int_equal(router_method("Post"), METHOD_OTHER);
	assert_int_equal(router_method("DELETE"), METHOD_OTHER);
	assert_int_equal(router_method("OPTIONS"), METHOD_OTHER);
	assert_int_equal(router_method("GETX"), METHOD_OTHER);
	assert_int_equal(router_method("GE"), METHOD_OTHER);
	assert_int_equal(router_method(""), METHOD_OTHER);
}

static void expect_ok(const char *method, const char *path, enum ar_route route_want,
                      enum ar_method method_want, const char *arg)
{
	struct ar_route_match m;
	enum router_status st;

	memset(&m, 0x5a, sizeof m);
	st = router_match(method, path, &m);
	if (st != ROUTER_OK)
		fail_msg("%s %s: status %d, want ROUTER_OK", method, path, (int)st);
	assert_int_equal(m.route, route_want);
	assert_int_equal(m.method, method_want);
	assert_string_equal(m.arg, arg);
}

static void expect_405(const char *method, const char *path, const char *allow)
{
	struct ar_route_match m;
	enum router_status st;

	memset(&m, 0, sizeof m);
	st = router_match(method, path, &m);
	if (st != ROUTER_METHOD_NOT_ALLOWED)
		fail_msg("%s %s: status %d, want ROUTER_METHOD_NOT_ALLOWED", method, path, (int)st);
	assert_non_null(m.allow);
	assert_string_equal(m.allow, allow);
}

static void expect_404(const char *method, const char *path)
{
	struct ar_route_match m, before;
	enum router_status st;

	memset(&m, 0x5a, sizeof m);
	memcpy(&before, &m, sizeof m);
	st = router_match(method, path, &m);
	if (st != ROUTER_NOT_FOUND)
		fail_msg("%s %s: status %d, want ROUTER_NOT_FOUND", method, path, (int)st);
	/* ROUTER_NOT_FOUND leaves m untouched. */
	assert_memory_equal(&m, &before, sizeof m);
}

static void test_tokens_route(void **state)
{
	(void)state;
	expect_ok("POST", "/tokens", ROUTE_TOKENS, METHOD_POST, "");
	expect_405("GET", "/tokens", "POST");
	expect_405("HEAD", "/tokens", "POST");
	expect_405("PUT", "/tokens", "POST");
	expect_405("DELETE", "/tokens", "POST");
	expect_405("post", "/tokens", "POST");
}

static void test_orders_route(void **state)
{
	(void)state;
	expect_ok("POST", "/orders", ROUTE_ORDERS, METHOD_POST, "");
	expect_405("GET", "/orders", "POST");
	expect_405("HEAD", "/orders", "POST");
	expect_405("PUT", "/orders", "POST");
	expect_405("PATCH", "/orders", "POST");
}

static void test_order_route(void **state)
{
	(void)state;
	expect_ok("GET", "/orders/" ID_LOWER, ROUTE_ORDER, METHOD_GET, ID_LOWER);
	expect_ok("HEAD", "/orders/" ID_LOWER, ROUTE_ORDER, METHOD_HEAD, ID_LOWER);
	expect_405("POST", "/orders/" ID_LOWER, "GET, HEAD");
	expect_405("PUT", "/orders/" ID_LOWER, "GET, HEAD");
	expect_405("DELETE", "/orders/" ID_LOWER, "GET, HEAD");
}

static void test_order_id_lowercased(void **state)
{
	(void)state;
	expect_ok("GET", "/orders/" ID_UPPER, ROUTE_ORDER, METHOD_GET, ID_LOWER);
	expect_ok("HEAD", "/orders/0F8fad5b-D9cb-469F-a165-70867728950E", ROUTE_ORDER, METHOD_HEAD,
	          ID_LOWER);
}

static void test_order_id_malformed(void **state)
{
	static const char *const bad[] = {
	    "/orders/",
	    "/orders/x",
	    "/orders/0f8fad5b-d9cb-469f-a165-70867728950",   /* 35 */
	    "/orders/0f8fad5b-d9cb-469f-a165-70867728950e0", /* 37 */
	    "/orders/0f8fad5bd9cb469fa16570867728950e",      /* no hyphens */
	    "/orders/0f8fad5b-d9cb-469f-a165-70867728950g",  /* not hex */
	    "/orders/" ID_LOWER "/",
	    "/orders/" ID_LOWER "/x",
	    "/orders/{" ID_LOWER "}",
	    "/orders/SKU-1",
	};

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		expect_404("GET", bad[i]);
		expect_404("POST", bad[i]); /* unknown path: 404, not 405 */
	}
}

static void test_stock_route(void **state)
{
	(void)state;
	expect_ok("GET", "/stock/SKU-1", ROUTE_STOCK, METHOD_GET, "SKU-1");
	expect_ok("HEAD", "/stock/SKU-1", ROUTE_STOCK, METHOD_HEAD, "SKU-1");
	expect_ok("PUT", "/stock/SKU-1", ROUTE_STOCK, METHOD_PUT, "SKU-1");
	expect_405("POST", "/stock/SKU-1", "GET, HEAD, PUT");
	expect_405("DELETE", "/stock/SKU-1", "GET, HEAD, PUT");
	expect_405("put", "/stock/SKU-1", "GET, HEAD, PUT");
}

static void test_stock_sku_kept_as_is(void **state)
{
	(void)state;
	/* SKUs are case-sensitive: not lowercased. */
	expect_ok("GET", "/stock/AbC.x_Y-9", ROUTE_STOCK, METHOD_GET, "AbC.x_Y-9");
	expect_ok("GET", "/stock/" SKU64, ROUTE_STOCK, METHOD_GET, SKU64);
	expect_ok("GET", "/stock/a", ROUTE_STOCK, METHOD_GET, "a");
}

static void test_stock_sku_malformed(void **state)
{
	static const char *const bad[] = {
	    "/stock",     "/stock/",   "/stock/" SKU65,   "/stock/a b", "/stock/a+b", "/stock/a:b",
	    "/stock/a/b", "/stock/A/", "/stock/\xc3\xa9", "/stock/a*",  "/stock/a~b", "/stock/a=b",
	};

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		expect_404("GET", bad[i]);
		expect_404("POST", bad[i]);
	}
}

static void test_health_and_metrics_routes(void **state)
{
	(void)state;
	expect_ok("GET", "/healthz", ROUTE_HEALTH, METHOD_GET, "");
	expect_ok("HEAD", "/healthz", ROUTE_HEALTH, METHOD_HEAD, "");
	expect_405("POST", "/healthz", "GET, HEAD");
	expect_405("PUT", "/healthz", "GET, HEAD");
	expect_405("get", "/healthz", "GET, HEAD");
	expect_ok("GET", "/metrics", ROUTE_METRICS, METHOD_GET, "");
	expect_ok("HEAD", "/metrics", ROUTE_METRICS, METHOD_HEAD, "");
	expect_405("POST", "/metrics", "GET, HEAD");
	expect_405("PUT", "/metrics", "GET, HEAD");
}

static void test_order_form_route(void **state)
{
	(void)state;
	expect_ok("GET", "/order-form", ROUTE_ORDER_FORM, METHOD_GET, "");
	expect_ok("HEAD", "/order-form", ROUTE_ORDER_FORM, METHOD_HEAD, "");
	expect_405("POST", "/order-form", "GET, HEAD");
	expect_405("PUT", "/order-form", "GET, HEAD");
	expect_404("GET", "/order-form/");
	expect_404("GET", "/order-forms");
}

static void test_unknown_paths(void **state)
{
	static const char *const bad[] = {
	    "",          "/",          "/token",      "/tokens/",  "/Tokens",
	    "/tokensx",  "tokens",     "/order",      "/orders/",  "/ORDERS",
	    "/healthz/", "/healthz/x", "/health",     "/metrics/", "/metric",
	    "/stocks/A", "/Stock/A",   "/api/tokens", "/tokens/x",
	};

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		expect_404("GET", bad[i]);
		expect_404("POST", bad[i]);
		expect_404("PUT", bad[i]);
	}
}

static void test_full_routing_with_base_path(void **state)
{
	struct ar_route_match m;

	(void)state;
	assert_int_equal(route("/shop/api", "/shop/api/orders/" ID_UPPER "?x=1", "GET", &m),
	                 ROUTER_OK);
	assert_int_equal(m.route, ROUTE_ORDER);
	assert_string_equal(m.arg, ID_LOWER);
	assert_int_equal(route("/shop/api", "/shop/api/stock/A?x=1", "PUT", &m), ROUTER_OK);
	assert_int_equal(m.route, ROUTE_STOCK);
	assert_string_equal(m.arg, "A");
	assert_int_equal(route("/shop/api", "/shop/api/tokens", "GET", &m),
	                 ROUTER_METHOD_NOT_ALLOWED);
	assert_string_equal(m.allow, "POST");
	assert_int_equal(route("/shop/api", "/tokens", "POST", &m), ROUTER_NOT_FOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_path_from_request_uri),
	    cmocka_unit_test(test_path_query_ignored),
	    cmocka_unit_test(test_path_base_path),
	    cmocka_unit_test(test_path_base_path_is_a_whole_segment),
	    cmocka_unit_test(test_path_script_name_fallback),
	    cmocka_unit_test(test_path_malformed),
	    cmocka_unit_test(test_path_too_long),
	    cmocka_unit_test(test_method_names),
	    cmocka_unit_test(test_tokens_route),
	    cmocka_unit_test(test_orders_route),
	    cmocka_unit_test(test_order_route),
	    cmocka_unit_test(test_order_id_lowercased),
	    cmocka_unit_test(test_order_id_malformed),
	    cmocka_unit_test(test_stock_route),
	    cmocka_unit_test(test_stock_sku_kept_as_is),
	    cmocka_unit_test(test_stock_sku_malformed),
	    cmocka_unit_test(test_health_and_metrics_routes),
	    cmocka_unit_test(test_order_form_route),
	    cmocka_unit_test(test_unknown_paths),
	    cmocka_unit_test(test_full_routing_with_base_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
