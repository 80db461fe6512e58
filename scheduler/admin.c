/* admin.c - the admin socket's I/O, done by the core thread between its
 * turns (core_set_io): accept, read lines, post them to the core, write the
 * replies back in order right after the turn that made them; hold
 * connections to their caps and idle timeout (conntable.h), and pause
 * accepting while the process is out of file descriptors rather than spin
 * on the listener. A serial client's request and reply thus cross no
 * thread but the core's: two wake-ups a request, as in a one-thread
 * server, instead of four. */
#include "admin.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "admin_cmds.h"
#include "connstats.h"
#include "conntable.h"
#include "core.h"
#include "strbuf.h"
#include "util.h"

#define MAX_INFLIGHT 4096 /* per connection, for pipelining clients */
#define ACCEPT_BATCH 64    /* connections accepted per turn of the loop */
#define ACCEPT_PAUSE_MS 100 /* no accept for this long after EMFILE */
#define WARN_EVERY_MS 10000 /* between warnings of one kind */

struct conn {
	int fd;
	uint64_t id; /* in the connection table */
	struct access_peer peer; /* uid, gid and groups, from the kernel */
	struct strbuf in, out;
	size_t inflight;
	/* Replies go out in the order of the lines. Most come back in that
	 * order, but a deferred one (a backup, finished by a worker) and the
	 * fair queueing of a full core turn may overtake: a reply whose
	 * earlier ones are missing waits in `held`, sorted by seq. */
	uint64_t next_seq, write_seq;
	struct event *held;
	bool eof;     /* peer closed its side, or a fatal line */
	bool dead;    /* fd closed; freed when inflight reaches 0 */
};

struct admin_server {
	int lfd, wakefd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct sched *core;
	struct core_io io;   /* how the core thread serves this server */
	bool attached;       /* the core serves it (admin_stop detaches) */
	struct conn **conns;
	size_t nconns, conns_alloc;
	pthread_mutex_t lock; /* guards `completed` and `lim_next` */
	struct event *completed;
	struct conntable_limits lim_next; /* a reload's, for the core thread */
	bool lim_pending;
	/* core thread only (while attached) */
	struct conn **map;   /* the connection of each descriptor polled */
	size_t map_alloc;
	struct conn **to_write; /* connections with replies to write */
	size_t nto_write, to_write_alloc;
	struct conntable table;
	uint64_t next_id;
	int64_t accept_resume; /* accepts paused until then (monotonic) */
	int64_t accept_warn_next;
	uint64_t accept_backoffs;
	char busy_line[256];   /* the reply of a refused connection */
};

static void wake(struct admin_server *a)
{
	uint64_t one = 1;
	(void)!write(a->wakefd, &one, sizeof(one));
}

/* ev->owner points at this pair: the server and the connection. */
struct owner {
	struct admin_server *server;
	struct conn *conn;
	uint64_t seq; /* the line's place on its connection */
};

/* The finished event back to the server: the core thread writes its
 * reply after the turn (io_flush). Completed elsewhere (a shutdown's
 * refusals, after the core stopped), it waits for admin_free. */
static void admin_done(struct event *ev)
{
	struct admin_server *a = ((struct owner *)ev->owner)->server;
	bool was_empty;

	pthread_mutex_lock(&a->lock);
	was_empty = !a->completed;
	ev->next = a->completed;
	a->completed = ev;
	pthread_mutex_unlock(&a->lock);
	if (was_empty && !core_on_core_thread())
		wake(a);
}

static void post_line(struct admin_server *a, struct conn *c,
		      const char *line, size_t len, const char *fatal)
{
	struct event *ev = event_new(EV_ADMIN);
	struct owner *o = xmalloc(sizeof(*o));
	char err[256];

	o->server = a;
	o->conn = c;
	o->seq = c->next_seq++;
	ev->owner = o;
	ev->done = admin_done;
	ev->peer = c->peer;
	/* Errors found here still go through the core so that replies
	 * keep the order of the lines. */
	if (fatal)
		admin_cmds_refuse(ev, "line_too_long", fatal);
	else if (cmdline_split(line, len, &ev->cmd, err, sizeof(err)))
		admin_cmds_refuse(ev, "usage", err);
	c->inflight++;
	conntable_busy(&a->table, c->id, time_mono_ms());
	core_post(a->core, ev);
}

