/* client.c - one request/reply exchange over the admin socket. */
#include "client.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "util.h"

int admin_connect(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path '%s' is too long", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		snprintf(err, errlen,
			 "cannot connect to '%s': %s (is sparkpilot-scheduler running?)",
			 path, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	return fd;
}

int admin_call(int fd, const char *line, size_t len, struct strbuf *reply,
	       int timeout_ms, char *err, size_t errlen)
{
	char buf[65536];
	size_t scanned = 0;

	/* A connection the scheduler refuses (too many) is answered with
	 * one line and closed before the command is read: read the line. */
	if ((write_all(fd, line, len) == -1 || write_all(fd, "\n", 1) == -1) &&
	    errno != EPIPE && errno != ECONNRESET) {
		snprintf(err, errlen, "cannot send the command: %s",
			 strerror(errno));
		return -1;
	}
	strbuf_reset(reply);
	for (;;) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		char *nl = memchr(reply->buf + scanned, '\n',
				  reply->len - scanned);
		ssize_t n;
		if (nl) {
			strbuf_setlen(reply, (size_t)(nl - reply->buf));
			return 0;
		}
		scanned = reply->len;
		if (reply->len > ADMIN_MAX_REPLY) {
			snprintf(err, errlen, "reply larger than 64 MiB");
			return -1;
		}
		n = poll(&pfd, 1, timeout_ms);
		if (n == 0) {
			snprintf(err, errlen, "no reply within %d s",
				 timeout_ms / 1000);
			return -1;
		}
		if (n == -1 && errno == EINTR)
			continue;
		n = read(fd, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "the scheduler closed the connection%s%s",
				 n ? ": " : "", n ? strerror(errno) : "");
			return -1;
		}
		strbuf_add(reply, buf, (size_t)n);
	}
}
