/* Unit tests for response: the error table (status and code of each error),
 * error and JSON bodies byte for byte, headers, and the CGI head rendering
 * (Status line, Content-Type, Cache-Control: no-store, Content-Length, extra
 * headers; HEAD keeps Content-Length; too small a buffer gives 0). Expected
 * values come from response.h and the contract. */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "response.h"

struct error_row {
	enum ar_error err;
	int status;
	const char *code;
};

/* The contract's table. */
static const struct error_row error_table[] = {
    {ERR_NOT_FOUND, 404, "not_found"},
    {ERR_METHOD_NOT_ALLOWED, 405, "method_not_allowed"},
    {ERR_BODY_TOO_LARGE, 413, "body_too_large"},
    {ERR_INCOMPLETE_BODY, 400, "incomplete_body"},
    {ERR_UNSUPPORTED_MEDIA_TYPE, 415, "unsupported_media_type"},
    {ERR_INVALID_JSON, 400, "invalid_json"},
    {ERR_MISSING_TOKEN, 400, "missing_token"},
    {ERR_MALFORMED_TOKEN, 400, "malformed_token"},
    {ERR_INVALID_ORDER, 400, "invalid_order"},
    {ERR_INVALID_IDENTITY, 400, "invalid_identity"},
    {ERR_INVALID_TOKEN, 422, "invalid_token"},
    {ERR_UNKNOWN_SKU, 422, "unknown_sku"},
    {ERR_OUT_OF_STOCK, 409, "out_of_stock"},
    {ERR_TOKEN_REUSED, 422, "token_reused"},
    {ERR_DUPLICATE_REQUEST, 409, "duplicate_request"},
    {ERR_REQUEST_IN_PROGRESS, 409, "request_in_progress"},
    {ERR_RATE_LIMITED, 429, "rate_limited"},
    {ERR_INVALID_STOCK, 400, "invalid_stock"},
    {ERR_ADMIN_DISABLED, 403, "admin_disabled"},
    {ERR_UNAUTHORIZED, 401, "unauthorized"},
    {ERR_UNAVAILABLE, 503, "unavailable"},
};

#define N_ERRORS (sizeof error_table / sizeof error_table[0])

static char *dup_str(const char *s)
{
	char *p = strdup(s);

	assert_non_null(p);
	return p;
}

static void test_error_table(void **state)
{
	(void)state;
	assert_int_equal(N_ERRORS + 1, ERR_COUNT); /* every error but ERR_INTERNAL */
	for (size_t i = 0; i < N_ERRORS; i++) {
		const struct error_row *r = &error_table[i];

		if (response_error_status(r->err) != r->status)
			fail_msg("%s: status %d, want %d", r->code, response_error_status(r->err),
			         r->status);
		assert_non_null(response_error_code(r->err));
		assert_string_equal(response_error_code(r->err), r->code);
	}
	assert_int_equal(response_error_status(ERR_INTERNAL), 500);
	assert_non_null(response_error_code(ERR_INTERNAL));
}

/* Checks that body[0..len) is {"error":code,"message":<non-empty>} with
 * nothing else, compact, and returns nothing. */
static void expect_error_body(const struct ar_response *resp, const char *code)
{
	char prefix[64];
	json_t *obj;
	json_error_t jerr;

	snprintf(prefix, sizeof prefix, "{\"error\":\"%s\",\"message\":\"", code);
	assert_non_null(resp->body);
	assert_true(resp->body_len > strlen(prefix) + 2);
	assert_memory_equal(resp->body, prefix, strlen(prefix));
	assert_memory_equal(resp->body + resp->body_len - 2, "\"}", 2);
	obj = json_loadb(resp->body, resp->body_len, 0, &jerr);
	assert_non_null(obj);
	assert_int_equal(json_object_size(obj), 2);
	assert_string_equal(json_string_value(json_object_get(obj, "error")), code);
	assert_true(json_string_length(json_object_get(obj, "message")) > 0);
	json_decref(obj);
}

static void test_error_bodies(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_ERRORS; i++) {
		const struct error_row *r = &error_table[i];
		struct ar_response resp;

		response_init(&resp);
		response_error(&resp, r->err, NULL);
		assert_int_equal(resp.status, r->status);
		assert_non_null(resp.content_type);
		assert_string_equal(resp.content_type, "application/json");
		assert_non_null(resp.log_label);
		assert_string_equal(resp.log_label, r->code);
		expect_error_body(&resp, r->code);
		response_free(&resp);
	}
}

