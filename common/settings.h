/*
 * settings.h - one table row per setting (name, type, bounds), serving the
 * config file and the command-line flags of both daemons alike.
 */
#ifndef SP_SETTINGS_H
#define SP_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct setting {
	const char *key; /* as in the config file */
	bool is_int;
	size_t off;      /* offset of the field in the settings struct */
	size_t size;     /* bytes of a string field */
	int64_t min, max;
	/* A list: every occurrence appends its value and a newline to the
	 * string field, instead of replacing it. */
	bool list;
	/* Optional check of a string value (0, or -1 with a reason), so a bad
	 * one is refused where it is written, with its line. */
	int (*check)(const char *value, char *err, size_t errlen);
	/* What it does, for people: the config samples (--print-config),
	 * docs/configuration.md and sparkpilot.conf(5) are made from it. */
	const char *doc;
};

#define SETTING_STR(T, f, d) \
	{ #f, false, offsetof(T, f), sizeof(((T *)0)->f), 0, 0, false, NULL, d }
#define SETTING_INT(T, f, lo, hi, d) \
	{ #f, true, offsetof(T, f), sizeof(int64_t), lo, hi, false, NULL, d }

#define SETTING_LIST(T, f, key, chk, d) \
	{ key, false, offsetof(T, f), sizeof(((T *)0)->f), 0, 0, true, chk, d }

/* A command-line flag and the setting it sets. */
struct setting_flag {
	const char *flag; /* "--data-dir" */
	const char *key;  /* "data_dir" */
};

/* A daemon's settings, for generated documentation: its table, flags, and
 * where its config file lives. */
struct settings_doc {
	const char *prog; /* "sparkpilot-scheduler" */
	const char *file; /* "/etc/sparkpilot/scheduler.conf" */
	const struct setting *tbl;
	size_t n;
	const struct setting_flag *flags;
	size_t nflags;
	/* whether a reload (SIGHUP) applies the key at once; NULL: none */
	bool (*live)(const char *key);
};

/* The flag that sets key, or NULL. */
const char *settings_flag_of(const struct settings_doc *d, const char *key);
/* Copies key's value from src to dst (settings structs of d). */
void settings_copy_key(const struct settings_doc *d, void *dst,
		       const void *src, const char *key);
/* key's value in base as text ("" for an unset string; a token's never:
 * "(hidden)"). */
void settings_format(const struct settings_doc *d, const void *base,
		     const char *key, char *buf, size_t len);
/* The keys whose values differ between the settings a and b (of d's
 * table), in table order, at most max of them; returns how many. */
size_t settings_changed(const struct settings_doc *d, const void *a,
			const void *b, const char **keys, size_t max);

/* Sets key in the struct at base from a string. 0, or -1 with a reason. */
int settings_set(const struct setting *tbl, size_t n, void *base,
		 const char *key, const char *value, char *err, size_t errlen);
/* Reads a config file into base. 0, or -1 with "path:line: reason". */
int settings_load(const struct setting *tbl, size_t n, void *base,
		  const char *path, char *err, size_t errlen);
/* Writes the settings in base as a config file that reads back to the
 * same values: every key, strings quoted, a list one line per value, an
 * empty string as a comment. A string setting whose key ends in "token"
 * is a secret: shown as a comment saying it is set, never its value. */
void settings_print(const struct setting *tbl, size_t n, const void *base,
		    FILE *out);
/* Parses argv: --help prints usage and exits 0; --config FILE is read
 * first, then every flag overrides it; --print-config then prints the
 * result (settings_print) and exits 0. Any error prints
 * "PROG: error: ..." and the usage, and exits 2. */
void settings_parse_args(int argc, char **argv, const struct setting *tbl,
			 size_t n, void *base, const struct setting_flag *flags,
			 size_t nflags, const char *prog, const char *usage);
/* What settings_parse_args does, minus --help and the exits: reads the
 * --config file, then the flags, into base; *print tells whether
 * --print-config was given. 0, or -1 with the reason (a re-read of the
 * configuration while running). */
int settings_read_args(int argc, char **argv, const struct setting *tbl,
		       size_t n, void *base, const struct setting_flag *flags,
		       size_t nflags, bool *print, char *err, size_t errlen);

#endif
