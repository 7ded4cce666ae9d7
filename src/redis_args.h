/* redis_args: the arguments of one Redis command or script call, appended
 * in the order they are sent (binary safe), so no caller numbers slots by
 * hand. Text and bytes added are borrowed and must outlive the send;
 * numbers and copies go into the builder's own buffer, sized once, so a
 * request allocates nothing. A builder that ran out of room, or that was
 * told one of its arguments is wrong (redis_args_fail), must not be sent:
 * redis_args_ok says so, and redis_conn refuses it. */
#ifndef AR_REDIS_ARGS_H
#define AR_REDIS_ARGS_H

#include <stddef.h>

/* The slots a script call keeps for EVALSHA, the SHA and numkeys
 * (redis_conn_eval fills them). */
#define REDIS_ARGS_SCRIPT_HEAD 3

struct redis_args {
	const char **argv;
	size_t *argvlen;
	int argc;
	int max;     /* room in argv */
	int numkeys; /* a script call's keys (redis_args_end_keys) */
	int failed;
	char *buf; /* numbers and copies */
	size_t used, size;
};

/* Room for max_args arguments and buf_size bytes of numbers and copies
 * (each takes its length + 1). Aborts when out of memory. */
void redis_args_init(struct redis_args *a, int max_args, size_t buf_size);
void redis_args_release(struct redis_args *a);

/* Starts a command: argv[0] is the next argument added. */
void redis_args_start_command(struct redis_args *a);

/* Starts a script call: the keys come next, then redis_args_end_keys,
 * then the other arguments. */
void redis_args_start_script(struct redis_args *a);

/* The arguments added since redis_args_start_script are the keys. */
void redis_args_end_keys(struct redis_args *a);

void redis_args_add(struct redis_args *a, const char *s, size_t len);
void redis_args_add_str(struct redis_args *a, const char *s);
void redis_args_add_int(struct redis_args *a, long long v);
void redis_args_add_copy(struct redis_args *a, const char *s, size_t len);

/* Marks the command as not to be sent (an argument could not be made). */
void redis_args_fail(struct redis_args *a);

/* 1 when every argument went in and none was refused. */
int redis_args_ok(const struct redis_args *a);

#endif
