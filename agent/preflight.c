/* preflight.c - checks an agent reports before it may take work. */
#include "preflight.h"

#include <ctype.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/wait.h>

#include "runner.h"
#include "strbuf.h"
#include "util.h"

#define VERSION_TIMEOUT_MS 30000

bool preflight_parse_version(const char *text, char *out, size_t len)
{
	const char *p = text;
	while ((p = strstr(p, "version "))) {
		const char *v = p + strlen("version ");
		size_t n = 0;
		while (v[n] && (isdigit((unsigned char)v[n]) || v[n] == '.'))
			n++;
		if (n > 0 && isdigit((unsigned char)v[0]) && n < len) {
			memcpy(out, v, n);
			out[n] = '\0';
			return true;
		}
		p = v;
	}
	return false;
}

static void collect(void *ctx, int stream, const char *line, size_t len)
{
	struct strbuf *sb = ctx;
	(void)stream;
	if (sb->len < 65536) {
		strbuf_add(sb, line, len);
		strbuf_addch(sb, '\n');
	}
}

static void check_spark(const struct agent_config *cfg, struct preflight *p)
{
	char *argv[] = { (char *)cfg->spark_submit, (char *)"--version", NULL };
	struct runner_spec spec = { 0 };
	struct strbuf out = STRBUF_INIT;
	struct runner *r;
	char workdir[600];
	int status = 0;
	enum runner_end why;

	snprintf(workdir, sizeof(workdir), "%s/work", cfg->state_dir);
	spec.path = cfg->spark_submit;
	spec.argv = argv;
	spec.workdir = workdir;
	spec.timeout_ms = VERSION_TIMEOUT_MS;
	spec.grace_ms = 1000;
	r = runner_start(&spec, p->spark_error, sizeof(p->spark_error));
	if (!r)
		return;
	for (;;) {
		struct pollfd pfd[2];
		int n = 0;
		for (int s = 1; s <= 2; s++)
			if (runner_fd(r, s) >= 0)
				pfd[n++] = (struct pollfd){ runner_fd(r, s),
							    POLLIN, 0 };
		poll(pfd, (nfds_t)n, 100);
		for (int s = 1; s <= 2; s++)
			if (runner_fd(r, s) >= 0)
				runner_read(r, s, collect, &out);
		if (runner_poll(r, time_mono_ms(), &status, &why))
			break;
	}
	runner_free(r);
	if (why == RUNNER_TIMED_OUT)
		snprintf(p->spark_error, sizeof(p->spark_error),
			 "'%s --version' did not finish in %d s",
			 cfg->spark_submit, VERSION_TIMEOUT_MS / 1000);
	else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		snprintf(p->spark_error, sizeof(p->spark_error),
			 "'%s --version' failed (status %d)", cfg->spark_submit,
			 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	else if (!preflight_parse_version(out.buf, p->spark_version,
					  sizeof(p->spark_version)))
		snprintf(p->spark_error, sizeof(p->spark_error),
			 "'%s --version' printed no Spark version",
			 cfg->spark_submit);
	else
		p->spark_ok = true;
	strbuf_release(&out);
}

void preflight_run(const struct agent_config *cfg, struct preflight *p)
{
	struct statvfs vfs;

	memset(p, 0, sizeof(*p));
	check_spark(cfg, p);
	if (statvfs(cfg->state_dir, &vfs) == 0)
		p->disk_free_mb = (int64_t)((uint64_t)vfs.f_bavail *
					    vfs.f_frsize / (1024 * 1024));
}
