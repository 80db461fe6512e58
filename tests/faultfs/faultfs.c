/*
 * faultfs.c - an LD_PRELOAD shim that watches what a process writes under
 * one directory, so that a test can (1) make those writes fail on demand
 * and (2) simulate a power loss after killing the process: undo every
 * change the process did not make durable, in the manner of RocksDB's
 * FaultInjectionTestFS ("drop unsynced data").
 *
 * Environment (the shim does nothing without FAULTFS_DIR):
 *   FAULTFS_DIR  the directory whose files are watched (the data dir)
 *   FAULTFS_LOG  the undo journal, outside FAULTFS_DIR (optional): one
 *                record per change, written before the change is made,
 *                holding what is needed to undo it; and one per fsync
 *                that succeeded. tests/faultfs/powerloss.py reads it.
 *   FAULTFS_CTL  a control file (optional), read before every write and
 *                fsync under the directory: "enospc write" makes every write under the
 *                directory fail with ENOSPC; "eio sync" every fsync and
 *                fdatasync with EIO; "eio write,sync" both; "hold sync"
 *                makes every fsync and fdatasync wait until that line
 *                goes (a test stops a writer mid-way); "einval direct"
 *                makes every write through a descriptor opened O_DIRECT
 *                fail with EINVAL (a filesystem that takes the open but
 *                not the alignment); empty or missing: no faults.
 *
 * What counts as durable (the pessimistic POSIX model): a file's data
 * and size once fsync or fdatasync on it returned 0 (sync_file_range
 * does not count), or once a write through a descriptor opened with
 * O_DSYNC or O_SYNC returned (such a write is also a sync: it meets the
 * sync faults below, and it makes the file's earlier writes durable too,
 * which the commit log, the one user, never relies on); a new name
 * (create, rename) once its directory was fsynced. Unlinks are taken as durable at once (a file coming back is
 * not modelled). A failed fsync makes nothing durable.
 *
 * Journal record: struct rec, then `plen` bytes of path(s), then the
 * payload (the bytes an undo puts back). Kinds:
 *   'W' write at [a, a + n): b = the file's size before it; payload =
 *       the old bytes of [a, min(a + n, b))
 *   'T' size change (ftruncate, fallocate, O_TRUNC): a = new size, b = old
 *       size; payload = the old bytes of [a, b) when it shrank
 *   'S' fsync / fdatasync of ino (a file or a directory) that succeeded;
 *       its seq is taken before the call, so it covers only the changes
 *       recorded before the call began
 *   'C' ino created in directory dir_ino; path = its path
 *   'R' ino renamed: path = "OLD\0NEW", a = the old directory's ino,
 *       dir_ino = the new one's; when NEW existed, b = its ino and the
 *       payload its content (mode in `mode`)
 *   'U' ino unlinked from dir_ino
 * Records are appended in one write each under a mutex; powerloss.py
 * orders them by seq and ignores a torn last record (a kill during the
 * append: the change it announced was not made).
 */
#undef _FORTIFY_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_FDS 16384
#define REC_MAGIC 0x46465331u /* "FFS1" */

struct rec {
	uint32_t magic;
	uint32_t len; /* the whole record */
	uint32_t kind;
	uint32_t plen;
	uint64_t seq;
	uint64_t dev, ino, dir_ino;
	int64_t a, b;
	uint32_t mode;
	uint32_t pad;
};

struct tfd {
	bool tracked;
	bool dsync; /* opened O_DSYNC or O_SYNC: every write is synced */
	bool direct; /* opened O_DIRECT */
	dev_t dev;
	ino_t ino;
	int rfd; /* a read-only descriptor for saving old bytes, or -1 */
	char path[PATH_MAX];
};

static struct {
	pthread_once_t once;
	pthread_mutex_t lock;
	char dir[PATH_MAX];
	size_t dirlen;
	int log_fd;
	const char *ctl;
	bool fail_write, fail_sync, hold_sync, refuse_direct;
	int fail_errno;
	uint64_t seq;
	struct tfd *fds;
	/* the real functions */
	int (*open)(const char *, int, ...);
	int (*openat)(int, const char *, int, ...);
	int (*close)(int);
	ssize_t (*write)(int, const void *, size_t);
	ssize_t (*pwrite)(int, const void *, size_t, off_t);
	ssize_t (*writev)(int, const struct iovec *, int);
	ssize_t (*pwritev)(int, const struct iovec *, int, off_t);
	int (*fsync)(int);
	int (*fdatasync)(int);
	int (*ftruncate)(int, off_t);
	int (*fallocate)(int, int, off_t, off_t);
	int (*posix_fallocate)(int, off_t, off_t);
	int (*rename)(const char *, const char *);
	int (*renameat)(int, const char *, int, const char *);
	int (*renameat2)(int, const char *, int, const char *, unsigned);
	int (*unlink)(const char *);
	int (*unlinkat)(int, const char *, int);
} g = { .once = PTHREAD_ONCE_INIT, .lock = PTHREAD_MUTEX_INITIALIZER,
	.log_fd = -1 };

