/*
 * sp-bench-submit - acknowledged run starts per second through the admin
 * socket: C clients, each keeping W commands in flight (pipelining), each
 * reply counted only when it says ok (the scheduler replies after the WAL
 * sync of the turn that applied it).
 *
 *   sp-bench-submit SOCKET JOB CLIENTS RUNS_PER_CLIENT WINDOW
 *                   [RATE LOG [ACK_LOG]]
 * Prints: runs, seconds, runs/s, latency p50/p99 (ms).
 *
 * With RATE (starts per second, per client) the starts are paced instead
 * of sent as fast as the window allows, and LOG gets one line per
 * acknowledged start, "RUN SEND_WALL_US": with sp-agentsim's --lease-log
 * that gives the submit -> agent latency of each run. ACK_LOG gets
 * "RUN ACK_WALL_US", when the acknowledgement was read.
 *
 * With SP_BENCH_IDEM_PREFIX=P (not empty) each start carries the
 * idempotency key P-CLIENT-N (what keyed runs cost: bench/millions.sh
 * --keyed).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "benchlib.h"
#include "util.h"

struct client {
	const char *sock, *job;
	long runs, window;
	int64_t *lat; /* per run, microseconds */
	long ok;
	double rate; /* starts per second; 0 = as fast as the window allows */
	FILE *log;   /* with rate: "RUN SEND_WALL_US" per acknowledged start */
	FILE *ack_log; /* optional: "RUN ACK_WALL_US" */
	const char *idem; /* key prefix, or NULL */
	int idx;          /* the client's number, in its keys */
};

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* With a rate: waits until the next start is due or a reply arrives.
 * Returns true when the next start may be sent now. */
static bool pace(const struct client *c, int fd, int64_t t0, long nsent,
		 long nrecv)
{
	int64_t due = t0 + (int64_t)((double)nsent * 1e6 / c->rate);
	int64_t wait = due - now_us();
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	if (wait <= 0)
		return true;
	if (nsent == nrecv) {
		usleep((useconds_t)wait);
		return true;
	}
	return poll(&pfd, 1, (int)((wait + 999) / 1000)) == 0;
}

static void log_start(const struct client *c, const char *line,
		      int64_t sent_wall)
{
	const char *p = strstr(line, "\"run\":");
	if (!c->log || !p)
		return;
	pthread_mutex_lock(&log_lock);
	fprintf(c->log, "%llu %lld\n", strtoull(p + 6, NULL, 10),
		(long long)sent_wall);
	if (c->ack_log)
		fprintf(c->ack_log, "%llu %lld\n", strtoull(p + 6, NULL, 10),
			(long long)wall_us());
	pthread_mutex_unlock(&log_lock);
}

static void *client_main(void *arg)
{
	struct client *c = arg;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char line[256], buf[65536];
	int64_t *sent = calloc((size_t)c->runs, sizeof(int64_t));
	int64_t *sent_wall = calloc((size_t)c->runs, sizeof(int64_t));
	int64_t t0 = now_us();
	long nsent = 0, nrecv = 0;
	size_t have = 0;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	int n = snprintf(line, sizeof(line), "run start %s\n", c->job);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", c->sock);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		perror("connect");
		exit(1);
	}
	while (nrecv < c->runs) {
		while (nsent < c->runs && nsent - nrecv < c->window) {
			if (c->rate > 0 && !pace(c, fd, t0, nsent, nrecv))
				break;
			if (c->idem)
				n = snprintf(line, sizeof(line),
					     "run start %s --idempotency-key "
					     "%s-%d-%ld\n", c->job, c->idem,
					     c->idx, nsent);
			sent_wall[nsent] = wall_us();
			sent[nsent++] = now_us();
			if (write_all(fd, line, (size_t)n)) {
				perror("write");
				exit(1);
			}
		}
		ssize_t r = read(fd, buf + have, sizeof(buf) - have);
		if (r <= 0) {
			fprintf(stderr, "connection closed\n");
			exit(1);
		}
		have += (size_t)r;
		char *p = buf, *nl;
		while ((nl = memchr(p, '\n', have - (size_t)(p - buf)))) {
			if (!strncmp(p, "{\"ok\":true", 10)) {
				c->ok++;
				*nl = '\0';
				log_start(c, p, sent_wall[nrecv]);
			}
			c->lat[nrecv] = now_us() - sent[nrecv];
			nrecv++;
			p = nl + 1;
		}
		have -= (size_t)(p - buf);
		memmove(buf, p, have);
	}
	close(fd);
	free(sent);
	free(sent_wall);
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int nc;
	long per, win, total, ok = 0;
	struct client *cs;
	pthread_t *th;
	int64_t t0, t1, *all;

	double rate = 0;
	FILE *log = NULL, *ack_log = NULL;
	const char *idem = getenv("SP_BENCH_IDEM_PREFIX");

	if (argc != 6 && argc != 8 && argc != 9) {
		fprintf(stderr, "usage: sp-bench-submit SOCKET JOB CLIENTS "
				"RUNS_PER_CLIENT WINDOW [RATE LOG [ACK_LOG]]\n");
		return 2;
	}
	if (argc == 9 && !(ack_log = fopen(argv[8], "w"))) {
		fprintf(stderr, "sp-bench-submit: cannot open '%s'\n", argv[8]);
		return 2;
	}
	if (argc >= 8) {
		rate = atof(argv[6]);
		if (rate <= 0 || !(log = fopen(argv[7], "w"))) {
			fprintf(stderr, "sp-bench-submit: bad RATE or LOG\n");
			return 2;
		}
	}
	nc = atoi(argv[3]);
	per = atol(argv[4]);
	win = atol(argv[5]);
	if (nc < 1 || per < 1 || win < 1)
		return 2;
	total = nc * per;
	cs = calloc((size_t)nc, sizeof(*cs));
	th = calloc((size_t)nc, sizeof(*th));
	all = calloc((size_t)total, sizeof(*all));
	t0 = now_us();
	for (int i = 0; i < nc; i++) {
		cs[i] = (struct client){ argv[1], argv[2], per, win,
					 all + i * per, 0, rate, log, ack_log,
					 idem && *idem ? idem : NULL, i };
		pthread_create(&th[i], NULL, client_main, &cs[i]);
	}
	for (int i = 0; i < nc; i++) {
		pthread_join(th[i], NULL);
		ok += cs[i].ok;
	}
	t1 = now_us();
	qsort(all, (size_t)total, sizeof(*all), cmp);
	printf("acknowledged run starts: %ld of %ld in %.2f s = %.0f/s "
	       "(%d clients, window %ld); latency p50 %.2f ms, p99 %.2f ms\n",
	       ok, total, (double)(t1 - t0) / 1e6,
	       (double)ok / ((double)(t1 - t0) / 1e6), nc, win,
	       (double)all[total / 2] / 1000.0,
	       (double)all[total * 99 / 100] / 1000.0);
	if (log)
		fclose(log);
	if (ack_log)
		fclose(ack_log);
	free(all);
	free(cs);
	free(th);
	return ok == total ? 0 : 1;
}
