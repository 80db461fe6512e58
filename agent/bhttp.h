/*
 * bhttp.h - the backends' one HTTP call (Livy's REST API, the YARN
 * ResourceManager's): libcurl loaded on first use, like sparkrest.c, so
 * an agent that never talks HTTP never initialises it, and the static
 * agent (SP_STATIC_AGENT), which cannot load it, refuses with a reason.
 */
#ifndef SP_BHTTP_H
#define SP_BHTTP_H

#include <stddef.h>

#include "strbuf.h"

#define BHTTP_MAX_BODY (4u << 20) /* bytes of a response body kept */

struct bhttp_req {
	const char *method; /* GET, POST, PUT, DELETE */
	const char *url;
	const char *body;   /* JSON, or NULL (no body, no Content-Type) */
	const char *user;   /* basic auth, or NULL */
	const char *password;
	const char *ca_file; /* PEM bundle to verify https with, or NULL */
	long timeout_ms;    /* the whole call, connect included */
};

/* Performs req; the response body (at most BHTTP_MAX_BODY bytes) goes to
 * body (reset first) and the HTTP status to *status. 0 when an answer
 * came (any status), -1 with a one-line reason in err when none did
 * (connect, TLS, timeout). Reasons never quote the URL: it may carry
 * credentials. Blocks up to req->timeout_ms. */
int bhttp_call(const struct bhttp_req *req, long *status, struct strbuf *body,
	       char *err, size_t errlen);

#endif
