/* segprep.c - the commit log's next segment, prepared ahead on a thread
 * (segprep.h). */
#include "segprep.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

enum prep_state { PREP_IDLE, PREP_ASKED, PREP_BUSY, PREP_READY, PREP_FAILED };

struct segprep {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	enum prep_state state;
	atomic_bool stop;
	char path[4200];
	uint64_t size;
	char err[256];
};

/* Read only: the kernel maps it to the zero page. */
static const char zeros[1 << 20];

/* Writes path with size bytes of zeros, synced; stops early (failing
 * with ECANCELED) once *stop is set. 0, or -1 with err set and the file
 * gone. */
static int write_zeros(const char *path, uint64_t size,
		       const atomic_bool *stop, char *err, size_t errlen)
{
	const char *what = "cannot create";
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd == -1)
		goto fail;
	what = "cannot write";
	for (uint64_t off = 0; off < size;) {
		size_t n = size - off < sizeof(zeros) ? (size_t)(size - off)
						      : sizeof(zeros);
		ssize_t w;

		if (stop && atomic_load(stop)) {
			errno = ECANCELED;
			goto fail;
		}
		w = pwrite(fd, zeros, n, (off_t)off);
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			goto fail;
		}
		off += (uint64_t)w;
	}
	/* its size and blocks too: the file is renamed into the log as it
	 * is, and only its name is synced then */
	what = "cannot sync";
	if (fsync(fd))
		goto fail;
	close(fd);
	return 0;
fail:
	snprintf(err, errlen, "commit log: %s '%s': %s", what, path,
		 strerror(errno));
	if (fd != -1)
		close(fd);
	unlink(path);
	return -1;
}

static void *prep_main(void *arg)
{
	struct segprep *p = arg;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		char path[sizeof(p->path)];
		uint64_t size;
		int rc;

		while (p->state != PREP_ASKED && !atomic_load(&p->stop))
			pthread_cond_wait(&p->cond, &p->lock);
		if (atomic_load(&p->stop))
			break;
		memcpy(path, p->path, sizeof(path));
		size = p->size;
		p->state = PREP_BUSY;
		pthread_mutex_unlock(&p->lock);
		rc = write_zeros(path, size, &p->stop, p->err, sizeof(p->err));
		pthread_mutex_lock(&p->lock);
		p->state = rc ? PREP_FAILED : PREP_READY;
		pthread_cond_broadcast(&p->cond);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int segprep_zeros(const char *path, uint64_t size, char *err, size_t errlen)
{
	return write_zeros(path, size, NULL, err, errlen);
}

struct segprep *segprep_new(void)
{
	struct segprep *p = xcalloc(1, sizeof(*p));

	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	atomic_init(&p->stop, false);
	if (pthread_create(&p->thread, NULL, prep_main, p)) {
		pthread_cond_destroy(&p->cond);
		pthread_mutex_destroy(&p->lock);
		free(p);
		return NULL;
	}
	return p;
}

/* Waits, under the lock, until no request is being prepared. */
static void wait_settled(struct segprep *p)
{
	while (p->state == PREP_ASKED || p->state == PREP_BUSY)
		pthread_cond_wait(&p->cond, &p->lock);
}

void segprep_request(struct segprep *p, const char *path, uint64_t size)
{
	pthread_mutex_lock(&p->lock);
	wait_settled(p);
	if (p->state == PREP_READY)
		unlink(p->path);
	snprintf(p->path, sizeof(p->path), "%s", path);
	p->size = size;
	p->state = PREP_ASKED;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

bool segprep_take(struct segprep *p, char *err, size_t errlen)
{
	bool ready;

	pthread_mutex_lock(&p->lock);
	wait_settled(p);
	ready = p->state == PREP_READY;
	if (p->state == PREP_FAILED)
		snprintf(err, errlen, "%s", p->err);
	else if (p->state == PREP_IDLE)
		snprintf(err, errlen, "commit log: no segment was prepared");
	p->state = PREP_IDLE;
	pthread_mutex_unlock(&p->lock);
	return ready;
}

void segprep_free(struct segprep *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	atomic_store(&p->stop, true);
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thread, NULL);
	if (p->state == PREP_READY)
		unlink(p->path);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	free(p);
}
