/* The gate: a web server asks whether a request to another application (a
 * PHP checkout, say) may run. Its key is held, then made used, by two
 * steps of one script (store_gate); every later use is refused, since the
 * gate cannot replay the application's answer. Answered the way the asking front
 * expects: a FastCGI authorizer (lighttpd, Apache) gets 200 with
 * Variable-ANTIREPLAY_KEY, or the real error; nginx's auth_request, which
 * passes on only 2xx, 401 and 403, gets 200 with X-Antireplay-Key, or 403
 * with the real status, code and body in X-Antireplay-* headers for its
 * error_page to render (conf/nginx/antireplay-gate.conf). */
#include "app.h"

#include <string.h>
#include <time.h>

#include "gate_request.h"
#include "identity.h"
#include "log.h"
#include "strbuf.h"
#include "token.h"
#include "util.h"

/* How often a request looks again at a key another request holds: after
 * 2 ms, then twice as long each time, up to 25 ms. */
#define GATE_WAIT_MIN_MS 2
#define GATE_WAIT_MAX_MS 25
/* A gate request starts no step later than this many redis_timeout_ms
 * after it began (a step may then take a few more: docs/gate.md). */
#define GATE_DEADLINE_TIMEOUTS 4

static void answer_allowed(const struct ar_request *req, const struct idem_key *key,
                           struct ar_response *resp)
{
	response_set_body(resp, 200, "text/plain", NULL, 0);
	if (req->role == ROLE_AUTHORIZER)
		response_add_header(resp, "Variable-ANTIREPLAY_KEY", "%s", key->text);
	else
		response_add_header(resp, "X-Antireplay-Key", "%s", key->text);
}

static void answer_result(const struct ar_request *req, const struct idem_key *key,
                          enum gate_result r, long retry_after, struct ar_response *resp)
{
	switch (r) {
	case GATE_ALLOWED:
		answer_allowed(req, key, resp);
		break;
	case GATE_DUPLICATE:
		response_error_msg(resp, ERR_DUPLICATE_REQUEST,
		                   "the token was already used for this request", NULL);
		break;
	case GATE_TOKEN_REUSED:
		response_error(resp, ERR_TOKEN_REUSED, NULL);
		break;
	case GATE_INVALID_TOKEN:
		response_error(resp, ERR_INVALID_TOKEN, NULL);
		break;
	case GATE_MISSING_TOKEN:
		response_error_msg(resp, ERR_MISSING_TOKEN,
		                   "no token: send it in Idempotency-Key or as the URL's token "
		                   "parameter",
		                   NULL);
		break;
	case GATE_MALFORMED_TOKEN:
		response_error(resp, ERR_MALFORMED_TOKEN, NULL);
		break;
	case GATE_RATE_LIMITED:
		response_error_msg(resp, ERR_RATE_LIMITED, "too many submissions; retry later",
		                   NULL);
		response_add_header(resp, "Retry-After", "%ld", retry_after);
		break;
	case GATE_UNAVAILABLE:
	case GATE_RESULT_COUNT:
		response_unavailable(resp);
		break;
	}
}

/* nginx's auth_request turns any status but 2xx, 401 and 403 into a 500:
 * a refusal goes back as 403 carrying what the client must see. */
static void fit_auth_request(const struct ar_request *req, struct ar_response *resp)
{
	if (req->role == ROLE_AUTHORIZER || resp->status == 200)
		return;
	const char *retry_after = response_header(resp, "Retry-After");
	response_add_header(resp, "X-Antireplay-Status", "%d", resp->status);
	response_add_header(resp, "X-Antireplay-Error", "%s",
	                    resp->error_code ? resp->error_code : "internal_error");
	response_add_header(resp, "X-Antireplay-Body", "%.*s", (int)resp->body_len, resp->body);
	if (retry_after)
		response_add_header(resp, "X-Antireplay-Retry-After", "%s", retry_after);
	resp->status = 403;
}

/* 1 for a store call that may be asked again: Redis refused it, did not
 * answer in time, or was full (the gate's steps are idempotent). */
static int worth_asking_again(enum store_status st)
{
	return st == STORE_ERR_UNKNOWN || st == STORE_ERR_UNAVAILABLE || st == STORE_ERR_FULL;
}

/* The confirm ran but too few replicas have it (wait_replicas): the
 * client is told 503, so the key is made unused again for its retry,
 * asked again like the confirm until the deadline. If it cannot be done,
 * the key stays used on this primary (the retry gets 409) unless a
 * failover drops the confirm: said in the log. */
static void release(struct ar_app *app, const struct store_gate_call *call, double deadline)
{
	struct store_gate_reply reply;
	char shown[LOG_TOKEN_SHOWN + 4];
	enum store_status st = store_gate(app->store, call, GATE_RELEASE, &reply);

	while (worth_asking_again(st) && util_now_ms() < deadline) {
		util_sleep_ms(GATE_WAIT_MIN_MS);
		st = store_gate(app->store, call, GATE_RELEASE, &reply);
	}
	if (st == STORE_OK && reply.verdict == GATE_RELEASED)
		return;
	log_warn(
	    "gate: key %s: a confirm that too few replicas acknowledged %s: a retry may be "
	    "answered 409",
	    log_token(call->key->text, shown),
	    st == STORE_ERR_NOT_REPLICATED
	        ? "was undone, but too few replicas have that either (a failover now keeps the "
	          "key used)"
	        : "could not be undone");
}

