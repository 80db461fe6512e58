/*
 * preflight.h - what the agent checks and reports before it takes work:
 * spark-submit found and runnable (and its version), free disk space in the
 * state dir. The scheduler adds the clock skew from the message timestamp
 * and decides whether the environment is ready.
 */
#ifndef SP_PREFLIGHT_H
#define SP_PREFLIGHT_H

#include <stdbool.h>
#include <stdint.h>

#include "agent_config.h"

struct preflight {
	bool spark_ok;
	char spark_version[64];
	char spark_error[256];
	int64_t disk_free_mb;
};

/* Runs `spark-submit --version` (30 s at most) and statvfs(state_dir). */
void preflight_run(const struct agent_config *cfg, struct preflight *p);
/* Finds "version X.Y.Z" in spark-submit's banner; false if absent. */
bool preflight_parse_version(const char *text, char *out, size_t len);

#endif