static void resolve(void)
{
	*(void **)&g.open = dlsym(RTLD_NEXT, "open");
	*(void **)&g.openat = dlsym(RTLD_NEXT, "openat");
	*(void **)&g.close = dlsym(RTLD_NEXT, "close");
	*(void **)&g.write = dlsym(RTLD_NEXT, "write");
	*(void **)&g.pwrite = dlsym(RTLD_NEXT, "pwrite");
	*(void **)&g.writev = dlsym(RTLD_NEXT, "writev");
	*(void **)&g.pwritev = dlsym(RTLD_NEXT, "pwritev");
	*(void **)&g.fsync = dlsym(RTLD_NEXT, "fsync");
	*(void **)&g.fdatasync = dlsym(RTLD_NEXT, "fdatasync");
	*(void **)&g.ftruncate = dlsym(RTLD_NEXT, "ftruncate");
	*(void **)&g.fallocate = dlsym(RTLD_NEXT, "fallocate");
	*(void **)&g.posix_fallocate = dlsym(RTLD_NEXT, "posix_fallocate");
	*(void **)&g.rename = dlsym(RTLD_NEXT, "rename");
	*(void **)&g.renameat = dlsym(RTLD_NEXT, "renameat");
	*(void **)&g.renameat2 = dlsym(RTLD_NEXT, "renameat2");
	*(void **)&g.unlink = dlsym(RTLD_NEXT, "unlink");
	*(void **)&g.unlinkat = dlsym(RTLD_NEXT, "unlinkat");
}

static void setup(void)
{
	const char *dir = getenv("FAULTFS_DIR"), *log = getenv("FAULTFS_LOG");

	resolve();
	g.ctl = getenv("FAULTFS_CTL");
	if (!dir)
		return; /* inert: nothing is watched */
	/* The directory may not exist yet (the process creates it): then
	 * it is taken as given, which must be absolute. */
	if (!realpath(dir, g.dir)) {
		if (dir[0] != '/')
			return;
		snprintf(g.dir, sizeof(g.dir), "%s", dir);
	}
	g.dirlen = strlen(g.dir);
	while (g.dirlen > 1 && g.dir[g.dirlen - 1] == '/')
		g.dir[--g.dirlen] = '\0';
	g.fds = calloc(MAX_FDS, sizeof(*g.fds));
	if (!g.fds) {
		g.dirlen = 0;
		return;
	}
	if (log)
		g.log_fd = g.open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
				  0600);
}

static void init(void)
{
	pthread_once(&g.once, setup);
}

/* ---- which paths are watched ---- */

/* The absolute form of path (relative to dirfd) with its directory part
 * resolved, into out; false if that is impossible. The last component is
 * kept as is: it may not exist yet. */
static bool abs_path(int dirfd, const char *path, char *out)
{
	char base[PATH_MAX], dir[PATH_MAX], link[64];
	const char *slash = strrchr(path, '/');
	ssize_t n;

	if (path[0] == '/') {
		snprintf(base, sizeof(base), "%s", path);
	} else if (dirfd == AT_FDCWD) {
		if (!getcwd(dir, sizeof(dir)))
			return false;
		snprintf(base, sizeof(base), "%s/%s", dir, path);
	} else {
		snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
		n = readlink(link, dir, sizeof(dir) - 1);
		if (n <= 0)
			return false;
		dir[n] = '\0';
		snprintf(base, sizeof(base), "%s/%s", dir, path);
	}
	slash = strrchr(base, '/');
	if (slash == base) {
		snprintf(out, PATH_MAX, "%s", base);
		return true;
	}
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - base), base);
	if (!realpath(dir, out))
		return false;
	n = (ssize_t)strlen(out);
	snprintf(out + n, (size_t)(PATH_MAX - n), "%s", slash);
	return true;
}

/* Whether changes are journaled (else faults are only injected). */
static bool journaling(void)
{
	return g.log_fd != -1;
}

