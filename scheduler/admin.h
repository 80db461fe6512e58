/*
 * admin.h - the admin socket (docs/architecture.md): a Unix stream socket, mode
 * 0660, one command per line in and one JSON object per line out, in order.
 * The core thread does the socket I/O between its turns (core_set_io) and
 * runs the commands.
 */
#ifndef SP_ADMIN_H
#define SP_ADMIN_H

#include <stddef.h>

struct sched;
struct admin_server;
struct conntable_limits;

#define ADMIN_MAX_LINE (1024 * 1024)
/* Admin connections only root (uid 0) may take, so that no other user
 * can lock root out. */
#define ADMIN_ROOT_RESERVE 16

/* Binds path (refusing if another scheduler answers on it, replacing a stale
 * socket file) and starts serving, holding connections to *lim (copied):
 * lim->max_total in all, lim->reserved of them for root, lim->max_per_source
 * per uid other than root; one with nothing in flight and no traffic for
 * lim->idle_timeout_ms is closed. A connection past a cap, or idle too
 * long, gets one JSON error line before it is closed. Counters go to
 * connstats. NULL with a reason in err on failure. */
struct admin_server *admin_start(const char *path,
				 const struct conntable_limits *lim,
				 struct sched *core, char *err, size_t errlen);
/* New caps and idle timeout (a reload), taken by the core thread at its
 * next wake-up (any thread): new connections are admitted under them; connections over a
 * lowered cap stay open. */
void admin_set_limits(struct admin_server *a,
		      const struct conntable_limits *lim);
/* Has the core thread stop serving the socket, then closes every
 * connection and the socket file. Call before core_stop; events still in
 * the core come back to the server. */
void admin_stop(struct admin_server *a);
/* Frees the server once the core has stopped (no event is out anymore). */
void admin_free(struct admin_server *a);

#endif
