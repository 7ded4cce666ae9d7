/* floor.c: the FastCGI floor for bench/run. A libfcgi responder that does
 * what any responder must and nothing else: accept a request, read its body
 * to EOF, write a fixed small JSON answer with Content-Length, finish. It
 * uses the same libfcgi calls as antireplay-fcgi (FCGX_Accept_r /
 * FCGX_GetStr / FCGX_PutStr / FCGX_Finish_r), so the difference between the
 * two is our own work plus Redis.
 *
 * POST gets 201, anything else 200, so the wrk scripts can check statuses
 * on both targets. Built by bench/run:
 *   cc -O2 floor.c $(pkg-config --cflags --libs fcgi) -o floor */
#include <stdio.h>
#include <string.h>

#include <fcgiapp.h>

static const char body[] = "{\"status\":\"ok\"}";

int main(void)
{
	FCGX_Request req;
	char buf[16384];
	char head[256];

	if (FCGX_Init() != 0 || FCGX_InitRequest(&req, 0, 0) != 0)
		return 1;
	while (FCGX_Accept_r(&req) >= 0) {
		const char *method = FCGX_GetParam("REQUEST_METHOD", req.envp);
		int post = method && strcmp(method, "POST") == 0;
		int n;

		while ((n = FCGX_GetStr(buf, (int)sizeof buf, req.in)) > 0)
			;
		n = snprintf(head, sizeof head,
		             "Status: %s\r\nContent-Type: application/json\r\n"
		             "Cache-Control: no-store\r\nContent-Length: %zu\r\n\r\n",
		             post ? "201 Created" : "200 OK", sizeof body - 1);
		FCGX_PutStr(head, n, req.out);
		FCGX_PutStr(body, (int)(sizeof body - 1), req.out);
		FCGX_Finish_r(&req);
	}
	return 0;
}