static bool under_dir(const char *abs)
{
	return g.dirlen && !strncmp(abs, g.dir, g.dirlen) &&
	       (abs[g.dirlen] == '/' || abs[g.dirlen] == '\0');
}

static struct tfd *tracked(int fd)
{
	init();
	if (!g.dirlen || fd < 0 || fd >= MAX_FDS || !g.fds[fd].tracked)
		return NULL;
	return &g.fds[fd];
}

/* ---- fault injection ---- */

/* Read every time: two changes within one tick of the file clock would
 * leave the same mtime. */
static void read_ctl(void)
{
	char buf[128] = "";
	int fd;
	ssize_t n;

	if (!g.ctl)
		return;
	fd = g.open(g.ctl, O_RDONLY | O_CLOEXEC);
	n = fd == -1 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (fd != -1)
		g.close(fd);
	buf[n > 0 ? n : 0] = '\0';
	g.fail_errno = strstr(buf, "enospc") ? ENOSPC
		       : strstr(buf, "eio")  ? EIO
					     : 0;
	g.fail_write = g.fail_errno && strstr(buf, "write");
	g.fail_sync = g.fail_errno && strstr(buf, "sync");
	g.hold_sync = strstr(buf, "hold") && strstr(buf, "sync");
	g.refuse_direct = strstr(buf, "einval") && strstr(buf, "direct");
}

/* true (errno set) if this kind of call must fail now */
static bool inject(bool sync)
{
	bool fail;

	pthread_mutex_lock(&g.lock);
	read_ctl();
	for (; sync && g.hold_sync; read_ctl()) { /* "hold sync" */
		pthread_mutex_unlock(&g.lock);
		usleep(10000);
		pthread_mutex_lock(&g.lock);
	}
	fail = sync ? g.fail_sync : g.fail_write;
	pthread_mutex_unlock(&g.lock);
	if (fail)
		errno = g.fail_errno;
	return fail;
}

/* ---- the journal ---- */

static uint64_t next_seq(void)
{
	uint64_t s;
	pthread_mutex_lock(&g.lock);
	s = ++g.seq;
	pthread_mutex_unlock(&g.lock);
	return s;
}

/* Appends one record: r (len filled here), the paths, the payload. A
 * seq of 0 takes the next one. */
static void journal(struct rec *r, const char *p, size_t plen,
		    const void *payload, size_t n)
{
	struct iovec iov[3];
	int saved = errno;

	if (g.log_fd == -1)
		return;
	r->magic = REC_MAGIC;
	r->plen = (uint32_t)plen;
	r->len = (uint32_t)(sizeof(*r) + plen + n);
	iov[0] = (struct iovec){ r, sizeof(*r) };
	iov[1] = (struct iovec){ (void *)p, plen };
	iov[2] = (struct iovec){ (void *)payload, n };
	pthread_mutex_lock(&g.lock);
	if (!r->seq)
		r->seq = ++g.seq;
	/* one call: the record is whole, or torn only by a kill */
	if (g.writev(g.log_fd, iov, 3) == -1)
		perror("faultfs: journal");
	pthread_mutex_unlock(&g.lock);
	errno = saved;
}

