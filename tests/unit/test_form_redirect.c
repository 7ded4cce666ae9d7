/* Unit tests for form_redirect: which answers go to which page, the
 * Location and its HTML link (& escaped there, not in the header), and
 * what is kept of the answer it replaces. */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "form_redirect.h"
#include "response.h"
#include "token.h"

#define ID "7d0c9a4e-2b1f-5c3d-8e4f-0a1b2c3d4e5f"
#define BROWSER "text/html,application/xhtml+xml,*/*;q=0.8"

static void load(struct ar_config *cfg, const char *text)
{
	char err[CONFIG_ERR_LEN];

	config_init(cfg);
	if (config_load_string(cfg, "t.conf", text, err, sizeof err) != 0)
		fail_msg("config refused: %s", err);
}

static const char flow[] = "form_success_url = /order.html?id={order_id}\n"
                           "form_error_url = /e?error={error}&from=form\n";

/* resp redirected to location, with the link's href in its body. */
static void expect_see_other(const struct ar_response *resp, const char *location, const char *href)
{
	char want[512];

	assert_int_equal(resp->status, 303);
	assert_string_equal(resp->content_type, "text/html; charset=utf-8");
	assert_non_null(response_header(resp, "Location"));
	assert_string_equal(response_header(resp, "Location"), location);
	snprintf(want, sizeof want, "<a href=\"%s\">", href);
	if (!strstr(resp->body, want))
		fail_msg("body without %s: %s", want, resp->body);
	assert_int_equal(resp->body_len, strlen(resp->body));
	assert_null(resp->cache_control); /* no-store */
}

static void test_wanted(void **state)
{
	struct ar_config cfg;

	(void)state;
	load(&cfg, flow);
	assert_true(form_redirect_wanted(&cfg, BROWSER));
	assert_false(form_redirect_wanted(&cfg, "*/*"));
	assert_false(form_redirect_wanted(&cfg, NULL));
	config_free(&cfg);
	load(&cfg, "");
	assert_false(form_redirect_wanted(&cfg, BROWSER));
	config_free(&cfg);
}

static void test_created_and_replayed_go_to_the_order(void **state)
{
	struct ar_config cfg;
	struct ar_response resp;

	(void)state;
	load(&cfg, flow);
	response_init(&resp);
	response_set_body(&resp, 201, "application/json", strdup("{}"), 2);
	response_add_header(&resp, "Location", "/api/orders/%s", ID);
	response_add_header(&resp, "Idempotent-Replayed", "true");
	resp.log_label = "replayed";
	form_redirect_apply(&cfg, &resp, ID);
	expect_see_other(&resp, "/order.html?id=" ID, "/order.html?id=" ID);
	assert_int_equal(resp.n_headers, 1); /* the JSON answer's headers are gone */
	assert_string_equal(resp.log_label, "replayed");
	response_free(&resp);
	config_free(&cfg);
}

static void test_errors_go_to_the_error_page(void **state)
{
	struct ar_config cfg;
	struct ar_response resp;

	(void)state;
	load(&cfg, flow);
	response_init(&resp);
	response_unavailable(&resp);
	form_redirect_apply(&cfg, &resp, NULL);
	/* '&' as is in the header, &amp; in the HTML attribute */
	expect_see_other(&resp, "/e?error=unavailable&from=form",
	                 "/e?error=unavailable&amp;from=form");
	assert_null(response_header(&resp, "Retry-After"));
	assert_string_equal(resp.log_label, "unavailable");
	response_free(&resp);

	/* A status set without an error code (a bug) still lands somewhere. */
	response_init(&resp);
	response_set_body(&resp, 500, "application/json", strdup("{}"), 2);
	form_redirect_apply(&cfg, &resp, NULL);
	expect_see_other(&resp, "/e?error=internal_error&from=form",
	                 "/e?error=internal_error&amp;from=form");
	response_free(&resp);
	config_free(&cfg);
}

static void test_duplicate_with_its_order_goes_to_the_order(void **state)
{
	struct ar_config cfg;
	struct ar_response resp;

	(void)state;
	load(&cfg, flow);
	response_init(&resp);
	response_error(&resp, ERR_DUPLICATE_REQUEST, NULL);
	form_redirect_apply(&cfg, &resp, ID);
	expect_see_other(&resp, "/order.html?id=" ID, "/order.html?id=" ID);
	assert_string_equal(resp.log_label, "duplicate_request");
	response_free(&resp);
	/* Without an order (its first try made none): the error page. */
	response_init(&resp);
	response_error(&resp, ERR_DUPLICATE_REQUEST, NULL);
	form_redirect_apply(&cfg, &resp, NULL);
	expect_see_other(&resp, "/e?error=duplicate_request&from=form",
	                 "/e?error=duplicate_request&amp;from=form");
	response_free(&resp);
	/* Another error with an order id: still the error page. */
	response_init(&resp);
	response_error(&resp, ERR_TOKEN_REUSED, NULL);
	form_redirect_apply(&cfg, &resp, ID);
	expect_see_other(&resp, "/e?error=token_reused&from=form",
	                 "/e?error=token_reused&amp;from=form");
	response_free(&resp);
	config_free(&cfg);
}

/* The config bounds a filled URL by CONFIG_FORM_VALUE_MAX per placeholder:
 * every value one stands for must fit. */
static void test_every_value_fits_its_placeholder(void **state)
{
	(void)state;
	assert_true(TOKEN_LEN <= CONFIG_FORM_VALUE_MAX);
	for (int e = 0; e < ERR_COUNT; e++)
		if (strlen(response_error_code((enum ar_error)e)) > CONFIG_FORM_VALUE_MAX)
			fail_msg("error code %s is longer than CONFIG_FORM_VALUE_MAX",
			         response_error_code((enum ar_error)e));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_wanted),
	    cmocka_unit_test(test_created_and_replayed_go_to_the_order),
	    cmocka_unit_test(test_errors_go_to_the_error_page),
	    cmocka_unit_test(test_duplicate_with_its_order_goes_to_the_order),
	    cmocka_unit_test(test_every_value_fits_its_placeholder),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
