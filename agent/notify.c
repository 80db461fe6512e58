/* notify.c - systemd's notify protocol, written out here rather than taken
 * from libsystemd: the static agent cannot link libsystemd (Debian ships
 * no static libsystemd.a, and it would pull in more than the four lines
 * of protocol used), and one code path serves both agent builds. The
 * protocol is a datagram of "KEY=VALUE" lines to the AF_UNIX socket named
 * by NOTIFY_SOCKET ('@' for an abstract one); sd_notify(3). */
#include "notify.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "parse.h"
#include "util.h"

static struct sockaddr_un addr;
static socklen_t addr_len; /* 0: not under systemd */
static int64_t watchdog_ms, last_ping_ms = -1;

void notify_init(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	const char *usec = getenv("WATCHDOG_USEC");
	const char *pid = getenv("WATCHDOG_PID");
	size_t n = path ? strlen(path) : 0;
	uint64_t us, p;
	char err[128];

	if (n > 0 && n < sizeof(addr.sun_path) &&
	    (path[0] == '/' || path[0] == '@')) {
		addr.sun_family = AF_UNIX;
		memcpy(addr.sun_path, path, n);
		if (path[0] == '@')
			addr.sun_path[0] = '\0';
		addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	}
	/* the watchdog is ours only when WATCHDOG_PID is unset or is us */
	if (usec && !parse_u64(usec, 1, UINT64_MAX, &us, err, sizeof(err)) &&
	    (!pid || (!parse_u64(pid, 1, UINT64_MAX, &p, err, sizeof(err)) &&
		      p == (uint64_t)getpid())))
		watchdog_ms = (int64_t)(us / 2000) > 0 ? (int64_t)(us / 2000) : 1;
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
}

int notify_send(const char *msg)
{
	int fd, rc;

	if (!addr_len)
		return -1;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	do
		rc = (int)sendto(fd, msg, strlen(msg), MSG_NOSIGNAL,
				 (struct sockaddr *)&addr, addr_len);
	while (rc < 0 && errno == EINTR);
	close(fd);
	return rc < 0 ? -1 : 0;
}

void notify_watchdog(int64_t now_ms)
{
	if (!watchdog_ms || !addr_len)
		return;
	if (last_ping_ms >= 0 && now_ms - last_ping_ms < watchdog_ms)
		return;
	last_ping_ms = now_ms;
	notify_send("WATCHDOG=1");
}

int64_t notify_watchdog_ms(void)
{
	return addr_len ? watchdog_ms : 0;
}
