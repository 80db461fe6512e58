/*
 * backup.h - online backups of the store with RocksDB's BackupEngine, and
 * a restore into a new data dir (docs/storage.md, Backups).
 *
 * A backup dir holds only what BackupEngine writes: meta/ (one small file
 * per backup, listing its files and their crc32c), private/ID/ (the
 * backup's MANIFEST, CURRENT, OPTIONS and WAL tail) and shared_checksum/
 * (table and blob files, shared by every backup that has them, so a
 * backup copies only what changed since the last one).
 *
 * Each call opens the engine on the backup dir, does one thing, closes
 * it, and holds an exclusive flock(2) on the directory meanwhile: a
 * second call on the same dir, from this process or another (a restore
 * while the daemon prunes), is refused instead of racing it. Calls block
 * for as long as copying or reading the files takes: the scheduler runs
 * them on a worker thread (worker.h), never on the core thread. They
 * touch no scheduling state; any thread.
 */
#ifndef SP_BACKUP_H
#define SP_BACKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* What a call that fails returns, with its reason in err. */
enum backup_error {
	BACKUP_FAILED = -1,    /* I/O, a bad backup dir, a full disk, ... */
	BACKUP_NOT_FOUND = -2, /* no backup of that id */
	BACKUP_DAMAGED = -3,   /* a file missing, of the wrong size or
				* content, or a meta file unreadable */
	BACKUP_IN_USE = -4,    /* another call holds the backup dir */
};

struct backup_info {
	uint32_t id;
	int64_t time_ms;  /* when it was taken (BackupEngine keeps seconds) */
	uint64_t size;    /* its files' bytes, shared ones included */
	uint32_t files;
	bool damaged;     /* its meta file is there, but BackupEngine could
			   * not load it (a file missing or of the wrong size):
			   * not restorable; size and files are 0 */
};

/* Whether dir may serve as the backup dir of the store in data_dir:
 * absent, empty, or holding only what BackupEngine writes (meta/,
 * private/, shared*); and neither inside data_dir nor holding it (a
 * backup must outlive the data dir). 0, or -1 with a one-line reason. */
int backup_check_dir(const char *dir, const char *data_dir, char *err,
		     size_t errlen);

/* What backup_create did besides the backup itself. */
struct backup_created {
	struct backup_info info;
	uint64_t added_bytes; /* copied by this backup (the rest was shared) */
	uint64_t dir_bytes;   /* the whole backup dir afterwards */
};

/* Takes a backup of the open store s into dir (created, mode 0700, if
 * absent): memtables flushed first, then the live files and the WAL's
 * tail copied and synced, so the backup holds every write acknowledged
 * before the call. Writes go on meanwhile. The caller must keep s open
 * (no store_reopen, no store_close) until it returns. 0 and *out, or -1
 * with a one-line reason. */
int backup_create(struct store *s, const char *dir, struct backup_created *out,
		  char *err, size_t errlen);

/* The backups in dir, oldest first, damaged ones among them: *list is
 * malloc'd (caller frees; NULL for none), *n its length. A dir that does
 * not exist yet has none. 0, or -1 with a reason. */
int backup_list(const char *dir, const char *data_dir,
		struct backup_info **list, size_t *n, char *err,
		size_t errlen);

/* Checks backup id of dir: BackupEngine's verify (every file there with
 * its size), then every file read back and its crc32c compared with the
 * one recorded (backup_meta.h). *info gets the backup, *bytes what was
 * read. 0, or -1 with a one-line reason: BACKUP_NOT_FOUND for an
 * unknown id, BACKUP_DAMAGED naming the first damaged file. */
int backup_verify(const char *dir, const char *data_dir, uint32_t id,
		  struct backup_info *info, uint64_t *bytes, char *err,
		  size_t errlen);

/* Deletes every backup of dir but the keep (>= 1) newest, and the files
 * only they used. *removed gets how many went, *freed the bytes. 0, or
 * -1 with a reason. */
int backup_prune(const char *dir, const char *data_dir, uint32_t keep,
		 size_t *removed, uint64_t *freed, char *err, size_t errlen);

/* Restores backup id (0: the newest) of dir into data_dir, which must be
 * absent or an empty directory. Nothing half-written is left there: the
 * backup is restored into a new sibling directory, opened once as a
 * store (its format checked, the FORMAT file written, memtables
 * flushed), synced, and only then renamed to data_dir. On any failure
 * the sibling is removed and data_dir is as it was. *info gets the
 * backup restored. 0, or -1 with a one-line reason. */
int backup_restore(const char *dir, uint32_t id, const char *data_dir,
		   struct backup_info *info, char *err, size_t errlen);

#endif