static void test_error_msg_exact_bytes(void **state)
{
	static const char want[] =
	    "{\"error\":\"invalid_order\",\"message\":\"qty must be 1..1000\"}";
	struct ar_response resp;

	(void)state;
	response_init(&resp);
	response_error_msg(&resp, ERR_INVALID_ORDER, "qty must be 1..1000", NULL);
	assert_int_equal(resp.status, 400);
	assert_int_equal(resp.body_len, strlen(want));
	assert_memory_equal(resp.body, want, strlen(want));
	assert_string_equal(resp.log_label, "invalid_order");
	response_free(&resp);
}

static void test_error_extras_exact_bytes(void **state)
{
	static const char want[] = "{\"error\":\"out_of_stock\",\"message\":\"not enough\","
	                           "\"sku\":\"SKU-1\",\"available\":3}";
	struct ar_response resp;

	(void)state;
	response_init(&resp);
	response_error_msg(&resp, ERR_OUT_OF_STOCK, "not enough",
	                   json_pack("{s:s, s:i}", "sku", "SKU-1", "available", 3));
	assert_int_equal(resp.status, 409);
	assert_int_equal(resp.body_len, strlen(want));
	assert_memory_equal(resp.body, want, strlen(want));
	response_free(&resp);
}

static void test_error_extras_after_code_and_message(void **state)
{
	static const char prefix[] = "{\"error\":\"duplicate_request\",\"message\":\"";
	static const char tail[] = ",\"order_id\":\"0f8fad5b-d9cb-469f-a165-70867728950e\"}";
	struct ar_response resp;
	size_t tl = strlen(tail);
	json_t *obj;

	(void)state;
	response_init(&resp);
	response_error(&resp, ERR_DUPLICATE_REQUEST,
	               json_pack("{s:s}", "order_id", "0f8fad5b-d9cb-469f-a165-70867728950e"));
	assert_int_equal(resp.status, 409);
	assert_memory_equal(resp.body, prefix, strlen(prefix));
	assert_true(resp.body_len > tl);
	assert_memory_equal(resp.body + resp.body_len - tl, tail, tl);
	obj = json_loadb(resp.body, resp.body_len, 0, NULL);
	assert_non_null(obj);
	assert_int_equal(json_object_size(obj), 3);
	json_decref(obj);
	response_free(&resp);

	response_init(&resp);
	response_error(&resp, ERR_UNKNOWN_SKU, json_pack("{s:s}", "sku", "NOPE"));
	assert_int_equal(resp.status, 422);
	assert_memory_equal(resp.body + resp.body_len - 14, ",\"sku\":\"NOPE\"}", 14);
	response_free(&resp);
}

static void test_message_is_escaped(void **state)
{
	static const char want[] =
	    "{\"error\":\"invalid_order\",\"message\":\"a \\\"b\\\" \\\\ c\"}";
	struct ar_response resp;

	(void)state;
	response_init(&resp);
	response_error_msg(&resp, ERR_INVALID_ORDER, "a \"b\" \\ c", NULL);
	assert_int_equal(resp.body_len, strlen(want));
	assert_memory_equal(resp.body, want, strlen(want));
	response_free(&resp);
}

static void test_unavailable(void **state)
{
	struct ar_response resp;

	(void)state;
	response_init(&resp);
	response_unavailable(&resp);
	assert_int_equal(resp.status, 503);
	assert_non_null(response_header(&resp, "Retry-After"));
	assert_string_equal(response_header(&resp, "Retry-After"), "1");
	expect_error_body(&resp, "unavailable");
	response_free(&resp);
}

static void test_set_json_compact(void **state)
{
	static const char want[] = "{\"sku\":\"SKU-1\",\"available\":12}";
	struct ar_response resp;

	(void)state;
	response_init(&resp);
	response_set_json(&resp, 200, json_pack("{s:s, s:i}", "sku", "SKU-1", "available", 12));
	assert_int_equal(resp.status, 200);
	assert_string_equal(resp.content_type, "application/json");
	assert_int_equal(resp.body_len, strlen(want));
	assert_memory_equal(resp.body, want, strlen(want));
	response_free(&resp);
}

