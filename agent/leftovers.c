/* leftovers.c - stopping the runs of an agent that died (leftovers.h). */
#include "leftovers.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

static void record_path(char *buf, size_t len, const char *state_dir,
			uint64_t run)
{
	snprintf(buf, len, "%s/running/%" PRIu64, state_dir, run);
}

/* The start time of pid in clock ticks since boot (field 22 of
 * /proc/PID/stat), or 0 if there is no such process. */
static unsigned long long start_time(pid_t pid)
{
	char path[64], *stat, *p;
	unsigned long long t = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	stat = read_file(path, 4096, NULL);
	/* The name (field 2) may hold spaces and parentheses: skip to its
	 * last ')', then field 3 is the first one after it. */
	p = stat ? strrchr(stat, ')') : NULL;
	for (int field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	if (p)
		t = strtoull(p + 1, NULL, 10);
	free(stat);
	return t;
}

int leftovers_record(const char *state_dir, uint64_t run, pid_t pgid)
{
	char path[600], line[64];
	int n;

	snprintf(path, sizeof(path), "%s/running", state_dir);
	if (mkdir_p(path, 0700))
		return -1;
	record_path(path, sizeof(path), state_dir, run);
	n = snprintf(line, sizeof(line), "%d %llu\n", (int)pgid,
		     start_time(pgid));
	return write_file_atomic(path, line, (size_t)n, 0600);
}

void leftovers_forget(const char *state_dir, uint64_t run)
{
	char path[600];
	record_path(path, sizeof(path), state_dir, run);
	unlink(path);
}

int leftovers_reap(const char *state_dir)
{
	char dir[600], path[900];
	struct dirent *de;
	DIR *d;
	int killed = 0;

	snprintf(dir, sizeof(dir), "%s/running", state_dir);
	if (!(d = opendir(dir)))
		return 0;
	while ((de = readdir(d))) {
		int pgid = 0;
		unsigned long long started = 0;
		char *rec;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		rec = read_file(path, 64, NULL);
		if (rec && sscanf(rec, "%d %llu", &pgid, &started) == 2 &&
		    pgid > 1 && started && start_time(pgid) == started &&
		    kill(-pgid, SIGKILL) == 0) {
			log_warn("run %s: stopped spark-submit left running by a "
				 "previous agent (process group %d); the "
				 "scheduler requeues it",
				 de->d_name, pgid);
			killed++;
		}
		free(rec);
		unlink(path);
	}
	closedir(d);
	return killed;
}
