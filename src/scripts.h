/* scripts: the Lua sources of lua/, embedded at build time into
 * scripts_gen.c (generated; the .lua files are the truth). */
#ifndef AR_SCRIPTS_H
#define AR_SCRIPTS_H

struct ar_script {
	const char *name;   /* file name without .lua */
	const char *source; /* the file's bytes */
};

/* The scripts, in the order of lua/ names sorted; count in *n. */
const struct ar_script *scripts_all(unsigned *n);

/* The script called name, or NULL. */
const struct ar_script *scripts_find(const char *name);

#endif