static void test_init_and_free(void **state)
{
	struct ar_response resp;

	(void)state;
	memset(&resp, 0x5a, sizeof resp);
	response_init(&resp);
	assert_int_equal(resp.status, 0);
	assert_null(resp.body);
	assert_int_equal(resp.body_len, 0);
	assert_int_equal(resp.n_headers, 0);
	assert_int_equal(resp.omit_body, 0);
	response_set_body(&resp, 200, "application/json", dup_str("{}"), 2);
	response_add_header(&resp, "Allow", "GET");
	response_free(&resp);
	assert_null(resp.body);
	assert_int_equal(resp.body_len, 0);
	assert_null(response_header(&resp, "Allow"));
}

static void test_headers(void **state)
{
	struct ar_response resp;
	char longval[400];
	const char *v;

	(void)state;
	response_init(&resp);
	response_add_header(&resp, "Location", "/shop/orders/%s", "abc");
	response_add_header(&resp, "Retry-After", "%ld", 42L);
	assert_int_equal(resp.n_headers, 2);
	assert_string_equal(response_header(&resp, "Location"), "/shop/orders/abc");
	assert_string_equal(response_header(&resp, "location"), "/shop/orders/abc");
	assert_string_equal(response_header(&resp, "RETRY-AFTER"), "42");
	assert_null(response_header(&resp, "Allow"));

	/* Cut to fit. */
	memset(longval, 'v', sizeof longval - 1);
	longval[sizeof longval - 1] = '\0';
	response_add_header(&resp, "X-Long", "%s", longval);
	v = response_header(&resp, "X-Long");
	assert_non_null(v);
	assert_int_equal(strlen(v), RESPONSE_HEADER_VALUE_MAX - 1);
	assert_memory_equal(v, longval, RESPONSE_HEADER_VALUE_MAX - 1);
	response_free(&resp);
}

static void test_reason_phrases(void **state)
{
	(void)state;
	assert_string_equal(response_reason(200), "OK");
	assert_string_equal(response_reason(201), "Created");
	assert_string_equal(response_reason(400), "Bad Request");
	assert_string_equal(response_reason(401), "Unauthorized");
	assert_string_equal(response_reason(403), "Forbidden");
	assert_string_equal(response_reason(404), "Not Found");
	assert_string_equal(response_reason(405), "Method Not Allowed");
	assert_string_equal(response_reason(409), "Conflict");
	assert_string_equal(response_reason(415), "Unsupported Media Type");
	assert_string_equal(response_reason(429), "Too Many Requests");
	assert_string_equal(response_reason(500), "Internal Server Error");
	assert_string_equal(response_reason(503), "Service Unavailable");
	assert_non_null(response_reason(413));
	assert_non_null(response_reason(422));
	assert_string_not_equal(response_reason(413), "Unknown");
	assert_string_not_equal(response_reason(422), "Unknown");
	assert_string_equal(response_reason(299), "Unknown");
	assert_string_equal(response_reason(0), "Unknown");
}

/* Compares a rendered head with the expected status line and header lines.
 * The order of the header lines after Status is not part of the contract;
 * every byte of each line is. */
static void expect_head(const char *rendered, size_t n, const char *status_line,
                        const char *const *lines, size_t n_lines)
{
	char head[1024];
	const char *p = head, *end = head + n;
	size_t sl = strlen(status_line);
	int *seen = calloc(n_lines, sizeof *seen);

	assert_non_null(seen);
	assert_true(n < sizeof head);
	memcpy(head, rendered, n);
	head[n] = '\0';
	assert_int_equal(strlen(head), n); /* no NUL inside the head */
	assert_true(n >= sl + 4);
	assert_memory_equal(head, status_line, sl);
	assert_memory_equal(head + sl, "\r\n", 2);
	assert_memory_equal(end - 4, "\r\n\r\n", 4);
	p = head + sl + 2;
	while (p < end - 2) {
		const char *eol = strstr(p, "\r\n");
		size_t ll, k;

		assert_non_null(eol);
		ll = (size_t)(eol - p);
		for (k = 0; k < n_lines; k++) {
			if (!seen[k] && strlen(lines[k]) == ll && memcmp(lines[k], p, ll) == 0)
				break;
		}
		if (k == n_lines)
			fail_msg("unexpected head line \"%.*s\" in:\n%s", (int)ll, p, head);
		seen[k] = 1;
		p = eol + 2;
	}
	assert_true(p == end - 2);
	for (size_t k = 0; k < n_lines; k++) {
		if (!seen[k])
			fail_msg("head line \"%s\" missing in:\n%s", lines[k], head);
	}
	free(seen);
}

