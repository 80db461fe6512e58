/*
 * cmd_usage_by.h - `usage --by job|user|env|day` (cmd_usage_by.c), the
 * grouped form of the usage report cmd_usage.c answers.
 */
#ifndef SP_CMD_USAGE_BY_H
#define SP_CMD_USAGE_BY_H

#include <stdint.h>

#include "admin_cmds.h"

/* What `usage` was asked for, checked: the tenant (NULL: every tenant the
 * caller sees), the days [from, to] (inclusive), their text ("" when not
 * given) and the format (table, json or csv). Borrowed strings. */
struct usage_span {
	const char *tenant;
	int32_t from, to;
	char from_txt[16], to_txt[16];
	const char *format;
};

/* The grouping --by names (0 job, 1 user, 2 env, 3 day), or -1. */
int usage_by_parse(const char *s);
/* Answers `usage` grouped by `by` (usage_by_parse) into r. */
int cmd_usage_by(struct sched *c, const struct cmd_args *a, struct reply *r,
		 const struct usage_span *sp, int by);

#endif
