/* worker.c - blocking work on threads of its own, finished by the core. */
#include "worker.h"

#include <pthread.h>
#include <stdlib.h>

#include "core.h"
#include "sched_ctx.h"
#include "util.h"

struct worker {
	pthread_t thread;
	bool joined;
	struct sched *c;
	worker_run_fn run;
	worker_finish_fn finish;
	void *arg;
	struct event *ev; /* posted when run returns; made up front, so the
			   * thread allocates nothing after the work */
};

static void *worker_main(void *p)
{
	struct worker *w = p;

	w->run(w->arg);
	/* the last thing this thread does: the core may join it from now */
	core_post(w->c, w->ev);
	return NULL;
}

int worker_start(struct sched *c, worker_run_fn run, worker_finish_fn finish,
		 void *arg)
{
	struct worker *w = xcalloc(1, sizeof(*w));

	w->c = c;
	w->run = run;
	w->finish = finish;
	w->arg = arg;
	w->ev = event_new(EV_WORKER);
	w->ev->work = w;
	if (pthread_create(&w->thread, NULL, worker_main, w)) {
		event_free(w->ev);
		free(w);
		return -1;
	}
	ptrvec_push(&c->workers, w);
	return 0;
}

void worker_finish(struct sched *c, struct event *ev, bool stopping)
{
	struct worker *w = ev->work;

	if (!w->joined) /* it ends right after its post: no wait */
		pthread_join(w->thread, NULL);
	ptrvec_remove(&c->workers, w);
	w->finish(c, w->arg, stopping);
	event_free(ev);
	free(w);
}

size_t worker_count(const struct sched *c)
{
	return c->workers.n;
}

void worker_join_all(struct sched *c)
{
	for (size_t i = 0; i < c->workers.n; i++) {
		struct worker *w = c->workers.v[i];
		if (w->joined)
			continue;
		log_info("stopping: waiting for a worker thread to finish (a "
			 "backup command in progress)");
		pthread_join(w->thread, NULL);
		w->joined = true;
	}
}
