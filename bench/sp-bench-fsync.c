/*
 * sp-bench-fsync - the disk's own synced-write latency, the floor under
 * every acknowledgement the scheduler gives: appends of 300 bytes (about
 * one run start's WAL record) to a preallocated file, each followed by
 * fdatasync, paced at RATE per second, the way RocksDB writes a recycled
 * WAL file.
 *
 *   sp-bench-fsync DIR COUNT RATE
 * Prints: p50/p99/p999/max in ms and how many took over 5 ms.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	const size_t file_size = 64u << 20, chunk = 1u << 20, rec = 300;
	char path[4096], buf[300];
	long count, rate, over5 = 0;
	int64_t *lat, next;
	char *zeros;
	int fd;

	if (argc != 4 || (count = atol(argv[2])) < 1 ||
	    (rate = atol(argv[3])) < 1 || (size_t)count * rec > file_size) {
		fprintf(stderr, "usage: sp-bench-fsync DIR COUNT RATE "
				"(COUNT x 300 bytes within 64 MiB)\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/fsync.dat", argv[1]);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd == -1) {
		perror(path);
		return 1;
	}
	zeros = xcalloc(1, chunk);
	for (size_t off = 0; off < file_size; off += chunk)
		if (write(fd, zeros, chunk) != (ssize_t)chunk) {
			perror(path);
			return 1;
		}
	if (fsync(fd)) {
		perror(path);
		return 1;
	}
	memset(buf, 'x', sizeof(buf));
	lat = xcalloc((size_t)count, sizeof(*lat));
	next = time_mono_us();
	for (long i = 0; i < count; i++) {
		while (time_mono_us() < next)
			usleep(50);
		next += 1000000 / rate;
		int64_t t0 = time_mono_us();
		if (pwrite(fd, buf, rec, (off_t)(i * (long)rec)) != (ssize_t)rec ||
		    fdatasync(fd)) {
			perror(path);
			return 1;
		}
		lat[i] = time_mono_us() - t0;
		over5 += lat[i] > 5000;
	}
	qsort(lat, (size_t)count, sizeof(*lat), cmp_i64);
	printf("disk: %ld fdatasync'd 300-byte writes at %ld/s: p50 %.2f ms, "
	       "p99 %.2f ms, p999 %.2f ms, max %.2f ms; %ld over 5 ms\n",
	       count, rate, lat[count / 2] / 1e3, lat[count * 99 / 100] / 1e3,
	       lat[count * 999 / 1000] / 1e3, lat[count - 1] / 1e3, over5);
	close(fd);
	unlink(path);
	free(lat);
	free(zeros);
	return 0;
}
