/* Unit tests for accept: q values of the Accept header's media ranges and
 * the browser-or-API decision of the form flow. The browser strings are
 * those the browsers send on a form submission. */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "accept.h"

static void test_quality_most_specific_wins(void **state)
{
	(void)state;
	assert_int_equal(accept_quality(NULL, "text", "html"), 0);
	assert_int_equal(accept_quality("", "text", "html"), 0);
	assert_int_equal(accept_quality("text/html", "text", "html"), 1000);
	assert_int_equal(accept_quality("TEXT/HTML", "text", "html"), 1000);
	assert_int_equal(accept_quality("text/plain", "text", "html"), 0);
	assert_int_equal(accept_quality("*/*;q=0.8", "text", "html"), 800);
	assert_int_equal(accept_quality("text/*;q=0.3, */*;q=0.8", "text", "html"), 300);
	assert_int_equal(accept_quality("*/*, text/html;q=0", "text", "html"), 0);
	assert_int_equal(accept_quality("text/html;q=0.5, text/*", "text", "html"), 500);
	assert_int_equal(
	    accept_quality("application/json; charset=utf-8; q=0.25", "application", "json"), 250);
	assert_int_equal(accept_quality("text/html;level=1;q=0.7", "text", "html"), 700);
	assert_int_equal(accept_quality(" text/html ; Q=0.9 ,", "text", "html"), 900);
	assert_int_equal(accept_quality("text/html;q=1.000", "text", "html"), 1000);
	assert_int_equal(accept_quality("text/html;q=0.001", "text", "html"), 1);
}

static void test_quality_ignores_malformed_members(void **state)
{
	static const char *const bad[] = {
	    "text/html;q=2",
	    "text/html;q=1.5",
	    "text/html;q=0.0001",
	    "text/html;q=",
	    "text/html;q=.5",
	    "text/html;q=0,5x",
	    "text/html;q=-1",
	    "text/html;q=0.5.",
	    "text",
	    "/html",
	    "text/",
	    "*/html",
	    "text/html;q=0.x",
	};

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (accept_quality(bad[i], "text", "html") != 0)
			fail_msg("\"%s\": q %d, want 0 (ignored)", bad[i],
			         accept_quality(bad[i], "text", "html"));
	/* A malformed member leaves the others in force. */
	assert_int_equal(accept_quality("text/html;q=7, */*;q=0.2", "text", "html"), 200);
	assert_int_equal(accept_quality(",,text/html,,", "text", "html"), 1000);
}

static void test_prefers_html(void **state)
{
	static const char *const browsers[] = {
	    /* Chromium and Firefox navigating (a form submission) */
	    ("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
	     "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"),
	    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
	    "text/html",
	    "text/html, application/json;q=0.5",
	};
	static const char *const api_clients[] = {
	    NULL,
	    "",
	    "*/*",
	    "application/json",
	    "application/json, text/html;q=0.9",
	    "text/html, application/json",
	    "text/*, application/json",
	    "text/html;q=0, */*",
	    "text/plain",
	};

	(void)state;
	for (size_t i = 0; i < sizeof browsers / sizeof browsers[0]; i++)
		if (!accept_prefers_html(browsers[i]))
			fail_msg("\"%s\": not taken for a browser", browsers[i]);
	for (size_t i = 0; i < sizeof api_clients / sizeof api_clients[0]; i++)
		if (accept_prefers_html(api_clients[i]))
			fail_msg("\"%s\": taken for a browser",
			         api_clients[i] ? api_clients[i] : "NULL");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_quality_most_specific_wins),
	    cmocka_unit_test(test_quality_ignores_malformed_members),
	    cmocka_unit_test(test_prefers_html),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
