/*
 * client.h - spctl's admin socket connection: send one command line, read
 * one JSON reply line.
 */
#ifndef SP_SPCTL_CLIENT_H
#define SP_SPCTL_CLIENT_H

#include <stddef.h>

#include "strbuf.h"

#define ADMIN_MAX_REPLY (64 * 1024 * 1024)

/* Connects to the Unix socket at path. The fd, or -1 with a reason. */
int admin_connect(const char *path, char *err, size_t errlen);
/* Sends line (a '\n' is added) and reads one reply line into reply
 * (without the '\n'), waiting at most timeout_ms. 0 or -1 with a reason. */
int admin_call(int fd, const char *line, size_t len, struct strbuf *reply,
	       int timeout_ms, char *err, size_t errlen);

#endif
