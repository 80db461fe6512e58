/* main.c - sparkpilot-scheduler: flags, start-up and orderly shutdown. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>

#include "admin.h"
#include "agentsvc.h"
#include "backup.h"
#include "config.h"
#include "core.h"
#include "keyreg.h"
#include "metrics.h"
#include "parse.h"
#include "keyring.h"
#include "records.h"
#include "service.h"
#include "state.h"
#include "store.h"
#include "tlscert.h"
#include "util.h"
#include "version.h"
#include "wire.h"

/* How long a stop waits for the agent socket to close. */
#define AGENT_CLOSE_MS 5000

static const char usage[] =
	"usage: sparkpilot-scheduler [--config FILE] [--data-dir DIR] "
	"[--admin-socket PATH]\n"
	"                            [--listen URL] [--metrics-listen URL] "
	"[--log-level LEVEL]\n"
	"                            [--tls-cert PEM] [--tls-key PEM] "
	"[--tls-ca PEM]\n"
	"       sparkpilot-scheduler [--config FILE] [flags] --print-config\n"
	"       sparkpilot-scheduler [--config FILE] [--data-dir DIR] "
	"--restore-from BACKUP_DIR[:ID]\n"
	"       sparkpilot-scheduler --version | --help\n";

/* Flags override the config file, so the file is read first. */
static void parse_flags(int argc, char **argv, struct sched_config *cfg)
{
	char err[256];

	version_flag(argc, argv, "sparkpilot-scheduler",
		     "store format " SP_STR(STORE_FORMAT_VERSION)
		     ", agent protocol " SP_STR(WIRE_VERSION));
	config_parse_args(cfg, argc, argv, usage);
	if (config_validate(cfg, err, sizeof(err)) ||
	    config_resolve(cfg, err, sizeof(err))) {
		fprintf(stderr, "sparkpilot-scheduler: error: %s\n%s", err,
			usage);
		exit(2);
	}
}

/* --restore-from BACKUP_DIR[:ID] (or =...), taken out of argv: it is no
 * setting, and a reload must not see it. NULL when not given. */
static const char *take_restore_flag(int *argc, char **argv)
{
	const char *spec = NULL;
	int k = 1;

	for (int i = 1; i < *argc; i++) {
		if (!strncmp(argv[i], "--restore-from=", 15)) {
			spec = argv[i] + 15;
		} else if (!strcmp(argv[i], "--restore-from")) {
			if (i + 1 == *argc || !strncmp(argv[i + 1], "--", 2)) {
				fprintf(stderr, "sparkpilot-scheduler: error: "
					"option '--restore-from' needs a "
					"value\n%s", usage);
				exit(2);
			}
			spec = argv[++i];
		} else {
			argv[k++] = argv[i];
		}
	}
	argv[k] = NULL;
	*argc = k;
	return spec;
}

/* Restores a backup into cfg's data dir (backup.h) and says so: the exit
 * status, 0, or 2 with one line naming the problem. */
static int restore(const char *spec, const struct sched_config *cfg)
{
	const char *colon = strrchr(spec, ':');
	char dir[4096], err[1024], when[40];
	struct backup_info info;
	uint64_t id = 0;
	int64_t t0 = time_mono_ms();

	/* DIR:ID when what follows the last colon is a number; a colon in
	 * a directory's name is kept otherwise */
	snprintf(dir, sizeof(dir), "%s", spec);
	if (colon && colon[1] && strspn(colon + 1, "0123456789") ==
					 strlen(colon + 1)) {
		if (parse_u64(colon + 1, 1, UINT32_MAX, &id, err,
			      sizeof(err))) {
			fprintf(stderr, "sparkpilot-scheduler: error: "
				"--restore-from: backup id %s\n", err);
			return 2;
		}
		dir[colon - spec] = '\0';
	}
	if (!dir[0]) {
		fprintf(stderr, "sparkpilot-scheduler: error: --restore-from: "
			"no backup directory given\n");
		return 2;
	}
	if (backup_restore(dir, (uint32_t)id, cfg->data_dir, &info, err,
			   sizeof(err))) {
		fprintf(stderr, "sparkpilot-scheduler: error: %s\n", err);
		return 2;
	}
	time_format_iso(info.time_ms, when, sizeof(when));
	printf("restored backup %u (taken %s, %u files, %llu bytes) from '%s' "
	       "into '%s' in %lld ms\n",
	       info.id, when, info.files, (unsigned long long)info.size, dir,
	       cfg->data_dir, (long long)(time_mono_ms() - t0));
	return 0;
}

/* The tenants' data keys (keyring.h), for the store to seal with: the
 * master key outside the data dir, the keyring in it. A store of the
 * sealing format must come with its keyring. Dies with one line. */
static struct keyring *open_keyring(const struct sched_config *cfg,
				    struct store *store)
{
	char path[600], err[1024];
	size_t n = strlen(cfg->data_dir);
	struct keyring *kr;
	uint32_t was = store_opened_format(store);

	config_master_key(cfg, path, sizeof(path));
	while (n > 1 && cfg->data_dir[n - 1] == '/')
		n--;
	if (!strncmp(path, cfg->data_dir, n) && path[n] == '/')
		die("master_key_file '%s' is inside the data dir: keep it "
		    "apart (a copy of the data dir would carry its key)", path);
	kr = keyring_load(path, cfg->data_dir, was >= STORE_FORMAT_KEYRING,
			  err, sizeof(err));
	if (!kr)
		die("%s", err);
	/* a copy beside the backups, in a backup dir fit for them only; a
	 * backup dir not made yet gets it with the first backup */
	if (cfg->backup_dir[0] && access(cfg->backup_dir, F_OK) == 0 &&
	    (backup_check_dir(cfg->backup_dir, cfg->data_dir, err,
			      sizeof(err)) ||
	     keyring_set_copy(kr, cfg->backup_dir, err, sizeof(err))))
		log_warn("no copy of the keyring in backup_dir: %s", err);
	store_set_keyring(store, kr);
	return kr;
}

