/* settings.c - config files and flags through one table. */
#include "settings.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "parse.h"
#include "util.h"

int settings_set(const struct setting *tbl, size_t n, void *base,
		 const char *key, const char *value, char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		char *p = (char *)base + tbl[i].off;
		if (strcmp(tbl[i].key, key))
			continue;
		if (tbl[i].is_int)
			return parse_i64(value, tbl[i].min, tbl[i].max,
					 (int64_t *)p, err, errlen)
				       ? -1
				       : 0;
		if (tbl[i].check && tbl[i].check(value, err, errlen))
			return -1;
		size_t used = tbl[i].list ? strlen(p) : 0;
		if (tbl[i].list && strchr(value, '\n')) {
			snprintf(err, errlen, "value of '%s' has a newline", key);
			return -1;
		}
		if (used + strlen(value) + tbl[i].list >= tbl[i].size) {
			snprintf(err, errlen, "%s of '%s' is too long",
				 tbl[i].list ? "the list" : "value", key);
			return -1;
		}
		strcpy(p + used, value);
		if (tbl[i].list)
			strcat(p, "\n");
		return 0;
	}
	snprintf(err, errlen, "unknown setting '%s'", key);
	return -1;
}

struct load_ctx {
	const struct setting *tbl;
	size_t n;
	void *base;
};

static int load_one(const char *key, const char *value, int lineno,
		    void *ctx, char *err, size_t errlen)
{
	struct load_ctx *lc = ctx;
	(void)lineno;
	return settings_set(lc->tbl, lc->n, lc->base, key, value, err, errlen);
}

int settings_load(const struct setting *tbl, size_t n, void *base,
		  const char *path, char *err, size_t errlen)
{
	struct load_ctx lc = { tbl, n, base };
	return conf_load(path, load_one, &lc, err, errlen);
}

static void usage_error(const char *prog, const char *usage,
			const char *fmt, ...) SP_PRINTF(3, 4) SP_NORETURN;

static void usage_error(const char *prog, const char *usage,
			const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: error: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n%s", usage);
	exit(2);
}

static void print_quoted(FILE *out, const char *key, const char *v,
			 size_t len)
{
	fprintf(out, "%s = \"", key);
	for (size_t i = 0; i < len; i++) {
		if (v[i] == '"' || v[i] == '\\')
			fputc('\\', out);
		fputc(v[i], out);
	}
	fputs("\"\n", out);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && !strcmp(s + n - k, suffix);
}

/* The doc as "# " lines of at most 76 columns, the range after it. */
static void print_doc(FILE *out, const struct setting *s)
{
	char text[1024];
	const char *p = text;

	if (s->is_int)
		snprintf(text, sizeof(text), "%s (%lld to %lld)",
			 s->doc ? s->doc : "", (long long)s->min,
			 (long long)s->max);
	else
		snprintf(text, sizeof(text), "%s", s->doc ? s->doc : "");
	while (*p) {
		size_t len = strlen(p), cut = len;
		if (len > 74) {
			cut = 74;
			while (cut > 0 && p[cut] != ' ')
				cut--;
			if (!cut)
				cut = 74;
		}
		fprintf(out, "# %.*s\n", (int)cut, p);
		p += cut;
		while (*p == ' ')
			p++;
	}
}

void settings_print(const struct setting *tbl, size_t n, const void *base,
		    FILE *out)
{
	for (size_t i = 0; i < n; i++) {
		const char *p = (const char *)base + tbl[i].off;
		const char *key = tbl[i].key;
		if (i)
			fputc('\n', out);
		print_doc(out, &tbl[i]);
		if (tbl[i].is_int) {
			fprintf(out, "%s = %lld\n", key,
				(long long)*(const int64_t *)p);
		} else if (!*p) {
			fprintf(out, "# %s = (not set)\n", key);
		} else if (ends_with(key, "token")) {
			fprintf(out, "# %s = (set; not shown)\n", key);
		} else if (tbl[i].list) {
			for (const char *nl; (nl = strchr(p, '\n')); p = nl + 1)
				print_quoted(out, key, p, (size_t)(nl - p));
		} else {
			print_quoted(out, key, p, strlen(p));
		}
	}
}

