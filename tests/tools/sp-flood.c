/*
 * sp-flood - holds many idle connections to a scheduler, for the tests of
 * its connection limits (tests/integration/t1500-conn-flood.sh).
 *
 *   sp-flood agent HOST:PORT N [--sources K] [--redial RATE] [--seconds S]
 *	opens N TCP connections to the agent port; each completes the SP
 *	handshake of a REQ0 peer (an 8-byte header each way) and then sends
 *	nothing. With --sources K they come from 127.0.0.1 .. 127.0.0.K in
 *	turn. With --redial RATE, a connection the scheduler closes is opened
 *	again (at most RATE a second), as an attacker holding on would.
 *   sp-flood admin SOCKET N [--uid UID] [--seconds S]
 *	opens N connections to the admin socket, as UID if given (the group
 *	stays), and sends nothing.
 *
 * It raises its own open files limit first. Prints "sp-flood: ready: ..."
 * once every connection was tried (for agents: its handshake ended, or one
 * took over 10 s and no more were tried), then holds them until
 * SIGTERM/SIGINT or S seconds and prints "sp-flood: done: ..." with what
 * happened to them. Exit 0, or 2 on bad usage or when it cannot run.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "parse.h"
#include "util.h"

#define WINDOW 128 /* agent connections in their handshake at once */
#define STALL_MS 10000 /* a handshake this long: the scheduler is stuck */

/* SP header of a REQ0 peer (protocol 48), and the REP0 one (49) we expect
 * back. */
static const uint8_t req0_hdr[8] = { 0, 'S', 'P', 0, 0, 0x30, 0, 0 };
static const uint8_t rep0_hdr[8] = { 0, 'S', 'P', 0, 0, 0x31, 0, 0 };

enum state { CONNECTING, HANDSHAKE, HELD };

struct fconn {
	int fd;
	enum state state;
	int64_t started;
	size_t slot; /* in f->pend while not held */
	uint8_t hdr[8];
	size_t got;
};

struct flood {
	bool admin;
	const char *target;
	struct sockaddr_in addr;
	unsigned sources;
	double redial_rate, tokens;
	uint64_t owed;  /* connections to open again (--redial) */
	unsigned next_src;
	int epfd;
	struct fconn *pend[WINDOW]; /* agent connections in their handshake */
	size_t pending;
	bool stalled; /* a handshake took STALL_MS: no more are tried */
	size_t held;
	/* what happened */
	uint64_t opened, handshakes, failed, closed, busy, idle, redials;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void raise_nofile(size_t n)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	if (rl.rlim_max < n + 64)
		rl.rlim_max = n + 64; /* works as root */
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1) {
		getrlimit(RLIMIT_NOFILE, &rl);
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void watch(struct flood *f, struct fconn *c, uint32_t events, int op)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };
	epoll_ctl(f->epfd, op, c->fd, &ev);
}

static void unpend(struct flood *f, struct fconn *c)
{
	f->pend[c->slot] = f->pend[--f->pending];
	f->pend[c->slot]->slot = c->slot;
}

static void drop(struct flood *f, struct fconn *c)
{
	if (c->state != HELD)
		unpend(f, c);
	else
		f->held--;
	close(c->fd);
	free(c);
}

/* Gives up on handshakes older than STALL_MS (a scheduler out of
 * descriptors never finishes them) and stops opening more. */
static void reap_stalled(struct flood *f)
{
	int64_t now = time_mono_ms();

	for (size_t i = 0; i < f->pending;) {
		struct fconn *c = f->pend[i];
		if (now - c->started < STALL_MS) {
			i++;
			continue;
		}
		f->stalled = true;
		f->failed++;
		drop(f, c);
	}
}

