/* redis_args: a command's arguments, appended in order (see redis_args.h). */
#include "redis_args.h"

#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "util.h"

void redis_args_init(struct redis_args *a, int max_args, size_t buf_size)
{
	memset(a, 0, sizeof *a);
	a->argv = xcalloc((size_t)max_args, sizeof *a->argv);
	a->argvlen = xcalloc((size_t)max_args, sizeof *a->argvlen);
	a->max = max_args;
	a->buf = xcalloc(1, buf_size);
	a->size = buf_size;
}

void redis_args_release(struct redis_args *a)
{
	free(a->argv);
	free(a->argvlen);
	free(a->buf);
	memset(a, 0, sizeof *a);
}

void redis_args_start_command(struct redis_args *a)
{
	a->argc = 0;
	a->numkeys = 0;
	a->failed = 0;
	a->used = 0;
}

void redis_args_start_script(struct redis_args *a)
{
	redis_args_start_command(a);
	for (int i = 0; i < REDIS_ARGS_SCRIPT_HEAD && i < a->max; i++)
		redis_args_add(a, "", 0);
}

void redis_args_end_keys(struct redis_args *a)
{
	a->numkeys = a->argc - REDIS_ARGS_SCRIPT_HEAD;
}

void redis_args_add(struct redis_args *a, const char *s, size_t len)
{
	if (a->argc >= a->max) {
		a->failed = 1;
		return;
	}
	a->argv[a->argc] = s;
	a->argvlen[a->argc] = len;
	a->argc++;
}

void redis_args_add_str(struct redis_args *a, const char *s)
{
	redis_args_add(a, s, strlen(s));
}

void redis_args_add_copy(struct redis_args *a, const char *s, size_t len)
{
	char *p;

	if (len >= a->size - a->used) {
		a->failed = 1;
		return;
	}
	p = a->buf + a->used;
	memcpy(p, s, len);
	p[len] = '\0';
	a->used += len + 1;
	redis_args_add(a, p, len);
}

void redis_args_add_int(struct redis_args *a, long long v)
{
	char digits[24];

	redis_args_add_copy(a, digits, strbuf_format_int(digits, v));
}

void redis_args_fail(struct redis_args *a)
{
	a->failed = 1;
}

int redis_args_ok(const struct redis_args *a)
{
	return !a->failed;
}
