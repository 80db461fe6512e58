/* fuzz_sched_config.c - the scheduler's config file (scheduler/config.c
 * over common/conf.c and common/settings.c): the input is written as the
 * file and loaded over the defaults, then the result is validated. A file
 * is either read or refused with one line naming the place. */
#include "config.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fz_as_file("scheduler.conf", data, size);
	struct sched_config c;
	char err[1024] = "";

	config_defaults(&c);
	if (config_load(&c, path, err, sizeof(err)) == 0)
		config_validate(&c, err, sizeof(err));
	else
		fz_check_refusal(err, path);
	return 0;
}
