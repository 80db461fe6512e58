/*
 * segprep.h - prepares the commit log's next segment on a thread of its
 * own: a file of its full size, written with zeros and synced, under a
 * name the log does not read (NUM.new). A segment whose blocks were all
 * written takes each record with one synchronous write of its data: no
 * extent changes from unwritten to written, so nothing but the data goes
 * to the disk (commitlog.c). Writing 16 MiB of zeros takes tens of
 * milliseconds, which the core thread must not wait for when a segment
 * fills; the preparer does it while the previous segment fills.
 */
#ifndef SP_SEGPREP_H
#define SP_SEGPREP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct segprep;

/* Starts the preparer thread; NULL if it cannot (the log then creates
 * each segment itself, allocated but not written). */
struct segprep *segprep_new(void);

/* Asks for path: size bytes of zeros, synced. A prepared file not taken
 * yet is deleted first (it is only zeros). */
void segprep_request(struct segprep *p, const char *path, uint64_t size);

/* Waits for the file asked for last; true when it is ready: the caller
 * then owns it (renames or deletes it). false with the reason in err
 * when preparing it failed (the file is deleted) or nothing was asked. */
bool segprep_take(struct segprep *p, char *err, size_t errlen);

/* The preparer's work, done by the caller: path gets size bytes of
 * zeros, synced. 0, or -1 with the reason in err (the file deleted). */
int segprep_zeros(const char *path, uint64_t size, char *err, size_t errlen);

/* Stops the thread and deletes a prepared file not taken. */
void segprep_free(struct segprep *p);

#endif