/* Every tenant has a data key (a store upgraded from format 4 gets them
 * here; a tenant whose key was destroyed gets a new one for new data). */
static int tenant_keys(struct keyring *kr, struct sched_state *st, char *err,
		       size_t errlen)
{
	for (size_t i = 0; i < st->tenants.n; i++) {
		const struct tenant *t = st->tenants.v[i];
		if (keyring_ensure(kr, t->name, time_now_ms(), err, errlen))
			return -1;
	}
	return 0;
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
	struct keyring *kr;
	struct sched *core;
	struct conntable_limits agent_lim, admin_lim;
	struct tlscert tc = { 0 };
	struct service svc = { 0 };
	char err[512];
	sigset_t sigs;
	int sig;

	const char *restore_from = take_restore_flag(&argc, argv);

	config_defaults(&cfg);
	parse_flags(argc, argv, &cfg);
	log_setup("sparkpilot-scheduler", service_log_level(cfg.log_level));
	if (restore_from)
		return restore(restore_from, &cfg);
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
	kr = open_keyring(&cfg, store);
	t_load = time_mono_ms();
	sd_notify(0, "STATUS=loading runs, tenants and agents from the store");
	state_init(&st);
	/* ended runs older than this stay in the store (runstore.h); the
	 * budget guard's window is refilled from the runs loaded */
	int64_t keep_s = cfg.ended_runs_in_memory_s > cfg.guard_window_s
				 ? cfg.ended_runs_in_memory_s
				 : cfg.guard_window_s;
	st.stored_before_ms = time_now_ms() - keep_s * 1000;
	st.key_horizon_ms = time_now_ms() - cfg.idempotency_ttl_s * 1000;
	if (records_load(store, &st, err, sizeof(err)))
		die("cannot load the store: %s", err);
	if (tenant_keys(kr, &st, err, sizeof(err)))
		die("%s", err);
	/* what the state held at load: the core thread owns it from now on */
	size_t ntenants = st.tenants.n, nenvs = st.envs.n,
	       nagents = st.agents.n, nruns = st.nruns;
	unsigned long long nstored = st.runs_stored;
	keys = keyreg_new();
	t_core = time_mono_ms();
	core = core_start(store, &st, &cfg, keys);
	if (!core)
		die("cannot start the core thread");
	log_info("start: store opened in %lld ms, %zu runs loaded in %lld ms, "
		 "queues built in %lld ms; %llu ended runs left in the store",
		 (long long)(t_load - t_open), nruns,
		 (long long)(t_core - t_load),
		 (long long)(time_mono_ms() - t_core), nstored);
	sd_notifyf(0, "STATUS=%zu runs loaded; opening the listeners", nruns);
	if (sd_watchdog_enabled(0, &wd_usec) > 0) {
		/* half the interval, as sd_watchdog_enabled(3) advises */
		core_watchdog(core, (int64_t)(wd_usec / 2000), watchdog_ping);
		log_info("watchdog: the core thread pings every %llu ms",
			 (unsigned long long)(wd_usec / 2000));
	}
	if (service_conn_limits(&cfg, true, &agent_lim, &admin_lim, err,
				sizeof(err)))
		die("%s", err);
	if (url_scheme(cfg.listen, NULL) == 1 &&
	    service_load_tls(&cfg, &tc, err, sizeof(err)))
		die("%s", err);
	svc.core = core;
	svc.agents = agentsvc_start(&cfg, tc.cert ? &tc : NULL, &agent_lim,
				    core, keys, err, sizeof(err));
	if (!svc.agents)
		die("%s", err);
	memcpy(svc.cert_sha256, tc.sha256, sizeof(svc.cert_sha256));
	tlscert_release(&tc);
	socket_dir(cfg.admin_socket);
	svc.admin = admin_start(cfg.admin_socket, &admin_lim, core, err,
				sizeof(err));
	if (!svc.admin)
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
	svc.applied = xmalloc(sizeof(*svc.applied));
	*svc.applied = cfg;
	while (!sigwait(&sigs, &sig) && sig == SIGHUP)
		service_reload(&svc, argc, argv);
	sd_notify(0, "STOPPING=1\nSTATUS=stopping");
	log_info("signal %d: shutting down", sig);
	admin_stop(svc.admin);
	if (agentsvc_close_within(svc.agents, AGENT_CLOSE_MS)) {
		/* Every acknowledged change is synced already: stopping
		 * without the socket's last cleanup loses nothing. */
		log_warn("the agent socket did not close within %d ms (a "
			 "libnng 1.5 shutdown race): stopping without it",
			 AGENT_CLOSE_MS);
		core_stop(core);
		store_close(store);
		log_info("stopped");
		_exit(0);
	}
	core_stop(core);
	free(svc.applied);
	metrics_stop(metrics);
	agentsvc_free(svc.agents);
	admin_free(svc.admin);
	store_close(store);
	keyring_free(kr);
	state_release(&st);
	keyreg_free(keys);
	log_info("stopped");
	return 0;
}
