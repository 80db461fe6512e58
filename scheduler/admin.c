/* admin.c - the admin socket's I/O thread: accept, read lines, post them to
 * the core, write the replies back in order. */
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
#include "core.h"
#include "strbuf.h"
#include "util.h"

#define MAX_CONNS 1024
#define MAX_INFLIGHT 4096 /* per connection, for pipelining clients */

struct conn {
	int fd;
	unsigned uid;
	struct strbuf in, out;
	size_t inflight;
	bool eof;     /* peer closed its side, or a fatal line */
	bool dead;    /* fd closed; freed when inflight reaches 0 */
};

struct admin_server {
	int lfd, wakefd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct sched *core;
	pthread_t thread;
	bool stop;
	struct conn *conns[MAX_CONNS];
	size_t nconns;
	pthread_mutex_t lock; /* guards `completed` and `stop` */
	struct event *completed;
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
};

/* Core thread: hand the finished event back to the I/O thread. */
static void admin_done(struct event *ev)
{
	struct admin_server *a = ((struct owner *)ev->owner)->server;
	pthread_mutex_lock(&a->lock);
	ev->next = a->completed;
	a->completed = ev;
	pthread_mutex_unlock(&a->lock);
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
	ev->owner = o;
	ev->done = admin_done;
	ev->peer_uid = c->uid;
	/* Errors found here still go through the core so that replies
	 * keep the order of the lines. */
	if (fatal)
		admin_cmds_refuse(ev, "line_too_long", fatal);
	else if (cmdline_split(line, len, &ev->cmd, err, sizeof(err)))
		admin_cmds_refuse(ev, "usage", err);
	c->inflight++;
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
		strbuf_add(&c->in, buf, (size_t)n);
		conn_lines(a, c);
	} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		c->eof = true;
		if (n == 0 && c->in.len) /* a last line without '\n' */
			post_line(a, c, c->in.buf, c->in.len, NULL);
		strbuf_reset(&c->in);
	}
}

static void conn_write(struct conn *c)
{
	while (c->out.len && !c->dead) {
		ssize_t n = write(c->fd, c->out.buf, c->out.len);
		if (n > 0) {
			strbuf_remove_front(&c->out, (size_t)n);
		} else if (n == -1 && errno == EINTR) {
			continue;
		} else {
			if (n == -1 && errno != EAGAIN)
				conn_close(c); /* peer gone: drop replies */
			return;
		}
	}
}

static void take_completed(struct admin_server *a)
{
	struct event *ev, *next;
	uint64_t cnt;

	(void)!read(a->wakefd, &cnt, sizeof(cnt));
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
		struct owner *o = ev->owner;
		next = ev->next;
		o->conn->inflight--;
		if (!o->conn->dead) {
			strbuf_add(&o->conn->out, ev->reply.buf, ev->reply.len);
			strbuf_addch(&o->conn->out, '\n');
		}
		free(o);
		event_free(ev);
	}
}

static void accept_one(struct admin_server *a)
{
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	int fd = accept4(a->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	struct conn *c;

	if (fd == -1)
		return;
	if (a->nconns == MAX_CONNS) {
		static const char busy[] = "{\"ok\":false,\"error\":\"busy\","
					   "\"message\":\"too many admin connections\"}\n";
		(void)!write(fd, busy, sizeof(busy) - 1);
		close(fd);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->fd = fd;
	c->uid = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0
			 ? cred.uid
			 : (unsigned)-1;
	strbuf_init(&c->in, 0);
	strbuf_init(&c->out, 0);
	a->conns[a->nconns++] = c;
}

/* Closes finished connections and frees those with nothing in flight. */
static void reap_conns(struct admin_server *a)
{
	for (size_t i = 0; i < a->nconns;) {
		struct conn *c = a->conns[i];
		if (c->eof && !c->inflight && !c->out.len)
			conn_close(c);
		if (c->dead && !c->inflight) {
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

static void *admin_main(void *arg)
{
	struct admin_server *a = arg;
	struct pollfd pfd[MAX_CONNS + 2];
	struct conn *map[MAX_CONNS + 2];

	for (;;) {
		nfds_t n = 0;
		pthread_mutex_lock(&a->lock);
		bool stop = a->stop;
		pthread_mutex_unlock(&a->lock);
		if (stop)
			break;
		pfd[n++] = (struct pollfd){ a->wakefd, POLLIN, 0 };
		pfd[n++] = (struct pollfd){ a->lfd, POLLIN, 0 };
		for (size_t i = 0; i < a->nconns; i++) {
			struct conn *c = a->conns[i];
			short evs = 0;
			if (c->dead)
				continue;
			if (!c->eof && c->inflight < MAX_INFLIGHT)
				evs |= POLLIN;
			if (c->out.len)
				evs |= POLLOUT;
			map[n] = c;
			pfd[n++] = (struct pollfd){ c->fd, evs, 0 };
		}
		if (poll(pfd, n, -1) == -1 && errno != EINTR)
			break;
		if (pfd[0].revents)
			take_completed(a);
		if (pfd[1].revents & POLLIN)
			accept_one(a);
		for (nfds_t i = 2; i < n; i++) {
			if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
				conn_read(a, map[i]);
			if (map[i]->out.len)
				conn_write(map[i]);
		}
		reap_conns(a);
	}
	return NULL;
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

struct admin_server *admin_start(const char *path, struct sched *core,
				 char *err, size_t errlen)
{
	struct admin_server *a = xcalloc(1, sizeof(*a));

	a->core = core;
	a->lfd = -1;
	pthread_mutex_init(&a->lock, NULL);
	a->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (a->wakefd == -1 || bind_socket(a, path, err, errlen))
		goto fail;
	if (pthread_create(&a->thread, NULL, admin_main, a)) {
		snprintf(err, errlen, "cannot start the admin thread");
		unlink(path);
		goto fail;
	}
	return a;
fail:
	if (a->lfd != -1)
		close(a->lfd);
	if (a->wakefd != -1)
		close(a->wakefd);
	pthread_mutex_destroy(&a->lock);
	free(a);
	return NULL;
}

void admin_stop(struct admin_server *a)
{
	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	a->stop = true;
	pthread_mutex_unlock(&a->lock);
	wake(a);
	pthread_join(a->thread, NULL);
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
		strbuf_release(&a->conns[i]->in);
		strbuf_release(&a->conns[i]->out);
		free(a->conns[i]);
	}
	close(a->wakefd);
	pthread_mutex_destroy(&a->lock);
	free(a);
}