static void conn_lines(struct admin_server *a, struct conn *c)
{
	size_t start = 0;
	while (c->inflight < MAX_INFLIGHT && !c->eof) {
		char *nl = memchr(c->in.buf + start, '\n', c->in.len - start);
		if (!nl)
			break;
		post_line(a, c, c->in.buf + start,
			  (size_t)(nl - c->in.buf) - start, NULL);
		start = (size_t)(nl - c->in.buf) + 1;
	}
	strbuf_remove_front(&c->in, start);
	if (!c->eof && c->in.len > ADMIN_MAX_LINE) {
		post_line(a, c, NULL, 0,
			  "command line longer than 1 MiB; closing");
		c->eof = true;
		strbuf_reset(&c->in);
	}
}

static void conn_close(struct conn *c)
{
	if (!c->dead) {
		close(c->fd);
		c->dead = true;
	}
}

static void conn_read(struct admin_server *a, struct conn *c)
{
	char buf[65536];
	ssize_t n = read(c->fd, buf, sizeof(buf));
	if (n > 0) {
		conntable_touch(&a->table, c->id, time_mono_ms());
		strbuf_add(&c->in, buf, (size_t)n);
		conn_lines(a, c);
	} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		c->eof = true;
		if (n == 0 && c->in.len) /* a last line without '\n' */
			post_line(a, c, c->in.buf, c->in.len, NULL);
		strbuf_reset(&c->in);
	}
}

static void conn_write(struct admin_server *a, struct conn *c)
{
	while (c->out.len && !c->dead) {
		ssize_t n = write(c->fd, c->out.buf, c->out.len);
		if (n > 0) {
			conntable_touch(&a->table, c->id, time_mono_ms());
			strbuf_remove_front(&c->out, (size_t)n);
		} else if (n == -1 && errno == EINTR) {
			continue;
		} else {
			if (n == -1 && errno != EAGAIN)
				conn_close(c); /* peer gone: drop replies */
			return;
		}
	}
	/* The last reply of a connection that ends (its peer closed, or
	 * sent a line too long) is out: closed now, not when the poll next
	 * wakes, or a peer still sending would wait for the idle timeout. */
	if (c->eof && !c->inflight)
		conn_close(c);
}

static uint64_t seq_of(const struct event *ev)
{
	return ((const struct owner *)ev->owner)->seq;
}

/* Keeps ev until the replies of the lines before it have gone out. */
static void hold(struct conn *c, struct event *ev)
{
	struct event **p = &c->held;

	while (*p && seq_of(*p) < seq_of(ev))
		p = &(*p)->next;
	ev->next = *p;
	*p = ev;
}

/* ev's reply goes out (unless the peer is gone); ev is freed. */
static void emit(struct admin_server *a, struct conn *c, struct event *ev,
		 int64_t now)
{
	c->inflight--;
	c->write_seq++;
	conntable_done(&a->table, c->id, now);
	if (!c->dead) {
		if (!c->out.len) { /* listed once: its buffer was empty */
			a->to_write = xgrow(a->to_write, &a->to_write_alloc,
					    a->nto_write + 1,
					    sizeof(*a->to_write));
			a->to_write[a->nto_write++] = c;
		}
		strbuf_add(&c->out, ev->reply.buf, ev->reply.len);
		strbuf_addch(&c->out, '\n');
	}
	free(ev->owner);
	event_free(ev);
}