/* Reads [off, off + n) of t's file (n may be 0) into a malloc'd buffer. */
static char *old_bytes(struct tfd *t, int fd, off_t off, size_t n)
{
	char *buf = n ? malloc(n) : NULL, link[64];
	size_t got = 0;

	if (!buf)
		return NULL;
	if (t->rfd == -1) {
		/* the descriptor may be write-only */
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		t->rfd = g.open(link, O_RDONLY | O_CLOEXEC);
	}
	while (t->rfd != -1 && got < n) {
		ssize_t r = pread(t->rfd, buf + got, n - got,
				  off + (off_t)got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	memset(buf + got, 0, n - got);
	return buf;
}

static void rec_init(struct rec *r, uint32_t kind, const struct tfd *t)
{
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	if (t) {
		r->dev = t->dev;
		r->ino = t->ino;
	}
}

/* Before a write of n bytes at off (-1: the current position). */
static void note_write(struct tfd *t, int fd, off_t off, size_t n)
{
	struct stat st;
	struct rec r;
	size_t keep = 0;
	char *old;

	if (!journaling() || fstat(fd, &st) == -1)
		return;
	if (off < 0) {
		int fl = fcntl(fd, F_GETFL);
		off = fl != -1 && (fl & O_APPEND) ? st.st_size
						  : lseek(fd, 0, SEEK_CUR);
	}
	if (off < st.st_size)
		keep = (size_t)(st.st_size - off) < n
			       ? (size_t)(st.st_size - off)
			       : n;
	old = old_bytes(t, fd, off, keep);
	rec_init(&r, 'W', t);
	r.a = off;
	r.b = st.st_size;
	journal(&r, t->path, strlen(t->path), old, old ? keep : 0);
	free(old);
}

/* Before the file's size changes to size. */
static void note_size(struct tfd *t, int fd, off_t size)
{
	struct stat st;
	struct rec r;
	char *old = NULL;
	size_t n = 0;

	if (!journaling() || fstat(fd, &st) == -1 || st.st_size == size)
		return;
	if (size < st.st_size) {
		n = (size_t)(st.st_size - size);
		old = old_bytes(t, fd, size, n);
	}
	rec_init(&r, 'T', t);
	r.a = size;
	r.b = st.st_size;
	journal(&r, t->path, strlen(t->path), old, old ? n : 0);
	free(old);
}

static void note_sync(struct tfd *t, uint64_t seq)
{
	struct rec r;
	rec_init(&r, 'S', t);
	r.seq = seq;
	journal(&r, t->path, strlen(t->path), NULL, 0);
}

static ino_t dir_ino_of(const char *abs)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(abs, '/');
	struct stat st;

	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - abs), abs);
	return stat(dir[0] ? dir : "/", &st) == -1 ? 0 : st.st_ino;
}

/* ---- open and close ---- */

static void track(int fd, const char *abs)
{
	struct stat st;
	struct tfd *t;

	if (fd < 0 || fd >= MAX_FDS || fstat(fd, &st) == -1)
		return;
	t = &g.fds[fd];
	if (t->tracked && t->rfd != -1)
		g.close(t->rfd);
	t->tracked = true;
	t->dsync = false;
	t->direct = false;
	t->dev = st.st_dev;
	t->ino = st.st_ino;
	t->rfd = -1;
	snprintf(t->path, sizeof(t->path), "%s", abs);
}

/* A descriptor the kernel just gave out is no watched file, whatever the
 * table says: a watched one closed where close() is not seen (fclose,
 * closedir, a close inside libc) left its entry behind, and a file outside
 * the dir opened on that number was then taken for it (a data dir's WAL
 * held by a "hold sync" meant for a backup dir). */
static void forget_fd(int fd)
{
	if (fd < 0 || fd >= MAX_FDS || !g.dirlen)
		return;
	pthread_mutex_lock(&g.lock);
	if (g.fds[fd].tracked) {
		g.fds[fd].tracked = false;
		if (g.fds[fd].rfd != -1)
			g.close(g.fds[fd].rfd);
		g.fds[fd].rfd = -1;
	}
	pthread_mutex_unlock(&g.lock);
}

/* Around every open: what existed before, O_TRUNC's loss, the create. */
static int do_open(int dirfd, const char *path, int flags, mode_t mode)
{
	char abs[PATH_MAX];
	struct stat before;
	bool watch, existed;
	int fd;

	init();
	watch = g.dirlen && abs_path(dirfd, path, abs) && under_dir(abs);
	if (!watch) {
		fd = g.openat(dirfd, path, flags, mode);
		forget_fd(fd);
		return fd;
	}
	existed = stat(abs, &before) == 0;
	if (existed && (flags & O_TRUNC) && S_ISREG(before.st_mode) &&
	    before.st_size > 0 && (flags & O_ACCMODE) != O_RDONLY) {
		/* note the loss through a descriptor of our own */
		int rfd = g.open(abs, O_RDONLY | O_CLOEXEC);
		if (rfd != -1 && rfd < MAX_FDS) {
			track(rfd, abs);
			note_size(&g.fds[rfd], rfd, 0);
			g.fds[rfd].tracked = false;
			if (g.fds[rfd].rfd != -1)
				g.close(g.fds[rfd].rfd);
		}
		if (rfd != -1)
			g.close(rfd);
	}
	fd = g.openat(dirfd, path, flags, mode);
	if (fd == -1)
		return -1;
	track(fd, abs);
	if (fd < MAX_FDS) {
		g.fds[fd].dsync = (flags & O_DSYNC) == O_DSYNC;
		g.fds[fd].direct = (flags & O_DIRECT) != 0;
	}
	if (!existed && fd < MAX_FDS) {
		struct rec r;
		rec_init(&r, 'C', &g.fds[fd]);
		r.dir_ino = dir_ino_of(abs);
		journal(&r, abs, strlen(abs), NULL, 0);
	}
	return fd;
}

