/* main.c - sparkpilot-scheduler: flags, start-up and orderly shutdown. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <systemd/sd-daemon.h>

#include "admin.h"
#include "agentsvc.h"
#include "config.h"
#include "conntable.h"
#include "core.h"
#include "keyreg.h"
#include "metrics.h"
#include "records.h"
#include "settings.h"
#include "state.h"
#include "store.h"
#include "util.h"
#include "version.h"
#include "wire.h"

static const char usage[] =
	"usage: sparkpilot-scheduler [--config FILE] [--data-dir DIR] "
	"[--admin-socket PATH]\n"
	"                            [--listen URL] [--metrics-listen URL] "
	"[--log-level LEVEL]\n"
	"                            [--tls-cert PEM] [--tls-key PEM] "
	"[--tls-ca PEM]\n"
	"       sparkpilot-scheduler [--config FILE] [flags] --print-config\n"
	"       sparkpilot-scheduler --version | --help\n";

/* Flags override the config file, so the file is read first. */
static void parse_flags(int argc, char **argv, struct sched_config *cfg)
{
	char err[256];

	version_flag(argc, argv, "sparkpilot-scheduler",
		     "store format " SP_STR(STORE_FORMAT_VERSION)
		     ", agent protocol " SP_STR(WIRE_VERSION));
	config_parse_args(cfg, argc, argv, usage);
	if (config_validate(cfg, err, sizeof(err))) {
		fprintf(stderr, "sparkpilot-scheduler: error: %s\n%s", err,
			usage);
		exit(2);
	}
}

static enum log_level level_of(const char *s)
{
	if (!strcmp(s, "debug"))
		return LOG_DEBUG;
	if (!strcmp(s, "warn"))
		return LOG_WARN;
	if (!strcmp(s, "error"))
		return LOG_ERROR;
	return LOG_INFO;
}

/* SIGHUP: the configuration is read again as a start would read it (the
 * same --config file and flags). Settings a reload may change (config_live:
 * the log level, queue and retry limits, the disk floor, ...) apply at
 * once, each logged with its old and new value; any other change is named
 * and waits for a restart. A file that does not load, or does not
 * validate, is refused in one line and nothing changes. *applied holds what
 * is in force; the core reads it (or the settings it started with). */
static void reload(struct sched *core, struct sched_config **applied,
		   int argc, char **argv)
{
	struct sched_config *n = xmalloc(sizeof(*n));
	struct sched_config *next = xmalloc(sizeof(*next));
	struct settings_doc doc;
	const char *changed[64];
	char err[1024], from[128], to[128];
	size_t k, live = 0;

	sd_notify(0, "RELOADING=1\nSTATUS=reading the configuration again");
	*next = **applied;
	if (config_reread(n, argc, argv, err, sizeof(err))) {
		log_error("reload refused: %s; the running settings are kept",
			  err);
		goto out;
	}
	config_describe(&doc);
	k = settings_changed(&doc, *applied, n, changed, ARRAY_SIZE(changed));
	if (!k)
		log_info("reload: no setting changed");
	for (size_t i = 0; i < k; i++) {
		if (!config_live(changed[i])) {
			log_warn("reload: %s changed; it takes effect at the "
				 "next restart",
				 changed[i]);
			continue;
		}
		settings_format(&doc, *applied, changed[i], from, sizeof(from));
		settings_format(&doc, n, changed[i], to, sizeof(to));
		settings_copy_key(&doc, next, n, changed[i]);
		log_info("reload: %s %s -> %s", changed[i], from, to);
		live++;
	}
	if (live && config_validate(next, err, sizeof(err))) {
		log_error("reload refused: %s; the running settings are kept",
			  err);
		goto out;
	}
	if (live) {
		log_set_level(level_of(next->log_level));
		core_reconfigure(core, next);
		/* the core has let go of the settings it read before */
		free(*applied);
		*applied = next;
		next = NULL;
	}
out:
	free(n);
	free(next);
	sd_notify(0, "READY=1\nSTATUS=ready; configuration read again");
}

static void socket_dir(const char *path)
{
	char dir[512];
	const char *slash = strrchr(path, '/');
	if (!slash || slash == path)
		return;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if (mkdir_p(dir, 0750))
		die("cannot create '%s': %s", dir, strerror(errno));
}

/* Raises the open files limit to its hard limit and splits it between
 * agent and admin connections, keeping room for the store (conntable.h). */
static void conn_limits(const struct sched_config *cfg,
			struct conntable_limits *agents,
			struct conntable_limits *admin)
{
	struct rlimit rl;
	struct conntable_budget b;
	char err[256];

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		die("cannot read the open files limit: %s", strerror(errno));
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			die("cannot raise the open files limit to %llu: %s",
			    (unsigned long long)rl.rlim_max, strerror(errno));
	}
	if (conntable_budget(rl.rlim_cur, (size_t)cfg->agent_conns_max,
			     (size_t)cfg->admin_conns_max, &b, err,
			     sizeof(err)))
		die("%s", err);
	if (b.clamped)
		log_warn("the open files limit (%llu) holds %zu agent and %zu "
			 "admin connections, fewer than agent_conns_max and "
			 "admin_conns_max: raise LimitNOFILE",
			 (unsigned long long)rl.rlim_cur, b.agent_conns,
			 b.admin_conns);
	*agents = (struct conntable_limits){
		.max_total = b.agent_conns,
		.max_per_source = (size_t)cfg->agent_conns_per_source,
		.auth_timeout_ms = cfg->agent_auth_timeout_ms,
		.idle_timeout_ms = cfg->agent_idle_timeout_ms,
	};
	*admin = (struct conntable_limits){
		.max_total = b.admin_conns,
		.max_per_source = (size_t)cfg->admin_conns_per_uid,
		.reserved = ADMIN_ROOT_RESERVE,
		.idle_timeout_ms = cfg->admin_idle_timeout_ms,
	};
	log_info("connections: open files limit %llu; up to %zu agent "
		 "connections (%zu per address), %zu admin (%zu per uid, "
		 "%d kept for root)",
		 (unsigned long long)rl.rlim_cur, b.agent_conns,
		 agents->max_per_source, b.admin_conns, admin->max_per_source,
		 ADMIN_ROOT_RESERVE);
}

