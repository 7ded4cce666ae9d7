/* fcgi_io: libfcgi's request loop pieces. FCGX types stay in this file. */
#include "fcgi_io.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/socket.h>
#include <sys/time.h>

#include <fastcgi.h>
#include <fcgiapp.h>

#include "util.h"

/* Status and RESPONSE_MAX_HEADERS headers of RESPONSE_HEADER_VALUE_MAX. */
#define HEAD_MAX 4096

struct fcgi_conn {
	FCGX_Request req;
	int io_failed;   /* a read or write of this request failed or timed out */
	int body_unread; /* a gate request: its stdin was left unread */
	struct timeval io_timeout;
	size_t max_body;
	char *body; /* max_body + 1 bytes, reused by every request */
};

struct fcgi_conn *fcgi_io_new(int listen_fd, size_t max_body, int io_timeout_ms, char *err,
                              size_t errlen)
{
	struct fcgi_conn *c;

	/* libfcgi's close waits for the peer to close too, up to 2 s by default;
	 * a peer that never does would hold the process longer than
	 * client_timeout_ms. An explicit setting in the environment wins. */
	if (!getenv("LIBFCGI_OS_CLOSE_POLL_TIMEOUT")) {
		char ms[16];
		snprintf(ms, sizeof ms, "%d", io_timeout_ms < 2000 ? io_timeout_ms : 2000);
		setenv("LIBFCGI_OS_CLOSE_POLL_TIMEOUT", ms, 1);
	}
	if (FCGX_Init() != 0) {
		snprintf(err, errlen, "FCGX_Init failed");
		return NULL;
	}
	if (FCGX_IsCGI()) {
		snprintf(
		    err, errlen,
		    "fd %d is not a FastCGI listening socket; start me under spawn-fcgi, "
		    "multiwatch, systemd socket activation or a web server that spawns FastCGI",
		    listen_fd);
		return NULL;
	}
	c = xcalloc(1, sizeof *c);
	if (FCGX_InitRequest(&c->req, listen_fd, 0) != 0) {
		snprintf(err, errlen, "FCGX_InitRequest failed");
		free(c);
		return NULL;
	}
	c->max_body = max_body;
	c->io_timeout.tv_sec = io_timeout_ms / 1000;
	c->io_timeout.tv_usec = (io_timeout_ms % 1000) * 1000;
	c->body = xmalloc(max_body + 1);
	return c;
}

void fcgi_io_free(struct fcgi_conn *c)
{
	if (!c)
		return;
	FCGX_Free(&c->req, 1);
	free(c->body);
	free(c);
}

int fcgi_io_accept(struct fcgi_conn *c)
{
	if (FCGX_Accept_r(&c->req) < 0)
		return -1;
	c->io_failed = 0;
	c->body_unread = 0;
	/* libfcgi blocks without limit; accepted unix sockets do not inherit
	 * timeouts from the listener, so set them on each connection. Failure
	 * only loses the bound, never the request. */
	setsockopt(c->req.ipcFd, SOL_SOCKET, SO_RCVTIMEO, &c->io_timeout, sizeof c->io_timeout);
	setsockopt(c->req.ipcFd, SOL_SOCKET, SO_SNDTIMEO, &c->io_timeout, sizeof c->io_timeout);
	return 0;
}

/* CONTENT_LENGTH as a number: -1 when absent or empty (a chunked body passed
 * on by Apache, or nginx unbuffered: EOF ends it), -2 when malformed; digits
 * too many for a long read as LONG_MAX (too large, whatever the limit). */
static long declared_length(const char *v)
{
	long n;
	size_t len;

	if (!v || !*v)
		return -1;
	len = strlen(v);
	if (strspn(v, "0123456789") != len)
		return -2;
	if (util_parse_long(v, len, 0, LONG_MAX, &n) < 0)
		return LONG_MAX;
	return n;
}

void fcgi_io_read_request(struct fcgi_conn *c, struct ar_request *req)
{
	long declared = declared_length(FCGX_GetParam("CONTENT_LENGTH", c->req.envp));
	size_t got = 0;

	req->role = c->req.role == FCGI_AUTHORIZER ? ROLE_AUTHORIZER : ROLE_RESPONDER;
	req->env = c->req.envp;
	req->body = c->body;
	req->body_len = 0;
	req->body_state = BODY_OK;
	c->body[0] = '\0';
	if (request_is_gate(req)) {
		c->body_unread = 1;
		return; /* never waits for a body (request.h) */
	}
	if (declared == -2) {
		req->body_state = BODY_INCOMPLETE;
		return;
	}
	if (declared >= 0 && (size_t)declared > c->max_body) {
		req->body_state = BODY_TOO_LARGE; /* refuse before reading it */
		return;
	}
	/* Read to EOF, one byte past the limit to see a body that is too large. */
	while (got <= c->max_body) {
		int n = FCGX_GetStr(c->body + got, (int)(c->max_body + 1 - got), c->req.in);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	c->body[got < c->max_body ? got : c->max_body] = '\0';
	req->body_len = got;
	if (got > c->max_body)
		req->body_state = BODY_TOO_LARGE;
	else if (FCGX_GetError(c->req.in) != 0 || (declared >= 0 && got != (size_t)declared))
		req->body_state = BODY_INCOMPLETE;
	if (FCGX_GetError(c->req.in) != 0)
		c->io_failed = 1;
}

int fcgi_io_write_response(struct fcgi_conn *c, const struct ar_response *resp)
{
	char head[HEAD_MAX];
	size_t len = response_render_head(resp, head, sizeof head);

	if (len == 0 || FCGX_PutStr(head, (int)len, c->req.out) < 0 ||
	    (!resp->omit_body && resp->body_len > 0 &&
	     FCGX_PutStr(resp->body, (int)resp->body_len, c->req.out) < 0) ||
	    FCGX_GetError(c->req.out) != 0) {
		c->io_failed = 1;
		return -1;
	}
	return 0;
}

void fcgi_io_finish(struct fcgi_conn *c)
{
	/* After a failed or timed-out read or write the peer is stalled or gone:
	 * shutting our read side lets libfcgi's lingering close see EOF at once
	 * instead of waiting for the peer. */
	if (c->io_failed && c->req.ipcFd >= 0)
		shutdown(c->req.ipcFd, SHUT_RD);
	/* Unread stdin records would be read as the next request's on a kept
	 * connection (libfcgi does not skip them): never keep it then. */
	if (c->body_unread)
		c->req.keepConnection = 0;
	FCGX_Finish_r(&c->req);
}

void fcgi_io_shutdown_pending(void)
{
	FCGX_ShutdownPending();
}
