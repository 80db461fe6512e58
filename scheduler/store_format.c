/* store_format.c - the store's format version: the meta key, the FORMAT
 * file beside RocksDB's, the probe before an open and the upgrade after
 * it (docs/storage.md, Format versions). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"
#include "store_int.h"
#include "util.h"

static const char format_key[] = "format_version";

int store_format_newer(const char *dir, uint32_t v, char *err, size_t errlen)
{
	snprintf(err, errlen,
		 "store '%s' has format version %u; this build reads format "
		 "versions up to %d (use a newer sparkpilot-scheduler)",
		 dir, v, STORE_FORMAT_VERSION);
	return -1;
}

static int decode_format(const char *val, size_t vlen, uint32_t *v, char *err,
			 size_t errlen)
{
	if (vlen != 4) {
		snprintf(err, errlen,
			 "store meta key '%s' is malformed (%zu bytes, not 4)",
			 format_key, vlen);
		return -1;
	}
	*v = store_get_u32be((const uint8_t *)val);
	return 0;
}

/* The version is also kept in a small file beside RocksDB's, rewritten
 * whenever the meta key is: reading it spares the read-only open below,
 * which replays the whole WAL (a second time, after a crash) only to read
 * one key. A store without the file (an older build's) is probed. */
static int read_format_file(const char *dir, uint32_t *v)
{
	char path[4200], *text;
	uint64_t n;
	int found;

	snprintf(path, sizeof(path), "%s/%s", dir, STORE_FORMAT_FILE);
	text = read_file(path, 32, NULL);
	if (!text)
		return 0;
	text[strcspn(text, "\r\n")] = '\0';
	found = parse_u64(text, 1, UINT32_MAX, &n, NULL, 0) == 0;
	free(text);
	if (found)
		*v = (uint32_t)n;
	return found;
}

static int write_format_file(const char *dir, char *err, size_t errlen)
{
	char path[4200], buf[16];
	int n = snprintf(buf, sizeof(buf), "%d\n", STORE_FORMAT_VERSION);

	snprintf(path, sizeof(path), "%s/%s", dir, STORE_FORMAT_FILE);
	if (write_file_atomic(path, buf, (size_t)n, 0600)) {
		snprintf(err, errlen, "cannot write '%s': %s", path,
			 strerror(errno));
		return -1;
	}
	return 0;
}

/* The format version of the store in dir, read through a read-only open
 * of its meta column family, so that a store this build must refuse is
 * left exactly as it was: a normal open would write a new MANIFEST, flush
 * the recovered WAL and add any column family it misses. *v is 0 when
 * there is no store yet (or no version in it). 0, or -1 with a reason. */
int store_format_probe(struct store *s, const char *dir, uint32_t *v,
			char *err, size_t errlen)
{
	const char *names[2] = { "default", "meta" };
	const rocksdb_options_t *cfopts[2] = { s->opts, s->opts };
	rocksdb_column_family_handle_t *cf[2] = { NULL, NULL };
	rocksdb_t *db;
	char **cfs, *rerr = NULL, *val;
	size_t ncf, vlen = 0;
	bool has_meta = false;
	int rc = 0;

	*v = 0;
	if (read_format_file(dir, v))
		return 0;
	/* Fails when dir holds no store: the normal open creates it. The
	 * list is allocated even then. */
	cfs = rocksdb_list_column_families(s->opts, dir, &ncf, &rerr);
	for (size_t i = 0; !rerr && i < ncf; i++)
		has_meta |= !strcmp(cfs[i], "meta");
	rocksdb_list_column_families_destroy(cfs, rerr ? 0 : ncf);
	free(rerr);
	if (!has_meta)
		return 0;
	db = rocksdb_open_for_read_only_column_families(
		s->opts, dir, 2, names, cfopts, cf, 0, &rerr);
	if (!db) {
		snprintf(err, errlen, "cannot open store '%s': %s", dir,
			 rerr ? rerr : "unknown error");
		free(rerr);
		return -1;
	}
	val = rocksdb_get_cf(db, s->ropts, cf[1], format_key,
			     sizeof(format_key) - 1, &vlen, &rerr);
	if (rerr) {
		snprintf(err, errlen, "cannot read store '%s': %s", dir, rerr);
		free(rerr);
		rc = -1;
	} else if (val) {
		rc = decode_format(val, vlen, v, err, errlen);
	}
	rocksdb_free(val);
	rocksdb_column_family_handle_destroy(cf[0]);
	rocksdb_column_family_handle_destroy(cf[1]);
	rocksdb_close(db);
	return rc;
}

/* Writes the format version into a new store, and upgrades an older one.
 * Format 2 made the run record a positional array; its reader keeps the
 * map form of format 1 (run_codec.c), so a version-1 store needs no
 * rewrite: bumping its version is what keeps a build that only knows
 * format 1 from misreading the records this one writes. Format 3 added
 * the telemetry column family (signed batches, created empty on open);
 * the line logs a format-2 store holds in `logs` stay readable there.
 * Format 4 added usage roll-ups (`usage`), cost events (`costlog`) and the
 * run's est_cost; an older store's roll-ups are rebuilt from its runs at
 * load (store_opened_format). Format 5 seals customer data in values
 * (keyring.h): a sealed value starts with a byte no plaintext one does,
 * so older values stay readable; the store needs its keyring file from
 * then on (main.c refuses one without). Format 6 adds usage roll-ups per
 * job and per creator under keys an older reader would take for an
 * environment's; they are rebuilt from the runs of an older store.
 * Format 7 logs writes in the commit log instead of RocksDB's WAL: the
 * records are unchanged, but an older build would not replay the log. */
int store_format_set(struct store *s, const char *dir, char *err,
		      size_t errlen)
{
	uint8_t ver[4];
	char *val = NULL;
	size_t vlen = 0;
	uint32_t v = 0;
	struct store_batch *b;
	int rc, found = store_get(s, CF_META, format_key,
				  sizeof(format_key) - 1, &val, &vlen, err,
				  errlen);

	if (found < 0)
		return -1;
	rc = found ? decode_format(val, vlen, &v, err, errlen) : 0;
	free(val);
	if (rc)
		return -1;
	s->opened_format = found ? v : 0;
	if (v > STORE_FORMAT_VERSION) /* written since the probe */
		return store_format_newer(dir, v, err, errlen);
	if (v == STORE_FORMAT_VERSION)
		return read_format_file(dir, &v) && v == STORE_FORMAT_VERSION
			       ? 0
			       : write_format_file(dir, err, errlen);
	b = store_batch_new();
	store_put_u32be(ver, STORE_FORMAT_VERSION);
	store_batch_put(b, s, CF_META, format_key, sizeof(format_key) - 1,
			ver, 4);
	rc = store_write(s, b, true, err, errlen);
	store_batch_free(b);
	if (rc == 0)
		rc = write_format_file(dir, err, errlen);
	if (rc == 0 && found)
		log_info("store '%s': format version %u upgraded to %d", dir,
			 v, STORE_FORMAT_VERSION);
	return rc;
}

uint32_t store_opened_format(const struct store *s)
{
	return s->opened_format;
}