/* Starts one agent connection from source src; counts a failure. */
static void open_agent(struct flood *f, unsigned src)
{
	struct fconn *c = xcalloc(1, sizeof(*c));
	int one = 1;

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd == -1)
		goto fail;
	if (f->sources) {
		struct sockaddr_in me = { .sin_family = AF_INET };
		me.sin_addr.s_addr = htonl(0x7f000001 + src);
		/* the port is picked at connect, per destination, so that
		 * many connections fit one source address */
		setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
			   sizeof(one));
		if (bind(c->fd, (struct sockaddr *)&me, sizeof(me)) == -1)
			goto fail;
	}
	if (connect(c->fd, (struct sockaddr *)&f->addr, sizeof(f->addr)) ==
		    -1 &&
	    errno != EINPROGRESS)
		goto fail;
	f->opened++;
	c->started = time_mono_ms();
	c->slot = f->pending;
	f->pend[f->pending++] = c;
	c->state = CONNECTING;
	watch(f, c, EPOLLOUT | EPOLLIN | EPOLLRDHUP, EPOLL_CTL_ADD);
	return;
fail:
	f->failed++;
	if (c->fd != -1)
		close(c->fd);
	free(c);
}

/* An event on an agent connection: connected, header in, or closed. */
static void agent_event(struct flood *f, struct fconn *c, uint32_t events)
{
	int err = 0;
	socklen_t len = sizeof(err);
	ssize_t n;

	if (c->state == CONNECTING) {
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err || write(c->fd, req0_hdr, 8) != 8) {
			f->failed++;
			drop(f, c);
			return;
		}
		c->state = HANDSHAKE;
		watch(f, c, EPOLLIN | EPOLLRDHUP, EPOLL_CTL_MOD);
		return;
	}
	if (!(events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
		return;
	if (c->state == HANDSHAKE) {
		n = read(c->fd, c->hdr + c->got, 8 - c->got);
		if (n > 0 && (c->got += (size_t)n) < 8)
			return;
		if (n <= 0 || memcmp(c->hdr, rep0_hdr, 8)) {
			f->failed++;
			drop(f, c);
			return;
		}
		unpend(f, c);
		c->state = HELD;
		f->held++;
		f->handshakes++;
		return;
	}
	/* held: anything now is the scheduler closing it */
	f->closed++;
	drop(f, c);
	if (f->redial_rate > 0)
		f->owed++;
}

/* One admin connection, held; counts a failure. */
static void open_admin(struct flood *f)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct fconn *c = xcalloc(1, sizeof(*c));

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->target);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd == -1 ||
	    connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		f->failed++;
		if (c->fd != -1)
			close(c->fd);
		free(c);
		return;
	}
	fd_set_nonblock(c->fd);
	f->opened++;
	f->held++;
	c->state = HELD;
	watch(f, c, EPOLLIN | EPOLLRDHUP, EPOLL_CTL_ADD);
}

/* The scheduler wrote to an idle admin connection: a refusal or an idle
 * timeout line, then the end. */
static void admin_event(struct flood *f, struct fconn *c)
{
	char buf[512];
	ssize_t n = read(c->fd, buf, sizeof(buf) - 1);

	if (n > 0) {
		buf[n] = '\0';
		if (strstr(buf, "\"busy\""))
			f->busy++;
		else if (strstr(buf, "\"idle_timeout\""))
			f->idle++;
		return;
	}
	if (n == -1 && errno == EAGAIN)
		return;
	f->closed++;
	drop(f, c);
}

static void pump(struct flood *f, int timeout_ms)
{
	struct epoll_event evs[256];
	int n = epoll_wait(f->epfd, evs, 256, timeout_ms);

	for (int i = 0; i < n; i++) {
		struct fconn *c = evs[i].data.ptr;
		if (f->admin)
			admin_event(f, c);
		else
			agent_event(f, c, evs[i].events);
	}
	reap_stalled(f);
}

static void report(const struct flood *f, const char *what)
{
	if (f->admin)
		printf("sp-flood: %s: admin connections opened %llu, held %zu, "
		       "refused busy %llu, idle timeouts %llu, closed %llu, "
		       "failed %llu\n",
		       what, (unsigned long long)f->opened, f->held,
		       (unsigned long long)f->busy, (unsigned long long)f->idle,
		       (unsigned long long)f->closed,
		       (unsigned long long)f->failed);
	else
		printf("sp-flood: %s: agent connections opened %llu, "
		       "handshakes %llu, held %zu, closed by the scheduler "
		       "%llu, redials %llu, failed %llu%s\n",
		       what, (unsigned long long)f->opened,
		       (unsigned long long)f->handshakes, f->held,
		       (unsigned long long)f->closed,
		       (unsigned long long)f->redials,
		       (unsigned long long)f->failed,
		       f->stalled ? " (stalled: handshakes stopped finishing)"
				  : "");
	fflush(stdout);
}