static void test_render_head_created(void **state)
{
	static const char body[] = "{\"order_id\":\"x\"}";
	static const char *const lines[] = {
	    "Content-Type: application/json",
	    "Cache-Control: no-store",
	    "Content-Length: 16",
	    "Location: /orders/x",
	};
	struct ar_response resp;
	char buf[1024];
	size_t n;

	(void)state;
	response_init(&resp);
	response_set_body(&resp, 201, "application/json", dup_str(body), strlen(body));
	response_add_header(&resp, "Location", "/orders/%s", "x");
	n = response_render_head(&resp, buf, sizeof buf);
	assert_true(n > 0);
	expect_head(buf, n, "Status: 201 Created", lines, 4);
	response_free(&resp);
}

static void test_render_head_error_with_allow(void **state)
{
	struct ar_response resp;
	char buf[1024];
	char cl[64];
	const char *lines[4];
	size_t n;

	(void)state;
	response_init(&resp);
	response_error(&resp, ERR_METHOD_NOT_ALLOWED, NULL);
	response_add_header(&resp, "Allow", "%s", "GET, HEAD, PUT");
	snprintf(cl, sizeof cl, "Content-Length: %zu", resp.body_len);
	lines[0] = "Content-Type: application/json";
	lines[1] = "Cache-Control: no-store";
	lines[2] = cl;
	lines[3] = "Allow: GET, HEAD, PUT";
	n = response_render_head(&resp, buf, sizeof buf);
	expect_head(buf, n, "Status: 405 Method Not Allowed", lines, 4);
	response_free(&resp);
}

static void test_render_head_several_extras(void **state)
{
	static const char body[] = "{\"error\":\"unauthorized\",\"message\":\"m\"}";
	static const char *const lines[] = {
	    "Content-Type: application/json", "Cache-Control: no-store",   "Content-Length: 38",
	    "WWW-Authenticate: Bearer",       "Idempotent-Replayed: true", "Retry-After: 7",
	};
	struct ar_response resp;
	char buf[1024];
	size_t n;

	(void)state;
	response_init(&resp);
	response_set_body(&resp, 401, "application/json", dup_str(body), strlen(body));
	response_add_header(&resp, "WWW-Authenticate", "Bearer");
	response_add_header(&resp, "Idempotent-Replayed", "true");
	response_add_header(&resp, "Retry-After", "%d", 7);
	n = response_render_head(&resp, buf, sizeof buf);
	expect_head(buf, n, "Status: 401 Unauthorized", lines, 6);
	response_free(&resp);
}

/* A handler's own Cache-Control (the order form page) and the 303 of the
 * form flow. */
static void test_render_head_see_other_and_cache_control(void **state)
{
	static const char *const lines[] = {
	    "Content-Type: text/html; charset=utf-8",
	    "Cache-Control: private, no-cache",
	    "Content-Length: 2",
	    "Location: /order.html?order_id=x",
	};
	struct ar_response resp;
	char buf[1024];
	size_t n;

	(void)state;
	response_init(&resp);
	response_set_body(&resp, 303, "text/html; charset=utf-8", dup_str("ok"), 2);
	response_add_header(&resp, "Location", "%s", "/order.html?order_id=x");
	resp.cache_control = "private, no-cache";
	n = response_render_head(&resp, buf, sizeof buf);
	expect_head(buf, n, "Status: 303 See Other", lines, 4);
	response_free(&resp);
}

static void test_error_code_recorded(void **state)
{
	struct ar_response resp;

	(void)state;
	response_init(&resp);
	assert_null(resp.error_code);
	response_error(&resp, ERR_TOKEN_REUSED, NULL);
	assert_string_equal(resp.error_code, "token_reused");
	response_free(&resp);
	assert_null(resp.error_code);
	response_unavailable(&resp);
	assert_string_equal(resp.error_code, "unavailable");
	response_free(&resp);
}

