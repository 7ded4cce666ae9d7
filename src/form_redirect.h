/* form_redirect: Post/Redirect/Get for a shop's plain HTML form. A browser
 * posting a form gets 303 See Other to the shop's own page instead of our
 * JSON: the order page (its replays and duplicates too, so a double submit
 * lands twice on it) or the error page. Back and reload then never post. */
#ifndef AR_FORM_REDIRECT_H
#define AR_FORM_REDIRECT_H

#include "config.h"
#include "response.h"

/* 1 when a post with this Accept header is answered with a redirect: the
 * flow is configured and the client prefers HTML to JSON (a browser
 * navigating; an API client sending a form gets JSON as before). */
int form_redirect_wanted(const struct ar_config *cfg, const char *accept);

/* Turns the finished answer resp into the 303: to form_success_url with
 * order_id for a 201, and for a duplicate_request that names its order
 * (reject mode: the order exists, which is all a shopper needs to see);
 * else to form_error_url with resp's error code. order_id is NULL when
 * the answer names no order. Keeps resp's log label, drops its headers. */
void form_redirect_apply(const struct ar_config *cfg, struct ar_response *resp,
                         const char *order_id);

#endif
