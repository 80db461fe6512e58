/*
 * backup_meta.h - the check that RocksDB 7.8's C API leaves out of
 * `backup verify`: every file of a backup read back and its crc32c
 * compared with the one its meta file recorded.
 * rocksdb_backup_engine_verify_backup only checks that each file is there
 * with its size, so a flipped byte passes it; a restore would find it,
 * too late.
 *
 * The meta file (BACKUP_DIR/meta/ID) is BackupEngine's: schema 1
 *
 *   TIMESTAMP\n SEQUENCE\n [metadata HEX\n] NFILES\n
 *   PATH crc32 DECIMAL\n ...
 *
 * or schema 2 ("schema_version 2[.x]" first; fields after each PATH in
 * name/value pairs, "size" among them; "// FOOTER" ends the files). It
 * sits in a directory anyone with access may damage, so the parser takes
 * any bytes (tests/fuzz/fuzz_backup_meta.c). No I/O in the parser, no
 * state; any thread.
 */
#ifndef SP_BACKUP_META_H
#define SP_BACKUP_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* CRC-32C (Castagnoli), as RocksDB records it: crc32c(0, buf, len) is
 * the checksum of buf; pass the last value to continue over more bytes. */
uint32_t crc32c(uint32_t crc, const void *buf, size_t len);

struct backup_meta_file {
	char *path;      /* relative to the backup dir, checked: no "..",
			  * not absolute */
	uint32_t crc;
	bool has_crc;
	uint64_t size;   /* schema 2 only */
	bool has_size;
};

struct backup_meta {
	int64_t timestamp_s;
	uint64_t sequence;
	struct backup_meta_file *files; /* owned */
	size_t nfiles;
};

/* Parses a meta file's text (len bytes, need not be terminated) into m.
 * 0, or -1 with a one-line reason in err (m is then empty). Release m
 * with backup_meta_release either way. */
int backup_meta_parse(const char *text, size_t len, struct backup_meta *m,
		      char *err, size_t errlen);
void backup_meta_release(struct backup_meta *m);

/* Reads every file backup id in dir lists and compares its crc32c (and
 * its size, where recorded) with the meta file's. *files and *bytes get
 * how many files and bytes were read. 0, or -1 with a one-line reason
 * naming the first file that differs. Blocks on the files: never on the
 * core thread. */
int backup_meta_check(const char *dir, uint32_t id, uint64_t *files,
		      uint64_t *bytes, char *err, size_t errlen);

#endif