/* systemd's watchdog, pinged from the core thread's loop (core_watchdog).
 * sd_notify does nothing when not started by systemd with Type=notify. */
static void watchdog_ping(void)
{
	sd_notify(0, "WATCHDOG=1");
}

int main(int argc, char **argv)
{
	struct sched_config cfg;
	struct sched_state st;
	struct store *store;
	struct keyreg *keys;
	struct sched *core;
	struct agentsvc *agents;
	struct admin_server *admin;
	struct conntable_limits agent_lim, admin_lim;
	char err[512];
	sigset_t sigs;
	int sig;

	config_defaults(&cfg);
	parse_flags(argc, argv, &cfg);
	log_setup("sparkpilot-scheduler", level_of(cfg.log_level));
	/* Block the stop signals before any thread starts, so that only
	 * sigwait() below sees them. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (mkdir_p(cfg.data_dir, 0700))
		die("cannot create data dir '%s': %s", cfg.data_dir,
		    strerror(errno));
	/* Restart time matters (a queue of millions): each phase is timed. */
	int64_t t_open = time_mono_ms(), t_load, t_core;
	uint64_t wd_usec = 0;
	sd_notifyf(0, "STATUS=opening the store in %s", cfg.data_dir);
	struct store_options so = { .max_wal_mb = cfg.store_max_wal_mb };
	store = store_open_with(cfg.data_dir, &so, err, sizeof(err));
	if (!store)
		die("%s", err);
	t_load = time_mono_ms();
	sd_notify(0, "STATUS=loading runs, tenants and agents from the store");
	state_init(&st);
	if (records_load(store, &st, err, sizeof(err)))
		die("cannot load the store: %s", err);
	/* what the state held at load: the core thread owns it from now on */
	size_t ntenants = st.tenants.n, nenvs = st.envs.n,
	       nagents = st.agents.n, nruns = st.nruns;
	keys = keyreg_new();
	t_core = time_mono_ms();
	core = core_start(store, &st, &cfg, keys);
	if (!core)
		die("cannot start the core thread");
	log_info("start: store opened in %lld ms, %zu runs loaded in %lld ms, "
		 "queues built in %lld ms",
		 (long long)(t_load - t_open), nruns,
		 (long long)(t_core - t_load),
		 (long long)(time_mono_ms() - t_core));
	sd_notifyf(0, "STATUS=%zu runs loaded; opening the listeners", nruns);
	if (sd_watchdog_enabled(0, &wd_usec) > 0) {
		/* half the interval, as sd_watchdog_enabled(3) advises */
		core_watchdog(core, (int64_t)(wd_usec / 2000), watchdog_ping);
		log_info("watchdog: the core thread pings every %llu ms",
			 (unsigned long long)(wd_usec / 2000));
	}
	conn_limits(&cfg, &agent_lim, &admin_lim);
	agents = agentsvc_start(&cfg, &agent_lim, core, keys, err, sizeof(err));
	if (!agents)
		die("%s", err);
	socket_dir(cfg.admin_socket);
	admin = admin_start(cfg.admin_socket, &admin_lim, core, err,
			    sizeof(err));
	if (!admin)
		die("%s", err);
	struct metrics *metrics = NULL;
	if (cfg.metrics_listen[0]) {
		metrics = metrics_start(cfg.metrics_listen, err, sizeof(err));
		if (!metrics)
			die("%s", err);
		core_metrics(core, metrics);
		log_info("metrics on %s/metrics", cfg.metrics_listen);
	}
	log_info("ready: %zu tenants, %zu environments, %zu agents, %zu runs; "
		 "agents on %s, admin on %s",
		 ntenants, nenvs, nagents, nruns, cfg.listen,
		 cfg.admin_socket);

	/* Ready: the store is loaded and both listeners take connections. */
	sd_notifyf(0, "READY=1\nSTATUS=ready: %zu runs, %zu agents; agents "
		      "on %s",
		   nruns, nagents, cfg.listen);

	/* What a reload changes: a copy the core is handed (it starts on
	 * cfg, which stays as it is for the threads that read it) */
	struct sched_config *applied = xmalloc(sizeof(*applied));
	*applied = cfg;
	while (!sigwait(&sigs, &sig) && sig == SIGHUP)
		reload(core, &applied, argc, argv);
	sd_notify(0, "STOPPING=1\nSTATUS=stopping");
	log_info("signal %d: shutting down", sig);
	admin_stop(admin);
	agentsvc_close(agents);
	core_stop(core);
	free(applied);
	metrics_stop(metrics);
	agentsvc_free(agents);
	admin_free(admin);
	store_close(store);
	state_release(&st);
	keyreg_free(keys);
	log_info("stopped");
	return 0;
}
