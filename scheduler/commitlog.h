/*
 * commitlog.h - the store's commit log: every write batch, synced in
 * segment files that were given their full size when created, so that an
 * fdatasync writes the record's data and nothing else (a file that grows
 * makes every fdatasync write its inode too: a second device write).
 * Segments are written with zeros before they take a record (the next
 * one ahead, on a thread: segprep.h) and then with O_DIRECT | O_DSYNC
 * (commitlog.c).
 * RocksDB's own WAL is off; a segment is retired once the memtables that
 * hold its writes are flushed (store.c). docs/storage.md, Commit log.
 *
 * Records: a 24-byte header (CRC-32 of the rest, payload length, the
 * segment's number, the record's sequence number, all big-endian), then
 * the payload. A record is valid when its CRC matches, it names its own
 * segment and it fits in the file; the sequence numbers of all segments
 * follow each other without a gap.
 */
#ifndef SP_COMMITLOG_H
#define SP_COMMITLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define COMMITLOG_DIR "commitlog"
#define COMMITLOG_HEADER 24

struct commitlog;

/* Called for every valid record, in order, by commitlog_open. */
typedef int (*commitlog_apply_fn)(void *ctx, const void *rec, size_t len,
				  char *err, size_t errlen);

/* Opens (creating) dir, replays every record of every segment in it
 * through apply, and starts a new segment of segment_bytes after them.
 * An invalid record ends its segment (the torn last write of a crash)
 * unless a valid record of the same segment follows it: that is damage,
 * and so is a gap in the sequence numbers; either fails the open, with
 * the segment and offset in err. *replayed counts the records applied. */
struct commitlog *commitlog_open(const char *dir, uint64_t segment_bytes,
				 commitlog_apply_fn apply, void *ctx,
				 uint64_t *replayed, char *err, size_t errlen);

/* Appends one record; with sync, fdatasyncs the segment before
 * returning. A record that does not fit in the segment starts the next
 * one (the full one synced first); *switched is then set. After a
 * failure the log takes no more records: close it and open it again (a
 * new segment; nothing is ever written after a failed write). 0, or -1
 * with the reason (strerror's words: store_fault_of reads them). */
int commitlog_append(struct commitlog *l, const void *rec, size_t len,
		     bool sync, bool *switched, char *err, size_t errlen);

/* The number of the segment records go to now. */
uint64_t commitlog_active(const struct commitlog *l);
/* Whether the active segment was written with zeros before it took a
 * record (the open's own, or a spare from segprep.h), taking direct
 * synchronous writes where the filesystem allows; not one the log had
 * to allocate at once (a record larger than a segment, a failure). */
bool commitlog_prepared(const struct commitlog *l);
/* How many segments before the active one are still kept. */
size_t commitlog_retired_pending(const struct commitlog *l);

/* Ends the active segment (if it holds a record): the next record starts
 * a new one, and everything before can be retired once flushed. 0, or
 * -1 with the reason (the log then takes no more records). */
int commitlog_roll(struct commitlog *l, char *err, size_t errlen);

/* Deletes the segments numbered below before (their writes are flushed)
 * and syncs the directory, so that none comes back after a power cut to
 * be replayed without the segments that followed it. */
int commitlog_retire_below(struct commitlog *l, uint64_t before, char *err,
			   size_t errlen);

/* Closes the log; with remove_all (every write is flushed), its segments
 * are deleted first. */
void commitlog_close(struct commitlog *l, bool remove_all);

#endif
