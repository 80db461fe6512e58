/*
 * conf.h - the config file format shared by both daemons: `key = value`
 * lines, `#` comments, blank lines; a value may be double-quoted (with \"
 * and \\ escapes).
 */
#ifndef SP_CONF_H
#define SP_CONF_H

#include <stddef.h>

/* Called for each setting; returns 0, or -1 with a reason in err. */
typedef int (*conf_fn)(const char *key, const char *value, int lineno,
		       void *ctx, char *err, size_t errlen);

/* Reads path and calls fn for every setting, in order. Returns 0, or -1
 * with "path:line: reason" (or "cannot open 'path': ...") in err. */
int conf_load(const char *path, conf_fn fn, void *ctx, char *err,
	      size_t errlen);

#endif
