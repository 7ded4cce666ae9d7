/* identity: the bind setting applied to a request's params. */
#include "identity.h"

#include <stdio.h>
#include <string.h>

/* Appends s[0..len) to out at *off; -1 when it would pass IDENTITY_MAX. */
static int append(char *out, size_t *off, const char *s, size_t len)
{
	if (*off + len > IDENTITY_MAX)
		return -1;
	memcpy(out + *off, s, len);
	*off += len;
	out[*off] = '\0';
	return 0;
}

/* Every value of param name, joined with ", " (how Apache and lighttpd pass
 * a repeated header; nginx passes it repeated). */
static int joined_param(const struct ar_request *req, const char *name, char *out)
{
	size_t namelen = strlen(name), off = 0;
	int first = 1;

	out[0] = '\0';
	if (!req->env)
		return 0;
	for (char *const *e = req->env; *e; e++) {
		if (strncmp(*e, name, namelen) != 0 || (*e)[namelen] != '=')
			continue;
		if (!first && append(out, &off, ", ", 2) < 0)
			return -1;
		if (append(out, &off, *e + namelen + 1, strlen(*e + namelen + 1)) < 0)
			return -1;
		first = 0;
	}
	return 0;
}

int identity_cookie_value(const char *cookie_header, const char *name, char *out, size_t outlen)
{
	size_t namelen = strlen(name);
	const char *p = cookie_header;

	while (p && *p) {
		while (*p == ' ' || *p == '\t' || *p == ';')
			p++;
		const char *end = strchr(p, ';');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		const char *eq = memchr(p, '=', len);
		if (eq) {
			size_t nlen = (size_t)(eq - p);
			while (nlen > 0 && (p[nlen - 1] == ' ' || p[nlen - 1] == '\t'))
				nlen--;
			if (nlen == namelen && memcmp(p, name, namelen) == 0) {
				const char *v = eq + 1;
				size_t vlen = len - (size_t)(v - p);
				while (vlen > 0 && (*v == ' ' || *v == '\t')) {
					v++;
					vlen--;
				}
				while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
					vlen--;
				if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
					v++;
					vlen -= 2;
				}
				if (outlen > 0) {
					size_t n = vlen < outlen - 1 ? vlen : outlen - 1;
					memcpy(out, v, n);
					out[n] = '\0';
				}
				return (int)vlen;
			}
		}
		p = end;
	}
	return -1;
}

static int has_control_byte(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

int identity_extract(const struct ar_config *cfg, const struct ar_request *req,
                     char out[IDENTITY_MAX + 1])
{
	const char *v;

	out[0] = '\0';
	switch (cfg->bind) {
	case BIND_NONE:
		return 0;
	case BIND_REMOTE_USER:
		v = request_param(req, "REMOTE_USER");
		if (!v)
			return 0;
		if (strlen(v) > IDENTITY_MAX)
			return -1;
		strcpy(out, v);
		break;
	case BIND_HEADER:
		if (joined_param(req, cfg->bind_name, out) < 0)
			return -1;
		break;
	case BIND_COOKIE:
		v = request_param(req, "HTTP_COOKIE");
		if (v &&
		    identity_cookie_value(v, cfg->bind_name, out, IDENTITY_MAX + 1) > IDENTITY_MAX)
			return -1;
		break;
	}
	return has_control_byte(out) ? -1 : 0;
}

int identity_client_key(const char *identity, const char *remote_addr, char *out, size_t outlen)
{
	int n = identity[0] ? snprintf(out, outlen, "i:%s", identity)
	                    : snprintf(out, outlen, "a:%s", remote_addr ? remote_addr : "-");
	return (n < 0 || (size_t)n >= outlen) ? -1 : 0;
}

int identity_of_request(const struct ar_config *cfg, const struct ar_request *req,
                        char identity[IDENTITY_MAX + 1], char client[IDENTITY_CLIENT_MAX])
{
	if (identity_extract(cfg, req, identity) < 0)
		return -1;
	return identity_client_key(identity, request_param(req, "REMOTE_ADDR"), client,
	                           IDENTITY_CLIENT_MAX);
}
