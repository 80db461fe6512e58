/*
 * sp-bench-serial - acknowledged requests per second when each client
 * waits for the reply to one request before it sends the next (a script
 * calling `spctl run start` in a loop; no pipelining), for SECONDS, against
 * SparkPilot's admin socket or, for comparison, beanstalkd:
 *
 *   sp-bench-serial sp SOCKET JOB CLIENTS SECONDS
 *       one connection per client, "run start JOB" lines, each reply
 *       counted when it is {"ok":true,...}
 *   sp-bench-serial bs HOST PORT TUBE CLIENTS SECONDS
 *       one TCP connection per client, "use TUBE", then
 *       "put 0 0 60 N\r\n<body>\r\n", each reply counted when it is
 *       "INSERTED id"
 *
 * Prints one line: acknowledged requests, seconds, requests/s, latency
 * p50/p99 (ms). Exits 1 if any reply was not an acknowledgement.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define MAX_SAMPLES 4000000 /* per client: latencies kept */

struct client {
	bool bs;                /* beanstalkd, else SparkPilot */
	const char *where, *port, *what; /* socket or host, port, job or tube */
	int64_t end_us;
	int64_t *lat;
	long n, bad;
};

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int dial(const struct client *c)
{
	int fd;

	if (c->bs) {
		struct sockaddr_in sa = { .sin_family = AF_INET };
		int one = 1;
		sa.sin_port = htons((uint16_t)atoi(c->port));
		inet_pton(AF_INET, c->where, &sa.sin_addr);
		fd = socket(AF_INET, SOCK_STREAM, 0);
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1)
			return -1;
	} else {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", c->where);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1)
			return -1;
	}
	return fd;
}

/* Reads one reply (up to and including '\n') into buf; its length, or -1. */
static ssize_t read_reply(int fd, char *buf, size_t size)
{
	size_t have = 0;

	while (have < size - 1) {
		ssize_t r = read(fd, buf + have, size - 1 - have);
		if (r <= 0)
			return -1;
		have += (size_t)r;
		if (buf[have - 1] == '\n')
			break;
	}
	buf[have] = '\0';
	return (ssize_t)have;
}

static void *client_main(void *arg)
{
	struct client *c = arg;
	char req[512], buf[4096];
	int fd = dial(c), n;
	const char *ok;

	if (fd == -1) {
		perror("connect");
		exit(1);
	}
	if (c->bs) {
		/* a body about the size of a run start's command */
		static const char body[] = "bench/prod/pi";
		n = snprintf(req, sizeof(req), "use %s\r\n", c->what);
		if (write_all(fd, req, (size_t)n) ||
		    read_reply(fd, buf, sizeof(buf)) < 0 ||
		    strncmp(buf, "USING ", 6)) {
			fprintf(stderr, "beanstalkd: use failed\n");
			exit(1);
		}
		n = snprintf(req, sizeof(req), "put 0 0 60 %zu\r\n%s\r\n",
			     sizeof(body) - 1, body);
		ok = "INSERTED ";
	} else {
		n = snprintf(req, sizeof(req), "run start %s\n", c->what);
		ok = "{\"ok\":true";
	}
	for (int64_t t = now_us(); t < c->end_us;) {
		int64_t t0 = t;
		if (write_all(fd, req, (size_t)n) ||
		    read_reply(fd, buf, sizeof(buf)) < 0) {
			fprintf(stderr, "connection closed\n");
			exit(1);
		}
		t = now_us();
		if (strncmp(buf, ok, strlen(ok))) {
			if (!c->bad++)
				fprintf(stderr, "not acknowledged: %s", buf);
			continue;
		}
		if (c->n < MAX_SAMPLES)
			c->lat[c->n] = t - t0;
		c->n++;
	}
	close(fd);
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	bool bs = argc == 7 && !strcmp(argv[1], "bs");
	int nc;
	double secs;
	long total = 0, bad = 0, kept = 0;
	struct client *cs;
	pthread_t *th;
	int64_t t0, t1, *all;

	if (!bs && !(argc == 6 && !strcmp(argv[1], "sp"))) {
		fprintf(stderr,
			"usage: sp-bench-serial sp SOCKET JOB CLIENTS SECONDS\n"
			"       sp-bench-serial bs HOST PORT TUBE CLIENTS "
			"SECONDS\n");
		return 2;
	}
	nc = atoi(argv[argc - 2]);
	secs = atof(argv[argc - 1]);
	if (nc < 1 || secs <= 0)
		return 2;
	cs = xcalloc((size_t)nc, sizeof(*cs));
	th = xcalloc((size_t)nc, sizeof(*th));
	t0 = now_us();
	for (int i = 0; i < nc; i++) {
		cs[i].bs = bs;
		cs[i].where = argv[2];
		cs[i].port = bs ? argv[3] : NULL;
		cs[i].what = bs ? argv[4] : argv[3];
		cs[i].end_us = t0 + (int64_t)(secs * 1e6);
		cs[i].lat = xmalloc(MAX_SAMPLES * sizeof(int64_t));
		pthread_create(&th[i], NULL, client_main, &cs[i]);
	}
	for (int i = 0; i < nc; i++)
		pthread_join(th[i], NULL);
	t1 = now_us();
	for (int i = 0; i < nc; i++)
		kept += cs[i].n < MAX_SAMPLES ? cs[i].n : MAX_SAMPLES;
	all = xmalloc((size_t)(kept ? kept : 1) * sizeof(*all));
	kept = 0;
	for (int i = 0; i < nc; i++) {
		long k = cs[i].n < MAX_SAMPLES ? cs[i].n : MAX_SAMPLES;
		memcpy(all + kept, cs[i].lat, (size_t)k * sizeof(*all));
		kept += k;
		total += cs[i].n;
		bad += cs[i].bad;
		free(cs[i].lat);
	}
	qsort(all, (size_t)kept, sizeof(*all), cmp);
	printf("%s: %ld acknowledged in %.2f s = %.0f/s (%d clients, serial); "
	       "latency p50 %.3f ms, p99 %.3f ms\n",
	       bs ? "beanstalkd put" : "sparkpilot run start", total,
	       (double)(t1 - t0) / 1e6, (double)total / ((double)(t1 - t0) / 1e6),
	       nc, kept ? (double)all[kept / 2] / 1000.0 : 0,
	       kept ? (double)all[kept * 99 / 100] / 1000.0 : 0);
	free(all);
	free(cs);
	free(th);
	return bad ? 1 : 0;
}
