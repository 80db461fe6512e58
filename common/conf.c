/* conf.c - `key = value` config files. */
#include "conf.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "util.h"

#define CONF_MAX_FILE (4 * 1024 * 1024)
#define CONF_MAX_LINE (64 * 1024)

static char *trim(char *s)
{
	char *e;
	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* Unquotes a "..." value in place; NULL if the quoting is broken. */
static char *unquote(char *v)
{
	char *out = v, *p = v + 1;
	size_t n = strlen(v);
	if (n < 2 || v[n - 1] != '"')
		return NULL;
	v[n - 1] = '\0';
	while (*p) {
		if (*p == '\\') {
			p++;
			if (*p != '"' && *p != '\\')
				return NULL;
		} else if (*p == '"') {
			return NULL;
		}
		*out++ = *p++;
	}
	*out = '\0';
	return v;
}

static int parse_line(char *line, int lineno, conf_fn fn, void *ctx,
		      char *err, size_t errlen)
{
	char *eq, *key, *val;

	line = trim(line);
	if (!*line || *line == '#')
		return 0;
	eq = strchr(line, '=');
	if (!eq) {
		snprintf(err, errlen, "expected 'key = value'");
		return -1;
	}
	*eq = '\0';
	key = trim(line);
	val = trim(eq + 1);
	if (!*key) {
		snprintf(err, errlen, "missing key before '='");
		return -1;
	}
	for (char *k = key; *k; k++)
		if (!isalnum((unsigned char)*k) && *k != '_') {
			snprintf(err, errlen, "bad key '%.64s'", key);
			return -1;
		}
	if (*val == '"' && !(val = unquote(val))) {
		snprintf(err, errlen, "bad quoting in the value of '%.64s'",
			 key);
		return -1;
	}
	return fn(key, val, lineno, ctx, err, errlen);
}

int conf_load(const char *path, conf_fn fn, void *ctx, char *err,
	      size_t errlen)
{
	size_t len;
	char *text = read_file(path, CONF_MAX_FILE, &len);
	char *p, reason[512];
	int lineno = 0, rc = 0;

	if (!text) {
		snprintf(err, errlen, "cannot open '%s': %s", path,
			 strerror(errno));
		return -1;
	}
	if (memchr(text, '\0', len)) {
		snprintf(err, errlen, "%s: contains a NUL byte", path);
		free(text);
		return -1;
	}
	for (p = text; *p && !rc;) {
		char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		lineno++;
		if (nl)
			*nl = '\0';
		reason[0] = '\0';
		if (n > CONF_MAX_LINE) {
			snprintf(reason, sizeof(reason), "line too long");
			rc = -1;
		} else {
			rc = parse_line(p, lineno, fn, ctx, reason,
					sizeof(reason));
		}
		if (rc)
			snprintf(err, errlen, "%s:%d: %s", path, lineno,
				 reason[0] ? reason : "invalid setting");
		p = nl ? nl + 1 : p + n;
	}
	free(text);
	return rc;
}
