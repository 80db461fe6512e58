/*
 * keyring.h - per-tenant data keys (crypto-shredding, docs/storage.md,
 * Encryption at rest).
 *
 * Each tenant's customer data in the store (job arguments, telemetry
 * batches, line logs) is sealed with AES-256-GCM under the tenant's own
 * 256-bit data key. The data keys are kept, each wrapped (AES-256-GCM)
 * under a master key that lives outside the data dir, in a small text
 * file OUTSIDE RocksDB: DATA_DIR/keyring, and a copy in BACKUP_DIR/keyring
 * when backups are configured. BackupEngine copies only RocksDB's files,
 * so no backup holds a data key: destroying a tenant's key (rewriting
 * both files without it) makes its data unreadable in the store, in its
 * not yet compacted files and in every backup at once.
 *
 * A sealed value: 0xE5 (SEAL_MAGIC, a byte no plaintext value of the
 * store starts with) ‖ version 1 ‖ key id u32 BE ‖ nonce (12) ‖ ciphertext
 * ‖ tag (16). The additional data is the 6-byte header, the column
 * family's name, a NUL and the record's key: a sealed value cannot be
 * moved to another record.
 *
 * Not thread-safe: the core thread uses it (and records_load before the
 * core starts). Sealing and opening allocate no shared state.
 */
#ifndef SP_KEYRING_H
#define SP_KEYRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

#define KEYRING_FILE "keyring"
#define KEYRING_KEY_BYTES 32
#define SEAL_MAGIC 0xE5
#define SEAL_VERSION 1
#define SEAL_HEADER 6
#define SEAL_NONCE 12
#define SEAL_TAG 16
#define SEAL_OVERHEAD (SEAL_HEADER + SEAL_NONCE + SEAL_TAG)
/* keyring_open_value: the value's data key was destroyed (or never in
 * this keyring). */
#define KEYRING_DESTROYED (-2)
/* What `run logs` and `job show` show for data that cannot be read. */
#define KEYRING_DESTROYED_TEXT "(data key destroyed)"

struct keyring;

/* Reads the master key (64 hex digits and a newline) from path. With
 * create, a missing file is made (mode 0600, its directory 0700) from
 * RAND_bytes. A file readable or writable by group or others is refused.
 * 0, or -1 with one line in err ("cannot read master key '/p': ..."). */
int keyring_master_load(const char *path, bool create,
			uint8_t key[KEYRING_KEY_BYTES], char *err,
			size_t errlen);

/* An empty keyring under master (copied), writing nowhere: for tests,
 * benches and keyring_parse. Free with keyring_free. */
struct keyring *keyring_new(const uint8_t master[KEYRING_KEY_BYTES]);
/* Where keyring_save writes: path, and copy if not NULL/empty. */
void keyring_set_files(struct keyring *kr, const char *path,
		       const char *copy);
void keyring_free(struct keyring *kr);

/* The start-up path: the master key from master_path (created when there
 * is neither it nor a keyring), then DATA_DIR/keyring (created empty if
 * absent, unless need_file: a store of the sealing format must have
 * one). Refused, one line in err, when the keyring does not decrypt
 * under the master key. */
struct keyring *keyring_load(const char *master_path, const char *data_dir,
			     bool need_file, char *err, size_t errlen);
/* Keeps a copy of the keyring in dir (the backup dir: a lost data dir is
 * restored from the backups, this copy and the master key) from now on,
 * and writes it now (dir created 0700 if absent). NULL or "": no copy.
 * 0, or -1 with the reason (then no copy is kept). */
int keyring_set_copy(struct keyring *kr, const char *dir, char *err,
		     size_t errlen);

/* Parses the text of a keyring file into kr (which must be empty): every
 * entry's key is unwrapped with kr's master key. 0, or -1 with the first
 * problem ("keyring line 3: ..."). Outside input: fuzzed. */
int keyring_parse(struct keyring *kr, const char *text, size_t len,
		  char *err, size_t errlen);
/* The file's text, into out (appended). */
void keyring_format(const struct keyring *kr, struct strbuf *out);
/* Writes the files (keyring_set_files) atomically: temp file, fsync,
 * rename, fsync of the directory; the copy after the main file. 0, or
 * -1 with the reason. No files set: 0. */
int keyring_save(const struct keyring *kr, char *err, size_t errlen);

/* The key id of tenant's data key, 0 if it has none. */
/* Whether the copy is kept in dir. */
bool keyring_has_copy(const struct keyring *kr, const char *dir);
uint32_t keyring_key_id(const struct keyring *kr, const char *tenant);
/* Gives tenant a data key if it has none, and saves the files before
 * returning (a value sealed under a key not yet on disk would be lost
 * in a crash). 0, or -1 with the reason (nothing changed). */
int keyring_ensure(struct keyring *kr, const char *tenant, int64_t now_ms,
		   char *err, size_t errlen);
/* Destroys tenant's data key: removed from memory (wiped) and from both
 * files, saved before returning. *id gets the destroyed key's id (0: it
 * had none, nothing saved). 0, or -1 with the reason (the key is then
 * kept). */
int keyring_destroy(struct keyring *kr, const char *tenant, uint32_t *id,
		    char *err, size_t errlen);
size_t keyring_count(const struct keyring *kr);

/* Whether val is a sealed value (else: plaintext of an older format). */
bool keyring_is_sealed(const void *val, size_t len);
/* Seals plain for the record (cf, key) of tenant, appending to out. 0, or
 * -1 if tenant has no data key (out unchanged). */
int keyring_seal(const struct keyring *kr, const char *tenant,
		 const char *cf, const void *key, size_t klen,
		 const void *plain, size_t plen, struct strbuf *out);
/* Opens a sealed value of record (cf, key), appending the plaintext to
 * out. 0; KEYRING_DESTROYED when its key is not in the keyring; -1 when
 * it does not authenticate (damaged, or moved from another record). */
int keyring_open_value(const struct keyring *kr, const char *cf,
		       const void *key, size_t klen, const void *val,
		       size_t vlen, struct strbuf *out);
/* The same through an opener: one thread's cipher context, set up with
 * the last key it used, so that opening many small values under one key
 * (a restart reading every run) makes the key schedule once. An opener
 * is used by one thread at a time. */
struct keyring_opener;
struct keyring_opener *keyring_opener_new(void);
void keyring_opener_free(struct keyring_opener *o);
int keyring_open_with(struct keyring_opener *o, const struct keyring *kr,
		      const char *cf, const void *key, size_t klen,
		      const void *val, size_t vlen, struct strbuf *out);
/* The key id named in a sealed value's header (0 if not sealed). */
uint32_t keyring_value_key_id(const void *val, size_t len);

/* A stable name for tenant that does not reveal it: "tenant-" and the
 * first 12 hex digits of HMAC-SHA256(master key, name). out >= 20. */
void keyring_pseudonym(const struct keyring *kr, const char *tenant,
		       char *out, size_t len);

#endif
