/* notify.h - the agent's side of systemd's notify protocol (Type=notify):
 * READY=1, STATUS=, STOPPING=1 and watchdog pings, to the datagram socket
 * systemd names in NOTIFY_SOCKET. Nothing happens when it is not set. */
#ifndef SP_AGENT_NOTIFY_H
#define SP_AGENT_NOTIFY_H

#include <stdint.h>

/* Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID, and removes them
 * from the environment so that spark-submit and its children do not
 * inherit them. Call once, first. */
void notify_init(void);
/* Sends one message ("READY=1\nSTATUS=..."); 0, or -1 (not under systemd,
 * or the send failed: never fatal). */
int notify_send(const char *msg);
/* Sends WATCHDOG=1 if half the watchdog interval has gone by since the
 * last one (now: monotonic ms). Call from the event loop. */
void notify_watchdog(int64_t now_ms);
/* The watchdog interval in ms, 0 if none. */
int64_t notify_watchdog_ms(void);

#endif
