/* metrics.c - the /metrics HTTP endpoint (nng's HTTP server), the
 * published snapshot, and the process and connection families a scrape
 * adds. */
#include "metrics.h"

#include <dirent.h>
#include <inttypes.h>
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "connstats.h"
#include "util.h"

struct metrics {
	nng_http_server *srv;
	nng_http_handler *h;
	pthread_mutex_t lock;
	struct strbuf text; /* the core's last snapshot */
	int64_t start_s;    /* process start, wall clock */
};

void metrics_publish(struct metrics *m, const struct strbuf *text)
{
	pthread_mutex_lock(&m->lock);
	strbuf_reset(&m->text);
	strbuf_add(&m->text, text->buf, text->len);
	pthread_mutex_unlock(&m->lock);
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own fd */
}

/* RSS and CPU time from /proc/self/stat (fields 14, 15 and 24). */
static void proc_stat(double *cpu_s, double *rss_bytes)
{
	char buf[1024], *p;
	unsigned long utime = 0, stime = 0;
	long rss = 0;
	FILE *f = fopen("/proc/self/stat", "r");
	size_t n;

	*cpu_s = *rss_bytes = 0;
	if (!f)
		return;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* the name may hold blanks */
	if (!p || sscanf(p + 2,
			 "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu "
			 "%*d %*d %*d %*d %*d %*d %*u %*u %ld",
			 &utime, &stime, &rss) != 3)
		return;
	*cpu_s = (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
	*rss_bytes = (double)rss * (double)sysconf(_SC_PAGESIZE);
}

static void process_families(struct metrics *m, struct strbuf *o)
{
	double cpu, rss;
	struct rlimit rl;
	struct connstats ag, ad;

	proc_stat(&cpu, &rss);
	strbuf_addf(o,
		    "# HELP process_cpu_seconds_total User and system CPU time.\n"
		    "# TYPE process_cpu_seconds_total counter\n"
		    "process_cpu_seconds_total %.2f\n"
		    "# HELP process_resident_memory_bytes Resident memory.\n"
		    "# TYPE process_resident_memory_bytes gauge\n"
		    "process_resident_memory_bytes %.0f\n"
		    "# HELP process_open_fds Open file descriptors.\n"
		    "# TYPE process_open_fds gauge\n"
		    "process_open_fds %d\n",
		    cpu, rss, count_fds());
	if (!getrlimit(RLIMIT_NOFILE, &rl))
		strbuf_addf(o,
			    "# HELP process_max_fds The open files limit.\n"
			    "# TYPE process_max_fds gauge\n"
			    "process_max_fds %llu\n",
			    (unsigned long long)rl.rlim_cur);
	strbuf_addf(o,
		    "# HELP process_start_time_seconds Start, in seconds since "
		    "the epoch.\n"
		    "# TYPE process_start_time_seconds gauge\n"
		    "process_start_time_seconds %" PRId64 "\n",
		    m->start_s);
	connstats_read(CONNSTATS_AGENTS, &ag);
	connstats_read(CONNSTATS_ADMIN, &ad);
	strbuf_addf(o,
		    "# HELP sparkpilot_connections Connections open now.\n"
		    "# TYPE sparkpilot_connections gauge\n"
		    "sparkpilot_connections{port=\"agent\",state=\"open\"} "
		    "%" PRIu64 "\n"
		    "sparkpilot_connections{port=\"agent\",state="
		    "\"authenticated\"} %" PRIu64 "\n"
		    "sparkpilot_connections{port=\"admin\",state=\"open\"} "
		    "%" PRIu64 "\n"
		    "# HELP sparkpilot_connections_refused_total Connections "
		    "shed or refused at the caps.\n"
		    "# TYPE sparkpilot_connections_refused_total counter\n"
		    "sparkpilot_connections_refused_total{port=\"agent\"} "
		    "%" PRIu64 "\n"
		    "sparkpilot_connections_refused_total{port=\"admin\"} "
		    "%" PRIu64 "\n",
		    (uint64_t)ag.t.open, (uint64_t)ag.t.authenticated,
		    (uint64_t)ad.t.open, (uint64_t)(ag.t.shed + ag.t.refused),
		    (uint64_t)ad.t.refused);
	strbuf_addf(o,
		    "# HELP sparkpilot_connections_limit The cap on "
		    "connections at once (as the open files limit allows).\n"
		    "# TYPE sparkpilot_connections_limit gauge\n"
		    "sparkpilot_connections_limit{port=\"agent\"} %" PRIu64
		    "\n"
		    "sparkpilot_connections_limit{port=\"admin\"} %" PRIu64
		    "\n",
		    ag.limit, ad.limit);
	if (ag.cert_not_after)
		strbuf_addf(o,
			    "# HELP sparkpilot_tls_cert_expiry_timestamp_seconds "
			    "When the agent port's TLS certificate expires.\n"
			    "# TYPE sparkpilot_tls_cert_expiry_timestamp_seconds "
			    "gauge\n"
			    "sparkpilot_tls_cert_expiry_timestamp_seconds %" PRId64
			    "\n",
			    ag.cert_not_after);
}

void metrics_scrape(struct metrics *m, struct strbuf *out)
{
	pthread_mutex_lock(&m->lock);
	strbuf_add(out, m->text.buf, m->text.len);
	pthread_mutex_unlock(&m->lock);
	process_families(m, out);
}

static void serve(nng_aio *aio)
{
	nng_http_handler *h = nng_aio_get_input(aio, 1);
	struct metrics *m = nng_http_handler_get_data(h);
	struct strbuf body = STRBUF_INIT;
	nng_http_res *res;
	int rv;

	metrics_scrape(m, &body);
	if ((rv = nng_http_res_alloc(&res)) != 0) {
		strbuf_release(&body);
		nng_aio_finish(aio, rv);
		return;
	}
	if ((rv = nng_http_res_set_header(res, "Content-Type",
					  "text/plain; version=0.0.4; "
					  "charset=utf-8")) ||
	    (rv = nng_http_res_copy_data(res, body.buf, body.len))) {
		nng_http_res_free(res);
		strbuf_release(&body);
		nng_aio_finish(aio, rv);
		return;
	}
	strbuf_release(&body);
	nng_aio_set_output(aio, 0, res);
	nng_aio_finish(aio, 0);
}

struct metrics *metrics_start(const char *url, char *err, size_t errlen)
{
	struct metrics *m = xcalloc(1, sizeof(*m));
	nng_url *u = NULL;
	int rv;

	pthread_mutex_init(&m->lock, NULL);
	strbuf_init(&m->text, 0);
	m->start_s = time_now_ms() / 1000;
	if (strncmp(url, "http://", 7) ||
	    (rv = nng_url_parse(&u, url)) != 0) {
		snprintf(err, errlen,
			 "metrics_listen '%s': not an http://HOST:PORT URL",
			 url);
		goto fail;
	}
	if ((rv = nng_http_server_hold(&m->srv, u)) ||
	    (rv = nng_http_handler_alloc(&m->h, "/metrics", serve)) ||
	    (rv = nng_http_handler_set_method(m->h, "GET")) ||
	    (rv = nng_http_handler_set_data(m->h, m, NULL)) ||
	    (rv = nng_http_server_add_handler(m->srv, m->h))) {
		snprintf(err, errlen, "metrics_listen '%s': %s", url,
			 nng_strerror(rv));
		goto fail;
	}
	m->h = NULL; /* the server owns it now */
	if ((rv = nng_http_server_start(m->srv)) != 0) {
		snprintf(err, errlen, "metrics_listen '%s': cannot listen: %s",
			 url, nng_strerror(rv));
		goto fail;
	}
	nng_url_free(u);
	return m;
fail:
	if (m->h)
		nng_http_handler_free(m->h);
	if (m->srv)
		nng_http_server_release(m->srv);
	if (u)
		nng_url_free(u);
	strbuf_release(&m->text);
	pthread_mutex_destroy(&m->lock);
	free(m);
	return NULL;
}

void metrics_stop(struct metrics *m)
{
	if (!m)
		return;
	nng_http_server_stop(m->srv);
	nng_http_server_release(m->srv);
	strbuf_release(&m->text);
	pthread_mutex_destroy(&m->lock);
	free(m);
}