int settings_read_args(int argc, char **argv, const struct setting *tbl,
		       size_t n, void *base, const struct setting_flag *flags,
		       size_t nflags, bool *print, char *err, size_t errlen)
{
	char why[512];

	*print = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config"))
			continue;
		if (++i == argc) {
			snprintf(err, errlen, "option '--config' needs a value");
			return -1;
		}
		if (settings_load(tbl, n, base, argv[i], err, errlen))
			return -1;
	}
	for (int i = 1; i < argc; i++) {
		size_t k;
		if (!strcmp(argv[i], "--config")) {
			i++;
			continue;
		}
		if (!strcmp(argv[i], "--print-config")) {
			*print = true;
			continue;
		}
		for (k = 0; k < nflags; k++)
			if (!strcmp(argv[i], flags[k].flag))
				break;
		if (k == nflags) {
			snprintf(err, errlen, "unknown option '%s'", argv[i]);
			return -1;
		}
		if (++i == argc) {
			snprintf(err, errlen, "option '%s' needs a value",
				 flags[k].flag);
			return -1;
		}
		if (settings_set(tbl, n, base, flags[k].key, argv[i], why,
				 sizeof(why))) {
			snprintf(err, errlen, "%s: %s", flags[k].flag, why);
			return -1;
		}
	}
	return 0;
}

void settings_parse_args(int argc, char **argv, const struct setting *tbl,
			 size_t n, void *base, const struct setting_flag *flags,
			 size_t nflags, const char *prog, const char *usage)
{
	char err[1024];
	bool print;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(usage, stdout);
			exit(0);
		}
	}
	if (settings_read_args(argc, argv, tbl, n, base, flags, nflags, &print,
			       err, sizeof(err)))
		usage_error(prog, usage, "%s", err);
	if (print) {
		settings_print(tbl, n, base, stdout);
		exit(fflush(stdout) ? 1 : 0);
	}
}

const char *settings_flag_of(const struct settings_doc *d, const char *key)
{
	for (size_t i = 0; i < d->nflags; i++)
		if (!strcmp(d->flags[i].key, key))
			return d->flags[i].flag;
	return NULL;
}

size_t settings_changed(const struct settings_doc *d, const void *a,
			const void *b, const char **keys, size_t max)
{
	const struct setting *tbl = d->tbl;
	size_t k = 0;

	for (size_t i = 0; i < d->n; i++) {
		const char *pa = (const char *)a + tbl[i].off;
		const char *pb = (const char *)b + tbl[i].off;
		bool same = tbl[i].is_int
				    ? *(const int64_t *)pa == *(const int64_t *)pb
				    : !strcmp(pa, pb);
		if (!same && k < max)
			keys[k++] = tbl[i].key;
	}
	return k;
}

static const struct setting *find(const struct settings_doc *d,
				  const char *key)
{
	for (size_t i = 0; i < d->n; i++)
		if (!strcmp(d->tbl[i].key, key))
			return &d->tbl[i];
	return NULL;
}

void settings_copy_key(const struct settings_doc *d, void *dst,
		       const void *src, const char *key)
{
	const struct setting *s = find(d, key);
	if (s)
		memcpy((char *)dst + s->off, (const char *)src + s->off,
		       s->size);
}

void settings_format(const struct settings_doc *d, const void *base,
		     const char *key, char *buf, size_t len)
{
	const struct setting *s = find(d, key);
	const char *p = s ? (const char *)base + s->off : "";

	if (!s)
		snprintf(buf, len, "?");
	else if (s->is_int)
		snprintf(buf, len, "%lld", (long long)*(const int64_t *)p);
	else if (ends_with(key, "token"))
		snprintf(buf, len, "(hidden)");
	else
		snprintf(buf, len, "%s", p);
}
