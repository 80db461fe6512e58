/*
 * worker.h - work the core thread must not wait for, because it blocks
 * on files for seconds (a backup copies the whole store): it runs on a
 * thread of its own, and its end comes back to the core as an event.
 *
 *   core thread               worker thread
 *   worker_start(run, finish)
 *     ... turns go on ...     run(arg)            (no state, no batch)
 *                             core_post(EV_WORKER)
 *   worker_finish(ev):
 *     join, finish(c, arg)    (the state, replies: a turn like any other)
 *
 * run touches nothing of the core's; it reads only what arg holds (a
 * copy of what it needs) and what is safe from any thread (the RocksDB
 * handle). finish runs on the core thread, once, and owns arg from then
 * on. While a worker runs the core keeps the store open (no reopen after
 * a failed write until it ends: diskguard.c), and core_stop waits for
 * every worker to end before it returns, so the store outlives them.
 */
#ifndef SP_WORKER_H
#define SP_WORKER_H

#include <stdbool.h>
#include <stddef.h>

struct sched;
struct event;

/* On the worker thread. */
typedef void (*worker_run_fn)(void *arg);
/* On the core thread, after run returned; stopping: the core is
 * shutting down (the reply can still be sent, nothing more started). */
typedef void (*worker_finish_fn)(struct sched *c, void *arg, bool stopping);

/* Starts run(arg) on a new thread; finish(c, arg) follows on the core
 * thread. Core thread. 0, or -1 if no thread could be started (then
 * nothing runs, and arg is still the caller's). */
int worker_start(struct sched *c, worker_run_fn run, worker_finish_fn finish,
		 void *arg);
/* Core thread: a worker's EV_WORKER event: joins its thread (which ends
 * right after posting), calls its finish and frees ev. */
void worker_finish(struct sched *c, struct event *ev, bool stopping);
/* Core thread: how many workers run (their end not yet finished). */
size_t worker_count(const struct sched *c);
/* At core_stop, after the core thread ended: waits for every worker's
 * thread to end (each has then posted its event to the inbox). */
void worker_join_all(struct sched *c);

#endif
