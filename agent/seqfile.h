/*
 * seqfile.h - sequence numbers that are never handed out twice, across
 * crashes: a block is reserved on disk (the file holds its end, written
 * atomically) before any number in it is used. A restart continues after
 * the last reserved block, so a crash only skips numbers. The agent keeps
 * one for its messages (the scheduler rejects a reused one as a replay)
 * and one for its telemetry batches (stored once per number).
 */
#ifndef SP_SEQFILE_H
#define SP_SEQFILE_H

#include <stddef.h>
#include <stdint.h>

struct seqfile {
	char path[600];
	uint64_t next;  /* the next number to hand out */
	uint64_t limit; /* reserved on disk up to here (exclusive) */
	uint64_t block;
};

/* Reads path (a missing file starts at 1) and reserves the first block.
 * 0, or -1 with a reason. */
int seqfile_open(struct seqfile *s, const char *path, uint64_t block,
		 char *err, size_t errlen);
/* The next number in *seq. 0, or -1 (and logged) if the next block cannot
 * be reserved. */
int seqfile_next(struct seqfile *s, uint64_t *seq);

#endif
