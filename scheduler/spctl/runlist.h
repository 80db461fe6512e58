/*
 * runlist.h - spctl run list (runlist.c): every page up to --limit rows,
 * and --watch [--interval SECONDS] [--watch-count N].
 */
#ifndef SP_SPCTL_RUNLIST_H
#define SP_SPCTL_RUNLIST_H

#include <stdbool.h>

struct runlist_opts {
	bool json;
	int timeout_ms;
};

/* Runs `run list` with argv (from "run" on) over the admin connection fd
 * and prints the rows (a table, or JSON with o->json: one object with
 * every page's rows, or under --watch one object per line per change).
 * Returns the exit status. */
int runlist_run(int fd, const struct runlist_opts *o, int argc, char **argv);

#endif
