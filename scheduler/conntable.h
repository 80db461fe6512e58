/*
 * conntable.h - who holds a connection and which one to let go, for the
 * agent port and the admin socket alike: a cap in total and per source
 * (an address, a uid), slots that only a privileged peer may take, a
 * deadline for a new connection's first authenticated message, an idle
 * timeout, and the split of the process's file descriptors between them.
 *
 * No I/O, no locks, no clock of its own: the transport calls it under its
 * own lock with the monotonic time, and closes the connections it names.
 * Connections are named by the transport's 64-bit id (an nng pipe id, a
 * counter); each may carry a pointer the table does not own.
 *
 * Shedding rule: when a new connection would pass a cap, the oldest
 * unauthenticated connection of the same source (per-source cap) or of
 * all sources (total cap) that has nothing in flight is closed to make
 * room; if there is none, the new connection is refused. Authenticated
 * connections are never shed, only timed out when idle.
 */
#ifndef SP_CONNTABLE_H
#define SP_CONNTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hmap.h"

struct conntable_limits {
	size_t max_total;       /* connections at once */
	size_t max_per_source;  /* per source; privileged peers are exempt */
	size_t reserved;        /* of max_total, only for privileged peers */
	int64_t auth_timeout_ms; /* life of an unauthenticated one; 0: none */
	int64_t idle_timeout_ms; /* an authenticated one with nothing in
				  * flight and no traffic; 0: none */
};

/* Counters: open and authenticated now; the rest since the start. */
struct conntable_stats {
	uint64_t open, authenticated;
	uint64_t accepted, refused, shed, auth_timeouts, idle_timeouts;
};

enum conntable_why {
	CONNTABLE_AUTH_TIMEOUT, /* no authenticated message in time */
	CONNTABLE_IDLE_TIMEOUT, /* authenticated, but idle too long */
};

/* An intrusive doubly linked list (circular, with a sentinel). */
struct conntable_link {
	struct conntable_link *prev, *next;
};

struct conntable {
	struct conntable_limits lim;
	struct hmap byid;    /* 8-byte id -> entry */
	struct hmap sources; /* source key -> its count and unauthenticated */
	struct conntable_link unauth; /* unauthenticated, oldest first */
	struct conntable_link idle;   /* authenticated, nothing in flight,
				       * least recently active first */
	struct conntable_stats stats;
	uint64_t warned_drops; /* shed + refused at the last warning */
	int64_t warn_next;     /* no warning before this time */
};

#define CONNTABLE_MAX_SOURCE 64 /* bytes of a source key, with the NUL */

void conntable_init(struct conntable *t, const struct conntable_limits *lim);
/* Replaces the limits: admission and deadlines follow them from now on;
 * nothing already admitted is closed for a lower cap. */
void conntable_set_limits(struct conntable *t,
			  const struct conntable_limits *lim);
/* Forgets every connection (closes nothing). */
void conntable_release(struct conntable *t);

/* Decides on a new connection id from source (truncated to
 * CONNTABLE_MAX_SOURCE - 1 bytes) at now. Returns 0 when it is admitted:
 * the ids in victims[0 .. *nvictims) (at most 2) were shed to make room,
 * are forgotten already, and the caller must close them. Returns -1 when
 * it is refused (counted; nothing shed). An admin peer whose uid the kernel
 * vouches for is admitted as authenticated; an agent connection is not
 * until conntable_authenticate. data is the caller's (conntable_get). */
int conntable_admit(struct conntable *t, uint64_t id, const char *source,
		    bool privileged, bool authenticated, void *data,
		    int64_t now, uint64_t victims[2], size_t *nvictims);
/* Forgets id (closed by its peer or by the caller). false if unknown. */
bool conntable_remove(struct conntable *t, uint64_t id);
/* The caller's pointer for id, or NULL if unknown. */
void *conntable_get(const struct conntable *t, uint64_t id);
/* A request arrived on id: while one is in flight, id is neither idle nor
 * shed nor timed out. */
void conntable_busy(struct conntable *t, uint64_t id, int64_t now);
/* One request of id was answered (or dropped) at now. */
void conntable_done(struct conntable *t, uint64_t id, int64_t now);
/* Traffic on id at now: its idle time starts again. */
void conntable_touch(struct conntable *t, uint64_t id, int64_t now);
/* id sent a message that verifies: no deadline anymore, never shed. */
void conntable_authenticate(struct conntable *t, uint64_t id, int64_t now);
/* Takes the next connection past its deadline at now out of the table:
 * true with its id, the caller's pointer and why; false if none is due.
 * Connections with a request in flight are never due. */
bool conntable_expire(struct conntable *t, int64_t now, uint64_t *id,
		      void **data, enum conntable_why *why);
/* The earliest time conntable_expire may find something; INT64_MAX if
 * nothing can expire. */
int64_t conntable_next_deadline(const struct conntable *t);
/* At most once per interval_ms, true when connections were shed or
 * refused since the last time it was true; *drops says how many. For a
 * rate-limited warning. */
bool conntable_warn_due(struct conntable *t, int64_t now, int64_t interval_ms,
			uint64_t *drops);

/* ---- file descriptor budget ---- */

/* Descriptors kept for everything but connections: the store (RocksDB
 * keeps up to 512 table files open, plus its WAL, MANIFEST, LOG and LOCK),
 * the listeners, eventfds and nng's pollers, and connections still in
 * nng's handshake. */
#define CONNTABLE_FD_RESERVE 640
/* The fewest connections of each kind the budget gives. */
#define CONNTABLE_MIN_AGENT_CONNS 64
#define CONNTABLE_MIN_ADMIN_CONNS 32

struct conntable_budget {
	size_t agent_conns; /* agent pipes at once */
	size_t admin_conns; /* admin connections at once */
	bool clamped;       /* less than asked for: nofile is too low */
};

/* Splits nofile descriptors (RLIMIT_NOFILE) between agent and admin
 * connections, after CONNTABLE_FD_RESERVE: the admin socket gets what it
 * asks for if the agents keep their minimum (else a quarter of the rest),
 * the agents what they ask for up to what remains. -1 with a reason in err
 * when nofile cannot give each its minimum. */
int conntable_budget(uint64_t nofile, size_t agent_want, size_t admin_want,
		     struct conntable_budget *out, char *err, size_t errlen);

#endif