static void test_render_head_metrics_type(void **state)
{
	static const char body[] = "antireplay_tokens_issued_total 0\n";
	static const char *const lines[] = {
	    "Content-Type: text/plain; version=0.0.4",
	    "Cache-Control: no-store",
	    "Content-Length: 33",
	};
	struct ar_response resp;
	char buf[1024];
	size_t n;

	(void)state;
	response_init(&resp);
	response_set_body(&resp, 200, "text/plain; version=0.0.4", dup_str(body), strlen(body));
	n = response_render_head(&resp, buf, sizeof buf);
	expect_head(buf, n, "Status: 200 OK", lines, 3);
	response_free(&resp);
}

static void test_render_head_empty_body(void **state)
{
	static const char *const lines[] = {
	    "Content-Type: application/json",
	    "Cache-Control: no-store",
	    "Content-Length: 0",
	};
	struct ar_response resp;
	char buf[1024];
	size_t n;

	(void)state;
	response_init(&resp);
	response_set_body(&resp, 200, "application/json", dup_str(""), 0);
	n = response_render_head(&resp, buf, sizeof buf);
	expect_head(buf, n, "Status: 200 OK", lines, 3);
	response_free(&resp);
}

static void test_render_head_omit_body_keeps_length(void **state)
{
	static const char body[] = "{\"status\":\"ok\"}";
	static const char *const lines[] = {
	    "Content-Type: application/json",
	    "Cache-Control: no-store",
	    "Content-Length: 15",
	};
	struct ar_response resp;
	char buf[1024];
	size_t n;

	(void)state;
	response_init(&resp);
	response_set_body(&resp, 200, "application/json", dup_str(body), strlen(body));
	resp.omit_body = 1;
	n = response_render_head(&resp, buf, sizeof buf);
	expect_head(buf, n, "Status: 200 OK", lines, 3);
	response_free(&resp);
}

static void test_render_head_buffer_too_small(void **state)
{
	static const char body[] = "{\"status\":\"ok\"}";
	struct ar_response resp;
	char buf[1024];
	char small[1024];
	size_t n;

	(void)state;
	response_init(&resp);
	response_set_body(&resp, 200, "application/json", dup_str(body), strlen(body));
	response_add_header(&resp, "Location", "/x");
	n = response_render_head(&resp, buf, sizeof buf);
	assert_true(n > 0);
	assert_int_equal(response_render_head(&resp, small, n - 1), 0);
	assert_int_equal(response_render_head(&resp, small, n / 2), 0);
	assert_int_equal(response_render_head(&resp, small, 10), 0);
	assert_int_equal(response_render_head(&resp, small, 1), 0);
	assert_int_equal(response_render_head(&resp, small, 0), 0);
	/* With room for the terminating NUL it fits again, same bytes. */
	assert_int_equal(response_render_head(&resp, small, n + 1), n);
	assert_memory_equal(small, buf, n);
	response_free(&resp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_error_table),
	    cmocka_unit_test(test_error_bodies),
	    cmocka_unit_test(test_error_msg_exact_bytes),
	    cmocka_unit_test(test_error_extras_exact_bytes),
	    cmocka_unit_test(test_error_extras_after_code_and_message),
	    cmocka_unit_test(test_message_is_escaped),
	    cmocka_unit_test(test_unavailable),
	    cmocka_unit_test(test_set_json_compact),
	    cmocka_unit_test(test_init_and_free),
	    cmocka_unit_test(test_headers),
	    cmocka_unit_test(test_reason_phrases),
	    cmocka_unit_test(test_render_head_created),
	    cmocka_unit_test(test_render_head_error_with_allow),
	    cmocka_unit_test(test_render_head_several_extras),
	    cmocka_unit_test(test_render_head_metrics_type),
	    cmocka_unit_test(test_render_head_see_other_and_cache_control),
	    cmocka_unit_test(test_error_code_recorded),
	    cmocka_unit_test(test_render_head_empty_body),
	    cmocka_unit_test(test_render_head_omit_body_keeps_length),
	    cmocka_unit_test(test_render_head_buffer_too_small),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
