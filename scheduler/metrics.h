/*
 * metrics.h - Prometheus /metrics on metrics_listen (http://HOST:PORT),
 * served by nng's HTTP server on its own threads. The core thread renders
 * its state once a second (metrics_render) and publishes the text; a
 * scrape copies the last text and adds what any thread can read (the
 * process, the connection counters), so a scrape never waits for the core
 * and the core never waits for a scrape.
 */
#ifndef SP_METRICS_H
#define SP_METRICS_H

#include <stddef.h>

#include "strbuf.h"

struct sched;
struct metrics;

/* How often the core renders. */
#define METRICS_EVERY_MS 1000

/* Starts serving GET /metrics on url ("http://127.0.0.1:9464"). NULL with
 * the reason in err. */
struct metrics *metrics_start(const char *url, char *err, size_t errlen);
/* Replaces the published text (any thread). */
void metrics_publish(struct metrics *m, const struct strbuf *text);
/* What a scrape answers: the published text, then the process and the
 * connection families. */
void metrics_scrape(struct metrics *m, struct strbuf *out);
/* Stops the server (no handler runs after it returns) and frees m. */
void metrics_stop(struct metrics *m);

/* Core thread: the scheduler's families, appended to out. */
void metrics_render(struct sched *c, struct strbuf *out);

#endif