static void take_completed(struct admin_server *a)
{
	struct event *ev, *next;
	int64_t now = time_mono_ms();

	pthread_mutex_lock(&a->lock);
	ev = a->completed;
	a->completed = NULL;
	pthread_mutex_unlock(&a->lock);
	/* The list is newest first: reverse it to keep reply order. */
	struct event *rev = NULL;
	for (; ev; ev = next) {
		next = ev->next;
		ev->next = rev;
		rev = ev;
	}
	for (ev = rev; ev; ev = next) {
		struct conn *c = ((struct owner *)ev->owner)->conn;
		next = ev->next;
		if (seq_of(ev) != c->write_seq) {
			hold(c, ev);
			continue;
		}
		emit(a, c, ev, now);
		while (c->held && seq_of(c->held) == c->write_seq) {
			struct event *h = c->held;
			c->held = h->next;
			emit(a, c, h, now);
		}
	}
}

/* Closes fd with one JSON line first (best effort: the socket is new or
 * idle, its buffer has room). */
static void close_with(int fd, const char *line)
{
	(void)!write(fd, line, strlen(line));
	close(fd);
}

/* Who is at the other end of fd: uid and gid (SO_PEERCRED) and the
 * supplementary groups (SO_PEERGROUPS), all as the kernel recorded them
 * when the peer connected, so no name lookup is needed to decide a role.
 * Unknown: uid and gid (uid_t)-1, which no grant names. */
static void peer_of(int fd, struct access_peer *p)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	gid_t groups[ACCESS_MAX_GROUPS];

	memset(p, 0, sizeof(*p));
	p->uid = p->gid = UINT32_MAX;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
		p->uid = (uint32_t)cred.uid;
		p->gid = (uint32_t)cred.gid;
	}
	len = sizeof(groups);
	/* more groups than fit: ERANGE, and only the primary group counts */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == 0)
		for (size_t i = 0; i < len / sizeof(gid_t); i++)
			p->groups[p->ngroups++] = (uint32_t)groups[i];
}

/* A new connection: admitted within the caps, or refused with a line. */
static void admit_fd(struct admin_server *a, int fd, int64_t now)
{
	char src[32];
	uint64_t victims[2];
	size_t nv;
	struct conn *c = xcalloc(1, sizeof(*c));

	c->fd = fd;
	c->id = ++a->next_id;
	peer_of(fd, &c->peer);
	snprintf(src, sizeof(src), "uid %u", c->peer.uid);
	/* The kernel vouches for the uid: admitted as authenticated, so
	 * nothing is ever shed (nv stays 0); root takes the reserved slots
	 * and has no per-uid cap. */
	if (conntable_admit(&a->table, c->id, src, c->peer.uid == 0, true, c,
			    now,
			    victims, &nv)) {
		close_with(fd, a->busy_line);
		free(c);
		return;
	}
	strbuf_init(&c->in, 0);
	strbuf_init(&c->out, 0);
	a->conns = xgrow(a->conns, &a->conns_alloc, a->nconns + 1,
			 sizeof(*a->conns));
	a->conns[a->nconns++] = c;
}

/* Accepts a batch. Out of descriptors, accepting pauses for
 * ACCEPT_PAUSE_MS: the pending connection keeps the listener readable, so
 * polling it again at once would spin. */
static void accept_some(struct admin_server *a, int64_t now)
{
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		int fd = accept4(a->lfd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd != -1) {
			admit_fd(a, fd, now);
			continue;
		}
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM) {
			a->accept_resume = now + ACCEPT_PAUSE_MS;
			a->accept_backoffs++;
			if (now >= a->accept_warn_next) {
				a->accept_warn_next = now + WARN_EVERY_MS;
				log_warn("admin socket: cannot accept: %s; "
					 "pausing accepts for %d ms",
					 strerror(errno), ACCEPT_PAUSE_MS);
			}
		}
		return;
	}
}

/* Closes the connections idle past the timeout. */
static void expire_idle(struct admin_server *a, int64_t now)
{
	static const char idle[] = "{\"ok\":false,\"error\":\"idle_timeout\","
				   "\"message\":\"closed: idle too long\"}\n";
	enum conntable_why why;
	uint64_t id;
	void *data;

	while (conntable_expire(&a->table, now, &id, &data, &why)) {
		struct conn *c = data;
		if (!c->dead && !c->out.len)
			(void)!write(c->fd, idle, sizeof(idle) - 1);
		conn_close(c);
		c->eof = true;
	}
}

