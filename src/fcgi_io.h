/* fcgi_io: the only includer of <fcgiapp.h>. Accepts a request on the
 * listening socket (fd 0), turns it into a struct ar_request (params and a
 * body read to EOF, bounded), writes a struct ar_response back. */
#ifndef AR_FCGI_IO_H
#define AR_FCGI_IO_H

#include <stddef.h>

#include "request.h"
#include "response.h"

struct fcgi_conn;

/* FCGX_Init + a request on listen_fd; the body buffer holds max_body + 1
 * bytes, allocated once. A read or write on a request's connection that
 * waits longer than io_timeout_ms fails (the request is answered 400
 * incomplete_body, or dropped), so a stalled client cannot hold the
 * process. Returns NULL (with err) when libfcgi fails. */
struct fcgi_conn *fcgi_io_new(int listen_fd, size_t max_body, int io_timeout_ms, char *err,
                              size_t errlen);
void fcgi_io_free(struct fcgi_conn *c);

/* Waits for the next request. Returns 0, or -1 on shutdown (SIGTERM or
 * SIGUSR1 seen) or a listening-socket error. */
int fcgi_io_accept(struct fcgi_conn *c);

/* Fills req from the accepted request: its role, params, then the body
 * (read to EOF, at most max_body bytes; CONTENT_LENGTH over max_body is
 * not read at all; a gate request's is not read: request_is_gate).
 * req's pointers live until fcgi_io_finish. */
void fcgi_io_read_request(struct fcgi_conn *c, struct ar_request *req);

/* Writes resp (its body unless resp->omit_body). Returns 0, or -1 when the
 * web server has gone (the request is lost; nothing to do but finish). */
int fcgi_io_write_response(struct fcgi_conn *c, const struct ar_response *resp);

/* Flushes and ends the request (FCGX_Finish_r). */
void fcgi_io_finish(struct fcgi_conn *c);

/* Asks libfcgi to stop accepting (FCGX_ShutdownPending). */
void fcgi_io_shutdown_pending(void);

#endif
