/* redis_dial: a short-lived connection that asks one server one question
 * (a Sentinel where the primary is, a cluster node which node serves a
 * slot), the same way for both: connect and every reply within timeout_ms,
 * AUTH first when there is a password. */
#ifndef AR_REDIS_DIAL_H
#define AR_REDIS_DIAL_H

#include <stddef.h>

#include <hiredis/hiredis.h>

#include "config.h"

/* A connected, authenticated context (the caller frees it), or NULL with
 * what went wrong in what. user may be "" (AUTH with the password alone),
 * password "" (no AUTH). */
redisContext *redis_dial(const struct ar_host_port *at, int timeout_ms, const char *user,
                         const char *password, char *what, size_t whatlen);

#endif