static void flood_open(struct flood *f, size_t n)
{
	for (size_t i = 0; i < n && !stop; i++) {
		if (f->admin) {
			open_admin(f);
			if (i % 64 == 63)
				pump(f, 0);
			continue;
		}
		while (f->pending >= WINDOW && !stop)
			pump(f, 100);
		if (f->stalled)
			break;
		open_agent(f, f->sources ? (unsigned)(i % f->sources) : 0);
	}
	while (!f->admin && f->pending && !stop)
		pump(f, 100);
}

static void hold(struct flood *f, int64_t seconds)
{
	int64_t end = seconds ? time_mono_ms() + seconds * 1000 : INT64_MAX;
	int64_t last = time_mono_ms();

	while (!stop && time_mono_ms() < end) {
		int64_t now = time_mono_ms();
		f->tokens += (double)(now - last) * f->redial_rate / 1000.0;
		if (f->tokens > f->redial_rate)
			f->tokens = f->redial_rate;
		last = now;
		while (f->owed && f->tokens >= 1 && f->pending < WINDOW &&
		       !f->stalled) {
			f->owed--;
			f->tokens--;
			f->redials++;
			open_agent(f, f->sources ? f->next_src++ % f->sources
						 : 0);
		}
		pump(f, f->owed ? 10 : 100);
	}
}

static int usage(void)
{
	fprintf(stderr,
		"usage: sp-flood agent HOST:PORT N [--sources K] "
		"[--redial RATE] [--seconds S]\n"
		"       sp-flood admin SOCKET N [--uid UID] [--seconds S]\n");
	return 2;
}

static int parse_target(struct flood *f, const char *hostport)
{
	char host[64];
	const char *colon = strrchr(hostport, ':');
	uint64_t port;

	if (!colon || (size_t)(colon - hostport) >= sizeof(host) ||
	    parse_u64(colon + 1, 1, 65535, &port, NULL, 0))
		return -1;
	snprintf(host, sizeof(host), "%.*s", (int)(colon - hostport),
		 hostport);
	f->addr.sin_family = AF_INET;
	f->addr.sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &f->addr.sin_addr) == 1 ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct flood f = { 0 };
	uint64_t n, v, seconds = 0, uid = UINT64_MAX;

	if (argc < 4 || (strcmp(argv[1], "agent") && strcmp(argv[1], "admin")) ||
	    parse_u64(argv[3], 1, 1000000, &n, NULL, 0))
		return usage();
	f.admin = !strcmp(argv[1], "admin");
	f.target = argv[2];
	if (!f.admin && parse_target(&f, argv[2])) {
		fprintf(stderr, "sp-flood: bad address '%s' (want IP:PORT)\n",
			argv[2]);
		return 2;
	}
	for (int i = 4; i < argc; i++) {
		if (i + 1 == argc || parse_u64(argv[i + 1], 0, 1000000, &v,
					       NULL, 0))
			return usage();
		if (!strcmp(argv[i], "--sources") && !f.admin)
			f.sources = (unsigned)v;
		else if (!strcmp(argv[i], "--redial") && !f.admin)
			f.redial_rate = (double)v;
		else if (!strcmp(argv[i], "--uid") && f.admin)
			uid = v;
		else if (!strcmp(argv[i], "--seconds"))
			seconds = v;
		else
			return usage();
		i++;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	raise_nofile((size_t)n);
	if (uid != UINT64_MAX && setresuid((uid_t)uid, (uid_t)uid,
					   (uid_t)uid) == -1) {
		fprintf(stderr, "sp-flood: cannot become uid %llu: %s\n",
			(unsigned long long)uid, strerror(errno));
		return 2;
	}
	f.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (f.epfd == -1) {
		fprintf(stderr, "sp-flood: epoll: %s\n", strerror(errno));
		return 2;
	}
	flood_open(&f, (size_t)n);
	report(&f, "ready");
	hold(&f, (int64_t)seconds);
	report(&f, "done");
	return 0;
}