/* Holds the key for this request, waiting out another request's hold (it
 * confirms or goes within one command timeout), then makes it used.
 * A confirm whose reply was lost may have run: it is asked again (it is
 * idempotent; once the hold's time has passed its answer is final) until
 * the request's deadline, so a slow Redis does not leave a 503 with the
 * key used. No step starts after the deadline. 0 with *r (GATE_ALLOWED
 * only when a confirm said so; GATE_UNAVAILABLE when Redis could not
 * decide in time); -1 after answering 500 for a reply we did not expect. */
static int consume(struct ar_app *app, const struct store_gate_call *call, enum gate_result *r,
                   long *retry_after, struct ar_response *resp)
{
	double deadline = util_now_ms() + GATE_DEADLINE_TIMEOUTS * app->config->redis_timeout_ms;
	long step_ms = GATE_WAIT_MIN_MS;
	struct store_gate_reply reply;
	enum store_status st;

	for (;;) {
		st = store_gate(app->store, call, GATE_RESERVE, &reply);
		if (st != STORE_OK || reply.verdict != GATE_PENDING ||
		    util_now_ms() + step_ms >= deadline)
			break;
		util_sleep_ms(reply.value < step_ms ? reply.value : step_ms);
		step_ms = step_ms * 2 < GATE_WAIT_MAX_MS ? step_ms * 2 : GATE_WAIT_MAX_MS;
	}
	if (st == STORE_OK && reply.verdict == GATE_REFUSED) {
		*r = reply.refusal;
		*retry_after = reply.value;
		return 0;
	}
	if (st == STORE_OK && reply.verdict == GATE_RESERVED) {
		st = store_gate(app->store, call, GATE_CONFIRM, &reply);
		while (worth_asking_again(st) && util_now_ms() < deadline) {
			util_sleep_ms(GATE_WAIT_MIN_MS);
			st = store_gate(app->store, call, GATE_CONFIRM, &reply);
		}
		if (st == STORE_OK && reply.verdict == GATE_CONFIRMED) {
			*r = GATE_ALLOWED;
			return 0;
		}
		if (st == STORE_ERR_NOT_REPLICATED)
			release(app, call, deadline);
	}
	if (st == STORE_ERR_REPLY) {
		app_store_failed(resp, st);
		return -1;
	}
	/* Redis down, slow or full, a hold that expired before its confirm,
	 * or another request's holds past the deadline: the client is told
	 * 503, and nothing of this request is left in Redis but a hold that
	 * goes by itself (unless no confirm's answer came back in time: see
	 * docs/gate.md). */
	store_gate_count(app->store, GATE_UNAVAILABLE);
	*r = GATE_UNAVAILABLE;
	return 0;
}

/* bind = remote_user at a gate that runs before any user is known (Apache
 * mod_authnz_fcgi's check_user_id mode: the gate is the authenticator)
 * checks every token against no identity: said once, not refused. */
static void warn_no_user(const struct ar_app *app, const struct ar_request *req)
{
	static int warned;

	if (warned || app->config->bind != BIND_REMOTE_USER || request_param(req, "REMOTE_USER"))
		return;
	warned = 1;
	log_warn("gate: bind = remote_user, but the front sent no REMOTE_USER (Apache's "
	         "mod_authnz_fcgi runs the gate before any user is known): tokens bound to a "
	         "user are refused as invalid_token; see docs/gate.md");
}

/* Answers req; returns the access log's word (the gate's result, or the
 * error code when it never got that far). */
static const char *gate(struct ar_app *app, const struct ar_request *req, struct ar_response *resp)
{
	char identity[IDENTITY_MAX + 1], client[IDENTITY_CLIENT_MAX], grant[TOKEN_LEN + 1];
	char shown[LOG_TOKEN_SHOWN + 4];
	int client_keys = app->config->keys == KEYS_CLIENT;
	struct idem_key key;
	enum gate_result r;
	long retry_after = 0;

	enum token_status ts = gate_request_key(req, client_keys, &key);
	if (ts != TOKEN_OK) {
		r = ts == TOKEN_ABSENT ? GATE_MISSING_TOKEN : GATE_MALFORMED_TOKEN;
		answer_result(req, &key, r, 0, resp);
		store_gate_count(app->store, r);
		store_gate_send_counts(app->store);
		return store_gate_result_name(r);
	}
	warn_no_user(app, req);
	if (identity_of_request(app->config, req, identity, client) < 0) {
		response_error(resp, ERR_INVALID_IDENTITY, NULL);
		return resp->log_label;
	}
	if (app_check_key_scope(&key, identity, resp) < 0)
		return resp->log_label;

	struct strbuf request = STRBUF_INIT;
	if (gate_request_name(req, &request) < 0) {
		log_error("gate: the front sent no REQUEST_METHOD or REQUEST_URI; check its "
		          "FastCGI params");
		response_error(resp, ERR_INTERNAL, NULL);
		strbuf_free(&request);
		return resp->log_label;
	}
	token_generate(grant);
	struct store_gate_call call = {.key = &key,
	                               .client_keys = client_keys && identity[0] != '\0',
	                               .identity = identity,
	                               .client = client,
	                               .request = request.data,
	                               .grant = grant};
	const char *label = resp->log_label;
	if (consume(app, &call, &r, &retry_after, resp) == 0) {
		log_debug("gate: key %s for %s: %s", log_token(key.text, shown), request.data,
		          store_gate_result_name(r));
		answer_result(req, &key, r, retry_after, resp);
		label = store_gate_result_name(r);
		/* Redis answered: the counts noted while it did not go now. */
		if (r != GATE_UNAVAILABLE)
			store_gate_send_counts(app->store);
	} else {
		label = resp->log_label;
	}
	strbuf_free(&request);
	return label;
}

void handle_gate(struct ar_app *app, const struct ar_request *req, struct ar_response *resp)
{
	resp->log_label = gate(app, req, resp);
	fit_auth_request(req, resp);
}
