/* order: an order submission from a JSON or form body -> struct order,
 * every validation rule, the canonical form (the payload fingerprint's
 * input) and the JSON representation. Pure: no Redis, no FastCGI. */
#ifndef AR_ORDER_H
#define AR_ORDER_H

#include <stddef.h>

#include "idem_key.h"
#include "strbuf.h"
#include "token.h"

#define ORDER_MAX_ITEMS 50
#define ORDER_SKU_MAX 64
#define ORDER_QTY_MAX 1000
#define ORDER_CUSTOMER_MAX 256
/* A SKU's stock level, 0..this (PUT /stock; Redis keeps it as a 64-bit
 * integer, the API as a 32-bit one). Plain digits: stringified in messages. */
#define ORDER_STOCK_MAX 2147483647
#define ORDER_JSON_MAX_DEPTH 32
#define ORDER_WHY_MAX 160

struct order_item {
	char sku[ORDER_SKU_MAX + 1];
	int qty;
};

struct order {
	struct order_item items[ORDER_MAX_ITEMS]; /* request order */
	size_t n_items;
	char *customer; /* owned; NULL when absent */
};

/* What a body said, checked in the contract's order: syntax first, then
 * the token it carries, then the order rules. */
enum order_parse_status {
	ORDER_PARSED,     /* body syntax fine; see token and valid below */
	ORDER_BAD_SYNTAX, /* JSON: invalid_json; form: a bad escape (why says) */
};

struct order_input {
	struct order order;
	enum token_status body_token; /* the body's token member/field */
	struct idem_key body_key;     /* when body_token == TOKEN_OK: a key in any
	                                 form a client may make (the handler
	                                 applies keys = issued) */
	int valid;                    /* 1 when order passes every rule */
	char why[ORDER_WHY_MAX];      /* the rule broken (or the syntax error) */
};

/* 1 if s is a valid SKU: ^[A-Za-z0-9._-]{1,64}$. */
int order_sku_is_valid(const char *s, size_t len);

/* The deepest nesting of arrays and objects in a JSON text, strings
 * skipped (checked before a parser recurses into it). */
size_t order_json_depth(const char *s, size_t len);

/* Parses an application/json body (UTF-8, nesting <= 32). Fills in.
 * Returns ORDER_PARSED or ORDER_BAD_SYNTAX; free in with order_input_free
 * either way. */
enum order_parse_status order_parse_json(const char *body, size_t len, struct order_input *in);

/* Same for an application/x-www-form-urlencoded body: token, sku, qty,
 * customer; repeated sku/qty pairs make lines, in order. */
enum order_parse_status order_parse_form(const char *body, size_t len, struct order_input *in);

void order_input_free(struct order_input *in);

/* Appends the canonical form to out: items sorted by sku, then the
 * customer. Two bodies that mean the same order give the same string. */
void order_canonical(const struct order *o, struct strbuf *out);

/* Where order_write_json puts the 36-character order_id: it always starts
 * {"order_id":"<id>", so the submit script can put another id of the same
 * length in its place (lua/submit_order.lua). */
#define ORDER_JSON_ID_AT 13

/* Appends the order representation to out: compact JSON, members in
 * contract order (order_id, status, items in request order, customer if
 * any, created_at), byte for byte what jansson's compact dump gives. */
void order_write_json(const struct order *o, const char *order_id, const char *created_at,
                      struct strbuf *out);

#endif