static mode_t open_mode(int flags, va_list ap)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE
		       ? (mode_t)va_arg(ap, int)
		       : 0;
}

int open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;
	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return do_open(AT_FDCWD, path, flags, mode);
}


int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;
	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return do_open(dirfd, path, flags, mode);
}

/* The 64-bit names are the same calls on a 64-bit system. */
int open64(const char *path, int flags, ...) __attribute__((alias("open")));
int openat64(int dirfd, const char *path, int flags, ...)
	__attribute__((alias("openat")));

int creat(const char *path, mode_t mode)
{
	return do_open(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

int creat64(const char *path, mode_t mode)
{
	return creat(path, mode);
}

int close(int fd)
{
	struct tfd *t = tracked(fd);

	if (t) {
		pthread_mutex_lock(&g.lock);
		t->tracked = false;
		if (t->rfd != -1)
			g.close(t->rfd);
		t->rfd = -1;
		pthread_mutex_unlock(&g.lock);
	}
	return g.close(fd);
}

/* ---- data ---- */

static size_t iov_len(const struct iovec *iov, int n)
{
	size_t len = 0;
	for (int i = 0; i < n; i++)
		len += iov[i].iov_len;
	return len;
}

/* Before a write of n bytes at off (-1: the current position): the
 * faults it meets (an O_DSYNC one those of a sync too) and its journal
 * record. 0, or -1 with errno: fail the write. */
static int before_write(struct tfd *t, int fd, off_t off, size_t n,
			uint64_t *seq)
{
	bool refuse = false;

	if (t->direct) { /* "einval direct" */
		pthread_mutex_lock(&g.lock);
		read_ctl();
		refuse = g.refuse_direct;
		pthread_mutex_unlock(&g.lock);
	}
	if (refuse) {
		errno = EINVAL;
		return -1;
	}
	if (inject(false) || (t->dsync && inject(true)))
		return -1;
	note_write(t, fd, off, n);
	*seq = next_seq(); /* an O_DSYNC write's sync covers the write */
	return 0;
}

/* After it: what an O_DSYNC write wrote is durable. */
static ssize_t after_write(struct tfd *t, ssize_t rc, uint64_t seq)
{
	if (t && t->dsync && rc >= 0)
		note_sync(t, seq);
	return rc;
}

ssize_t write(int fd, const void *buf, size_t n)
{
	struct tfd *t = tracked(fd);
	uint64_t seq = 0;

	if (t && before_write(t, fd, -1, n, &seq))
		return -1;
	return after_write(t, g.write(fd, buf, n), seq);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	struct tfd *t = tracked(fd);
	uint64_t seq = 0;

	if (t && before_write(t, fd, off, n, &seq))
		return -1;
	return after_write(t, g.pwrite(fd, buf, n, off), seq);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	return pwrite(fd, buf, n, off);
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	struct tfd *t = tracked(fd);
	uint64_t seq = 0;

	if (t && before_write(t, fd, -1, iov_len(iov, cnt), &seq))
		return -1;
	return after_write(t, g.writev(fd, iov, cnt), seq);
}

ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	struct tfd *t = tracked(fd);
	uint64_t seq = 0;

	if (t && before_write(t, fd, off, iov_len(iov, cnt), &seq))
		return -1;
	return after_write(t, g.pwritev(fd, iov, cnt, off), seq);
}

ssize_t pwritev64(int fd, const struct iovec *iov, int cnt, off_t off)
{
	return pwritev(fd, iov, cnt, off);
}

int ftruncate(int fd, off_t size)
{
	struct tfd *t = tracked(fd);

	if (t) {
		if (inject(false))
			return -1;
		note_size(t, fd, size);
	}
	return g.ftruncate(fd, size);
}

int ftruncate64(int fd, off_t size)
{
	return ftruncate(fd, size);
}

/* Preallocation that keeps the size changes no content. */
static void note_alloc(struct tfd *t, int fd, int mode, off_t off, off_t len)
{
	struct stat st;

	if (!(mode & FALLOC_FL_KEEP_SIZE) && fstat(fd, &st) == 0 &&
	    off + len > st.st_size)
		note_size(t, fd, off + len);
}

int fallocate(int fd, int mode, off_t off, off_t len)
{
	struct tfd *t = tracked(fd);

	if (t) {
		if (inject(false))
			return -1;
		note_alloc(t, fd, mode, off, len);
	}
	return g.fallocate(fd, mode, off, len);
}

int fallocate64(int fd, int mode, off_t off, off_t len)
{
	return fallocate(fd, mode, off, len);
}

int posix_fallocate(int fd, off_t off, off_t len)
{
	struct tfd *t = tracked(fd);

	if (t) {
		if (inject(false))
			return errno;
		note_alloc(t, fd, 0, off, len);
	}
	return g.posix_fallocate(fd, off, len);
}

int posix_fallocate64(int fd, off_t off, off_t len)
{
	return posix_fallocate(fd, off, len);
}

static int do_sync(int fd, int (*fn)(int))
{
	struct tfd *t = tracked(fd);
	uint64_t seq;
	int rc;

	if (!t)
		return fn(fd);
	if (inject(true))
		return -1;
	seq = next_seq(); /* covers what was recorded before the call */
	rc = fn(fd);
	if (rc == 0)
		note_sync(t, seq);
	return rc;
}

int fsync(int fd)
{
	init();
	return do_sync(fd, g.fsync);
}

int fdatasync(int fd)
{
	init();
	return do_sync(fd, g.fdatasync);
}

/* ---- names ---- */

/* The content and mode of the file at abs, for undoing its replacement. */
static char *slurp(const char *abs, size_t *n, struct stat *st)
{
	int fd = g.open(abs, O_RDONLY | O_CLOEXEC);
	char *buf;
	size_t got = 0;

	*n = 0;
	if (fd == -1)
		return NULL;
	if (fstat(fd, st) == -1 || !S_ISREG(st->st_mode) ||
	    !(buf = malloc((size_t)st->st_size + 1))) {
		g.close(fd);
		return NULL;
	}
	while (got < (size_t)st->st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st->st_size - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	g.close(fd);
	*n = got;
	return buf;
}

static void note_rename(const char *from, const char *to)
{
	char paths[2 * PATH_MAX];
	struct stat st, tst;
	struct rec r;
	char *old = NULL;
	size_t n = 0, flen = strlen(from), tlen = strlen(to);

	if (!journaling() || stat(from, &st) == -1)
		return;
	memset(&r, 0, sizeof(r));
	r.kind = 'R';
	r.dev = st.st_dev;
	r.ino = st.st_ino;
	r.a = (int64_t)dir_ino_of(from);
	r.dir_ino = dir_ino_of(to);
	if (lstat(to, &tst) == 0) {
		r.b = (int64_t)tst.st_ino;
		old = slurp(to, &n, &tst);
		r.mode = tst.st_mode & 07777;
	}
	memcpy(paths, from, flen + 1);
	memcpy(paths + flen + 1, to, tlen + 1);
	journal(&r, paths, flen + 1 + tlen, old, n);
	free(old);
}

static int do_rename(int ofd, const char *from, int nfd, const char *to,
		     unsigned flags)
{
	char afrom[PATH_MAX], ato[PATH_MAX];

	init();
	if (g.dirlen && abs_path(ofd, from, afrom) && abs_path(nfd, to, ato) &&
	    (under_dir(afrom) || under_dir(ato)))
		note_rename(afrom, ato);
	if (flags)
		return g.renameat2(ofd, from, nfd, to, flags);
	return g.renameat(ofd, from, nfd, to);
}

int rename(const char *from, const char *to)
{
	return do_rename(AT_FDCWD, from, AT_FDCWD, to, 0);
}

int renameat(int ofd, const char *from, int nfd, const char *to)
{
	return do_rename(ofd, from, nfd, to, 0);
}

int renameat2(int ofd, const char *from, int nfd, const char *to,
	      unsigned flags)
{
	return do_rename(ofd, from, nfd, to, flags);
}

static int do_unlink(int dirfd, const char *path, int flags)
{
	char abs[PATH_MAX];
	struct stat st;

	init();
	if (g.dirlen && abs_path(dirfd, path, abs) && under_dir(abs) &&
	    lstat(abs, &st) == 0) {
		struct rec r;
		memset(&r, 0, sizeof(r));
		r.kind = 'U';
		r.dev = st.st_dev;
		r.ino = st.st_ino;
		r.dir_ino = dir_ino_of(abs);
		journal(&r, abs, strlen(abs), NULL, 0);
	}
	return g.unlinkat(dirfd, path, flags);
}

int unlink(const char *path)
{
	return do_unlink(AT_FDCWD, path, 0);
}

int unlinkat(int dirfd, const char *path, int flags)
{
	return do_unlink(dirfd, path, flags);
}
