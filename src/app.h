/* app: one request in, one response out. Routes, then calls the handler of
 * the resource (handler_*.c). Knows nothing of FastCGI. */
#ifndef AR_APP_H
#define AR_APP_H

#include "config.h"
#include "idem_key.h"
#include "request.h"
#include "response.h"
#include "router.h"
#include "store.h"
#include "token.h"

struct ar_app {
	const struct ar_config *config; /* borrowed */
	struct store *store;            /* borrowed */
};

/* Fills resp (status always set) for req. route_name gets a static name of
 * the route for the access log ("orders", "-" when none). */
void app_handle(struct ar_app *app, const struct ar_request *req, struct ar_response *resp,
                const char **route_name);

/* The helpers every handler may use (handler_common.c). */

/* Answers a failed store call: 503 unavailable (Retry-After: 1) when Redis
 * is down, slow, full or restarting; 500 for a reply we did not expect. */
void app_store_failed(struct ar_response *resp, enum store_status status);

/* A key the client made is scoped by the identity: without one, answers
 * invalid_identity and returns -1. */
int app_check_key_scope(const struct idem_key *key, const char *identity, struct ar_response *resp);

/* Issues a token to the client of req, as POST /tokens does (identity,
 * rate limit): 0 with token filled, or -1 with resp answered
 * (handler_tokens.c). */
int app_issue_token(struct ar_app *app, const struct ar_request *req, char token[TOKEN_LEN + 1],
                    struct ar_response *resp);

/* The handlers, one file per resource. m->arg holds the path argument. */
void handle_tokens(struct ar_app *app, const struct ar_request *req, const struct ar_route_match *m,
                   struct ar_response *resp);
void handle_submit_order(struct ar_app *app, const struct ar_request *req,
                         const struct ar_route_match *m, struct ar_response *resp);
void handle_get_order(struct ar_app *app, const struct ar_request *req,
                      const struct ar_route_match *m, struct ar_response *resp);
void handle_order_form(struct ar_app *app, const struct ar_request *req,
                       const struct ar_route_match *m, struct ar_response *resp);
void handle_stock(struct ar_app *app, const struct ar_request *req, const struct ar_route_match *m,
                  struct ar_response *resp);
void handle_health(struct ar_app *app, const struct ar_request *req, const struct ar_route_match *m,
                   struct ar_response *resp);
void handle_metrics(struct ar_app *app, const struct ar_request *req,
                    const struct ar_route_match *m, struct ar_response *resp);

/* A gate request (request_is_gate), wherever its URL points: handler_gate.c. */
void handle_gate(struct ar_app *app, const struct ar_request *req, struct ar_response *resp);

#endif
