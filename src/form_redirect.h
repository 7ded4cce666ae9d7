/* form_redirect: Post/Redirect/Get for a shop's plain HTML form. A
 * browser that posts a form gets, instead of our JSON, 303 See Other to
 * the shop's own page: form_success_url for an order (its replays too, so
 * a double-submitted form lands twice on the same order page), or
 * form_error_url for any error. The browser then GETs that page, so Back
 * and reload never post again. */
#ifndef AR_FORM_REDIRECT_H
#define AR_FORM_REDIRECT_H

#include "config.h"
#include "response.h"

/* 1 when a form post with this Accept header is answered with a redirect:
 * the flow is configured and the client prefers HTML to JSON (a browser
 * navigating; an API client sending a form gets JSON as before). */
int form_redirect_wanted(const struct ar_config *cfg, const char *accept);

/* Turns the finished answer resp into the 303: to form_success_url with
 * order_id for a 201, else to form_error_url with resp's error code (and
 * order_id, "" when NULL: the order a duplicate_request names). Keeps
 * resp's log label. */
void form_redirect(const struct ar_config *cfg, struct ar_response *resp, const char *order_id);

#endif
