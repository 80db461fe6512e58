/* fuzz_agent_config.c - the agent's config file (agent/agent_config.c over
 * common/conf.c and common/settings.c, redaction rules included): the
 * input is written as the file and loaded over the defaults, then the
 * result is validated. A file is either read or refused with one line
 * naming the place. */
#include "agent_config.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path;
	struct agent_config c;
	char err[1024] = "";

	path = fz_as_file("agent.conf", data, size);

	agent_config_defaults(&c);
	if (agent_config_load(&c, path, err, sizeof(err)) == 0)
		agent_config_validate(&c, err, sizeof(err));
	else
		fz_check_refusal(err, path);
	return 0;
}
