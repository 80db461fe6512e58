/*
 * util.h - small helpers every module uses: allocation that aborts on OOM,
 * clocks, and careful file I/O; and logging (log.h).
 */
#ifndef SP_UTIL_H
#define SP_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdbool.h>

#include "log.h" /* also SP_PRINTF, SP_NORETURN */

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Allocation: these never return NULL; they abort the process on OOM. */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
/* Writes a one-line reason into err (if any room) and returns -1, so a
 * parser can `return err_fail(err, errlen, ...)`. */
int err_fail(char *err, size_t errlen, const char *fmt, ...) SP_PRINTF(3, 4);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Grow *arr (of *alloc elements of elsize) so that it holds at least need. */
void *xgrow(void *arr, size_t *alloc, size_t need, size_t elsize);
/* Faults in the pages wholly inside [p, p + len) at once, writable
 * (MADV_POPULATE_WRITE): one system call instead of a page fault per
 * page as an array about to be filled is first written (a restart
 * filling arrays of millions of entries; faults are dear in a VM). A
 * kernel without it (before 5.14) leaves them to fault as before. */
void xprefault(void *p, size_t len);

/* Wall clock in milliseconds since the epoch (records, timestamps). */
int64_t time_now_ms(void);
/* CLOCK_MONOTONIC in milliseconds (timeouts, intervals). */
int64_t time_mono_ms(void);
/* CLOCK_MONOTONIC in microseconds (latency figures). */
int64_t time_mono_us(void);
/* Formats ms-since-epoch as "2026-11-22T14:43:37.123Z" into buf (>= 32). */
void time_format_iso(int64_t ms, char *buf, size_t len);

/* Writes all of buf to fd, retrying on EINTR/short writes. 0 or -1. */
int write_all(int fd, const void *buf, size_t len);
/* Reads a whole (small) file into a NUL-terminated malloc'd buffer; sets
 * *len if not NULL. Returns NULL with errno set on failure or if the file
 * is larger than max bytes (errno = EFBIG). */
char *read_file(const char *path, size_t max, size_t *len);
/* Writes data to path atomically and durably: temp file in the same dir,
 * fsync, rename, fsync of the directory. mode as for open(2). 0 or -1. */
int write_file_atomic(const char *path, const void *data, size_t len,
		      unsigned mode);
/* mkdir -p with the given mode for directories that are created. 0 / -1. */
int mkdir_p(const char *path, unsigned mode);
/* Sets O_NONBLOCK (and FD_CLOEXEC) on fd. 0 or -1. */
int fd_set_nonblock(int fd);

/* Copies src into dst (size bytes, size > 0), cut short to fit and
 * always NUL-terminated: snprintf(dst, size, "%s", src) without the
 * format parsing, on paths every request takes. */
void str_copy(char *dst, size_t size, const char *src);
/* Writes v in decimal and a NUL to out (at least 21 bytes); returns the
 * number of digits. */
size_t fmt_u64(char *out, uint64_t v);

/* Whether s is one of the n strings of list. */
bool str_in(const char *s, const char *const *list, size_t n);

/* The agent port's URL schemes: tcp:// and tls+tcp://, and the tcp4,
 * tcp6, tls+tcp4 and tls+tcp6 forms that pin the address family (nng
 * dials only the first address a name resolves to: a name with an IPv6
 * address first never reaches a scheduler listening on IPv4 alone).
 * Returns 1 for a TLS scheme, 0 for a plain one, -1 for anything else;
 * *rest (if not NULL) gets what follows "://". */
int url_scheme(const char *url, const char **rest);

/* Hex-encodes len bytes into out (2*len+1 bytes). */
void hex_encode(const uint8_t *in, size_t len, char *out);
/* Decodes exactly len bytes from hex; 0 or -1 on bad input. */
int hex_decode(const char *hex, uint8_t *out, size_t len);

#endif