static void publish(struct admin_server *a, int64_t now)
{
	struct connstats cs = { .t = a->table.stats,
				.limit = a->table.lim.max_total,
				.per_source = a->table.lim.max_per_source,
				.accept_backoffs = a->accept_backoffs };
	uint64_t n;

	connstats_publish(CONNSTATS_ADMIN, &cs);
	if (conntable_warn_due(&a->table, now, WARN_EVERY_MS, &n))
		log_warn("admin socket: %llu connection(s) refused at the caps "
			 "since the last warning (%llu open, limit %zu, %zu "
			 "per uid)",
			 (unsigned long long)n,
			 (unsigned long long)a->table.stats.open,
			 a->table.lim.max_total, a->table.lim.max_per_source);
}

/* Closes finished connections and frees those with nothing in flight. */
static void reap_conns(struct admin_server *a)
{
	for (size_t i = 0; i < a->nconns;) {
		struct conn *c = a->conns[i];
		if (c->eof && !c->inflight && !c->out.len)
			conn_close(c);
		if (c->dead && !c->inflight) {
			conntable_remove(&a->table, c->id);
			strbuf_release(&c->in);
			strbuf_release(&c->out);
			free(c);
			a->conns[i] = a->conns[--a->nconns];
			continue;
		}
		if (!c->eof)
			conn_lines(a, c); /* resume after backpressure */
		i++;
	}
}

/* The line a connection past a cap gets, with the caps in force. */
static void set_busy_line(struct admin_server *a)
{
	snprintf(a->busy_line, sizeof(a->busy_line),
		 "{\"ok\":false,\"error\":\"busy\",\"message\":\"too many "
		 "admin connections (at most %zu per uid, %zu in all)\"}\n",
		 a->table.lim.max_per_source, a->table.lim.max_total);
}

/* Core thread: a reload's caps, if one came (admin_set_limits). */
static void take_limits(struct admin_server *a)
{
	struct conntable_limits lim;
	bool pending;

	pthread_mutex_lock(&a->lock);
	lim = a->lim_next;
	pending = a->lim_pending;
	a->lim_pending = false;
	pthread_mutex_unlock(&a->lock);
	if (!pending)
		return;
	conntable_set_limits(&a->table, &lim);
	set_busy_line(a);
}

void admin_set_limits(struct admin_server *a,
		      const struct conntable_limits *lim)
{
	pthread_mutex_lock(&a->lock);
	a->lim_next = *lim;
	a->lim_pending = true;
	pthread_mutex_unlock(&a->lock);
	wake(a);
}

/* Writes the replies take_completed queued. */
static void write_pending(struct admin_server *a)
{
	for (size_t i = 0; i < a->nto_write; i++)
		conn_write(a, a->to_write[i]);
	a->nto_write = 0;
}

/* The next idle deadline or the end of an accept pause (monotonic ms),
 * INT64_MAX for neither. */
static int64_t next_deadline(const struct admin_server *a, int64_t now)
{
	int64_t next = conntable_next_deadline(&a->table);

	if (a->accept_resume > now && a->accept_resume < next)
		next = a->accept_resume;
	return next;
}

static size_t io_fill(void *ctx, struct pollfd **pfd, size_t *alloc,
		      size_t n, int64_t now, int64_t *deadline)
{
	struct admin_server *a = ctx;
	size_t first = n;
	int64_t next = next_deadline(a, now);

	*pfd = xgrow(*pfd, alloc, n + a->nconns + 2, sizeof(**pfd));
	a->map = xgrow(a->map, &a->map_alloc, a->nconns + 2, sizeof(*a->map));
	(*pfd)[n++] = (struct pollfd){ a->wakefd, POLLIN, 0 };
	(*pfd)[n++] = (struct pollfd){ a->accept_resume > now ? -1 : a->lfd,
				       POLLIN, 0 };
	for (size_t i = 0; i < a->nconns; i++) {
		struct conn *c = a->conns[i];
		short evs = 0;
		if (c->dead)
			continue;
		if (!c->eof && c->inflight < MAX_INFLIGHT)
			evs |= POLLIN;
		if (c->out.len)
			evs |= POLLOUT;
		a->map[n - first] = c;
		(*pfd)[n++] = (struct pollfd){ c->fd, evs, 0 };
	}
	if (next < *deadline)
		*deadline = next;
	return n;
}

static void io_handle(void *ctx, const struct pollfd *pfd, size_t n,
		      int64_t now)
{
	struct admin_server *a = ctx;

	if (pfd[0].revents) {
		uint64_t cnt;
		/* after the eventfd is read: a later wake-up is seen */
		(void)!read(a->wakefd, &cnt, sizeof(cnt));
		take_completed(a);
		write_pending(a);
		take_limits(a);
	}
	if (pfd[1].revents & POLLIN)
		accept_some(a, now);
	for (size_t i = 2; i < n; i++) {
		if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
			conn_read(a, a->map[i]);
		if (a->map[i]->out.len)
			conn_write(a, a->map[i]);
	}
	expire_idle(a, now);
	reap_conns(a);
	publish(a, now);
}

/* After each core turn: the replies it made go out now. */
static void io_flush(void *ctx)
{
	struct admin_server *a = ctx;

	take_completed(a);
	write_pending(a);
}

static int bind_socket(struct admin_server *a, const char *path, char *err,
		       size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int probe;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "admin socket path '%s' is too long", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	strcpy(a->path, path);
	/* A live scheduler answers on the socket: never steal it. */
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe != -1 &&
	    connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		close(probe);
		snprintf(err, errlen,
			 "admin socket '%s' is in use by another scheduler",
			 path);
		return -1;
	}
	if (probe != -1)
		close(probe);
	unlink(path);
	a->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (a->lfd == -1 ||
	    bind(a->lfd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    chmod(path, 0660) == -1 || listen(a->lfd, 128) == -1) {
		snprintf(err, errlen, "cannot listen on admin socket '%s': %s",
			 path, strerror(errno));
		return -1;
	}
	return 0;
}

struct admin_server *admin_start(const char *path,
				 const struct conntable_limits *lim,
				 struct sched *core, char *err, size_t errlen)
{
	struct admin_server *a = xcalloc(1, sizeof(*a));

	a->core = core;
	a->lfd = -1;
	pthread_mutex_init(&a->lock, NULL);
	conntable_init(&a->table, lim);
	set_busy_line(a);
	publish(a, time_mono_ms());
	a->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (a->wakefd == -1 || bind_socket(a, path, err, errlen))
		goto fail;
	a->io = (struct core_io){ .ctx = a, .fill = io_fill,
				  .handle = io_handle, .flush = io_flush };
	core_set_io(core, &a->io);
	a->attached = true;
	return a;
fail:
	if (a->lfd != -1)
		close(a->lfd);
	if (a->wakefd != -1)
		close(a->wakefd);
	conntable_release(&a->table);
	pthread_mutex_destroy(&a->lock);
	free(a);
	return NULL;
}

void admin_stop(struct admin_server *a)
{
	if (!a || !a->attached)
		return;
	core_set_io(a->core, NULL); /* the core thread lets go of a */
	a->attached = false;
	close(a->lfd);
	unlink(a->path);
	for (size_t i = 0; i < a->nconns; i++)
		conn_close(a->conns[i]);
}

void admin_free(struct admin_server *a)
{
	if (!a)
		return;
	take_completed(a);
	for (size_t i = 0; i < a->nconns; i++) {
		struct event *h;
		while ((h = a->conns[i]->held)) { /* none: all completed */
			a->conns[i]->held = h->next;
			free(h->owner);
			event_free(h);
		}
		strbuf_release(&a->conns[i]->in);
		strbuf_release(&a->conns[i]->out);
		free(a->conns[i]);
	}
	free(a->conns);
	free(a->map);
	free(a->to_write);
	conntable_release(&a->table);
	close(a->wakefd);
	pthread_mutex_destroy(&a->lock);
	free(a);
}
