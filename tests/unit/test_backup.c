/* test_backup.c - backups of a real store (scheduler/backup.c) in a temp
 * dir: create, list, verify, prune, restore; a damaged backup found by
 * verify (a flipped byte RocksDB's own verify passes) and refused by a
 * restore; the refusals (a backup dir inside the data dir or holding
 * foreign files, a restore into a non-empty dir, an unknown id, a dir in
 * use) with nothing left behind; the meta file parser and crc32c; and the
 * admin commands on a real core, answered from a worker thread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup.h"
#include "backup_meta.h"
#include "core_fixture.h"
#include "json.h"
#include "records.h"
#include "store.h"
#include "util.h"

static char root[64];

static int setup(void **s)
{
	(void)s;
	log_setup("test", LOG_ERROR);
	strcpy(root, "/tmp/sp-backup.XXXXXX");
	return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **s)
{
	char cmd[128];
	(void)s;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	return system(cmd);
}

/* root/name, in a static buffer of four (enough for one call's args) */
static const char *at(const char *name)
{
	static char bufs[4][256];
	static int k;
	char *b = bufs[k++ % 4];
	snprintf(b, sizeof(bufs[0]), "%s/%s", root, name);
	return b;
}

static struct store *open_at(const char *name)
{
	char err[256];
	struct store *st = store_open(at(name), err, sizeof(err));
	if (!st)
		fail_msg("store_open: %s", err);
	return st;
}

static void put(struct store *st, const char *k, const char *v)
{
	struct store_batch *b = store_batch_new();
	char err[128];
	store_batch_put(b, st, CF_TENANTS, k, strlen(k), v, strlen(v));
	assert_int_equal(store_write(st, b, true, err, sizeof(err)), 0);
	store_batch_free(b);
}

/* A value of the telemetry family, which keeps big values in blob files
 * beside the table files: a backup must carry those too. */
static void put_blob(struct store *st, const char *k)
{
	struct store_batch *b = store_batch_new();
	char err[128], *v = xmalloc(8192);
	memset(v, 'b', 8192);
	store_batch_put(b, st, CF_TELEMETRY, k, strlen(k), v, 8192);
	assert_int_equal(store_write(st, b, true, err, sizeof(err)), 0);
	store_batch_free(b);
	free(v);
}

/* 1 if key k is in family cf of the store at name (opened and closed
 * here), with *len its value's length. */
static int has_key_cf(const char *name, enum store_cf cf, const char *k,
		      size_t *len)
{
	struct store *st = open_at(name);
	char *v = NULL, err[128];
	int rc = store_get(st, cf, k, strlen(k), &v, len, err, sizeof(err));
	free(v);
	store_close(st);
	return rc;
}

static int has_key(const char *name, const char *k)
{
	size_t n;
	return has_key_cf(name, CF_TENANTS, k, &n);
}

/* Whether the backup dir's shared files include one ending in ext. */
static bool shares(const char *bk, const char *ext)
{
	char dir[300];
	struct dirent *de;
	DIR *d;
	bool found = false;

	snprintf(dir, sizeof(dir), "%s/shared_checksum", bk);
	if (!(d = opendir(dir)))
		return false;
	while ((de = readdir(d)))
		found |= strlen(de->d_name) > strlen(ext) &&
			 !strcmp(de->d_name + strlen(de->d_name) - strlen(ext),
				 ext);
	closedir(d);
	return found;
}

static bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/* The entries of root whose name starts with prefix. */
static int count_entries(const char *prefix)
{
	DIR *d = opendir(root);
	struct dirent *de;
	int n = 0;
	while ((de = readdir(d)))
		n += !strncmp(de->d_name, prefix, strlen(prefix));
	closedir(d);
	return n;
}

static void take(struct store *st, const char *dir, uint32_t want_id)
{
	struct backup_created made;
	char err[512];

	if (backup_create(st, dir, &made, err, sizeof(err)))
		fail_msg("backup_create: %s", err);
	assert_int_equal(made.info.id, want_id);
	assert_true(made.info.files > 0);
	assert_true(made.info.size > 0);
	assert_true(made.added_bytes > 0);
	assert_true(made.dir_bytes >= made.info.size);
	assert_false(made.info.damaged);
}

static void test_crc32c(void **s)
{
	(void)s;
	/* the check value of CRC-32C (RFC 3720) */
	assert_int_equal(crc32c(0, "123456789", 9), 0xe3069283u);
	assert_int_equal(crc32c(0, "", 0), 0);
	/* in pieces as in one go, across the 8-byte steps */
	assert_int_equal(crc32c(crc32c(0, "12345", 5), "6789", 4),
			 0xe3069283u);
	assert_int_equal(crc32c(crc32c(0, "1", 1), "23456789", 8),
			 0xe3069283u);
}

static void parse_ok(const char *text, size_t nfiles)
{
	struct backup_meta m;
	char err[256];
	if (backup_meta_parse(text, strlen(text), &m, err, sizeof(err)))
		fail_msg("'%s': %s", text, err);
	assert_int_equal(m.nfiles, nfiles);
	backup_meta_release(&m);
}

static void parse_bad(const char *text, size_t len, const char *why)
{
	struct backup_meta m;
	char err[256] = "";
	assert_int_equal(backup_meta_parse(text, len, &m, err, sizeof(err)),
			 -1);
	if (!strstr(err, why))
		fail_msg("'%.*s': '%s' does not say '%s'", (int)len, text, err,
			 why);
	assert_null(strchr(err, '\n'));
	assert_int_equal(m.nfiles, 0);
	backup_meta_release(&m);
}

static void test_meta_parse(void **s)
{
	struct backup_meta m;
	char err[256];
	static const char v2[] =
		"schema_version 2.1\n1700000000\n42\nmetadata 00ff\nother x\n"
		"2\nshared_checksum/1.sst crc32 7 size 100 temp hot\n"
		"private/1/x ni::excluded true\nprivate/1/CURRENT crc32 9\n"
		"// FOOTER\nchecksum 1\n";
	(void)s;

	parse_ok("1700000000\n7\n2\nshared_checksum/9.sst crc32 1\n"
		 "private/1/CURRENT crc32 4294967295\n", 2);
	parse_ok("1700000000\n7\nmetadata 0a0b\n0\n", 0);
	assert_int_equal(backup_meta_parse(v2, sizeof(v2) - 1, &m, err,
					   sizeof(err)), 0);
	assert_int_equal(m.timestamp_s, 1700000000);
	assert_int_equal(m.sequence, 42);
	assert_int_equal(m.nfiles, 2);
	assert_string_equal(m.files[0].path, "shared_checksum/1.sst");
	assert_true(m.files[0].has_size && m.files[0].size == 100);
	assert_true(m.files[1].has_crc && m.files[1].crc == 9);
	backup_meta_release(&m);

	/* a literal's bytes, NULs included */
#define BAD(lit, why) parse_bad(lit, sizeof(lit) - 1, why)
	BAD("", "header");
	BAD("x\n1\n0\n", "header");
	BAD("schema_version 3\n1\n1\n0\n", "unknown schema");
	BAD("1\n1\n1\nprivate/1/x\n", "no crc32");
	BAD("1\n1\n1\nprivate/1/x crc32 1 size 3\n", "unknown field");
	BAD("1\n1\n1\n../../etc/passwd crc32 1\n", "bad path");
	BAD("1\n1\n1\n/etc/passwd crc32 1\n", "bad path");
	BAD("1\n1\n2\nprivate/1/x crc32 1\n", "2 announced");
	BAD("1\n1\n0\nprivate/1/x crc32 1\n", "more files");
	BAD("1\n1\n1\nprivate/1/x crc32 99999999999\n", "bad value");
	BAD("1\n1\n1\npriv\0ate crc32 1\n", "NUL");
	BAD("schema_version 2\n1\n1\nni::must x\n0\n", "header");
#undef BAD
}

/* Create, list, verify, restore: what a backup holds is what was
 * written before it, and the restored dir opens as a store. */
static void test_create_restore(void **s)
{
	struct store *st = open_at("data");
	struct backup_info *list, info;
	char err[512], *format;
	uint64_t bytes;
	size_t n;
	(void)s;

	put(st, "before", "1");
	put_blob(st, "batch-1");
	take(st, at("bk"), 1);
	assert_true(shares(at("bk"), ".blob"));
	put(st, "after", "2");
	take(st, at("bk"), 2);
	store_close(st);

	assert_int_equal(backup_list(at("bk"), at("data"), &list, &n, err,
				     sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_int_equal(list[0].id, 1);
	assert_int_equal(list[1].id, 2);
	assert_true(list[0].time_ms > 0 && list[0].time_ms <= list[1].time_ms);
	free(list);
	for (uint32_t id = 1; id <= 2; id++) {
		if (backup_verify(at("bk"), at("data"), id, &info, &bytes, err,
				  sizeof(err)))
			fail_msg("verify %u: %s", id, err);
		assert_int_equal(info.id, id);
		assert_true(bytes >= info.size);
	}

	assert_int_equal(backup_restore(at("bk"), 1, at("r1"), &info, err,
					sizeof(err)), 0);
	assert_int_equal(info.id, 1);
	assert_int_equal(has_key("r1", "before"), 1);
	assert_int_equal(has_key("r1", "after"), 0);
	assert_int_equal(has_key_cf("r1", CF_TELEMETRY, "batch-1", &n), 1);
	assert_int_equal(n, 8192);
	/* what the store keeps beside RocksDB's files came back too */
	format = read_file(at("r1/FORMAT"), 64, NULL);
	assert_non_null(format);
	assert_int_equal(atoi(format), STORE_FORMAT_VERSION);
	free(format);
	/* 0: the newest; into an empty directory that exists */
	assert_int_equal(mkdir(at("r2"), 0700), 0);
	assert_int_equal(backup_restore(at("bk"), 0, at("r2"), &info, err,
					sizeof(err)), 0);
	assert_int_equal(info.id, 2);
	assert_int_equal(has_key("r2", "after"), 1);
	assert_int_equal(count_entries(".r"), 0); /* no sibling left */
}

/* Flips one byte of a file (its size unchanged). */
static void flip_byte(const char *path, off_t at_off)
{
	int fd = open(path, O_RDWR);
	unsigned char c;
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &c, 1, at_off), 1);
	c ^= 0x20;
	assert_int_equal(pwrite(fd, &c, 1, at_off), 1);
	close(fd);
}

/* The first table file of the backup dir, into path. */
static void first_sst(const char *bk, char *path, size_t len)
{
	char dir[300];
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/shared_checksum", bk);
	d = opendir(dir);
	assert_non_null(d);
	path[0] = '\0';
	while ((de = readdir(d)) && !path[0])
		if (strstr(de->d_name, ".sst"))
			snprintf(path, len, "%s/%s", dir, de->d_name);
	closedir(d);
	assert_true(path[0] != '\0');
}

static void test_damage(void **s)
{
	struct store *st = open_at("dmg-data");
	struct backup_info info;
	char sst[600], err[512];
	uint64_t bytes;
	(void)s;

	put(st, "k", "v");
	take(st, at("dmg"), 1);
	store_close(st);
	first_sst(at("dmg"), sst, sizeof(sst));
	flip_byte(sst, 10);
	/* same size: only the checksum pass finds it */
	assert_int_equal(backup_verify(at("dmg"), at("dmg-data"), 1, &info,
				       &bytes, err, sizeof(err)),
			 BACKUP_DAMAGED);
	assert_non_null(strstr(err, "backup 1 is damaged"));
	assert_non_null(strstr(err, "crc32c"));
	assert_non_null(strstr(err, strrchr(sst, '/') + 1));
	/* and a restore refuses it, leaving nothing */
	assert_int_equal(backup_restore(at("dmg"), 1, at("dmg-r"), &info, err,
					sizeof(err)),
			 BACKUP_DAMAGED);
	assert_false(exists(at("dmg-r")));
	assert_int_equal(count_entries(".dmg-r"), 0);
	/* a file cut short: BackupEngine no longer loads the backup */
	flip_byte(sst, 10);
	assert_int_equal(truncate(sst, 5), 0);
	assert_int_equal(backup_verify(at("dmg"), at("dmg-data"), 1, &info,
				       &bytes, err, sizeof(err)),
			 BACKUP_DAMAGED);
	assert_non_null(strstr(err, "damaged"));
}

static void test_prune(void **s)
{
	struct store *st = open_at("p-data");
	struct backup_info *list;
	char err[512], k[8];
	uint64_t freed;
	size_t removed, n;
	(void)s;

	for (uint32_t i = 1; i <= 3; i++) {
		snprintf(k, sizeof(k), "k%u", i);
		put(st, k, "v");
		take(st, at("p"), i);
	}
	store_close(st);
	assert_int_equal(backup_prune(at("p"), at("p-data"), 0, &removed,
				      &freed, err, sizeof(err)), -1);
	assert_int_equal(backup_prune(at("p"), at("p-data"), 1, &removed,
				      &freed, err, sizeof(err)), 0);
	assert_int_equal(removed, 2);
	assert_true(freed > 0);
	assert_int_equal(backup_list(at("p"), at("p-data"), &list, &n, err,
				     sizeof(err)), 0);
	assert_int_equal(n, 1);
	assert_int_equal(list[0].id, 3);
	free(list);
}

static void refused(int rc, const char *err, const char *want)
{
	assert_true(rc < 0);
	if (!strstr(err, want))
		fail_msg("'%s' does not say '%s'", err, want);
	assert_null(strchr(err, '\n'));
}

static void test_refusals(void **s)
{
	struct store *st = open_at("x-data");
	struct backup_created made;
	struct backup_info info, *list;
	char err[512];
	uint64_t bytes;
	size_t n;
	int fd;
	(void)s;

	put(st, "k", "v");
	refused(backup_create(st, at("x-data/backups"), &made, err,
			      sizeof(err)),
		err, "is inside the data dir");
	assert_false(exists(at("x-data/backups")));
	refused(backup_check_dir(root, at("x-data"), err, sizeof(err)), err,
		"the data dir");
	/* a directory holding something BackupEngine did not write */
	assert_int_equal(mkdir(at("junk"), 0700), 0);
	assert_int_equal(write_file_atomic(at("junk/notes.txt"), "x", 1, 0600),
			 0);
	refused(backup_create(st, at("junk"), &made, err, sizeof(err)), err,
		"holds 'notes.txt'");
	refused(backup_list(at("junk"), at("x-data"), &list, &n, err,
			    sizeof(err)),
		err, "BackupEngine did not write");
	assert_false(exists(at("junk/meta")));
	refused(backup_create(st, at("junk/notes.txt"), &made, err,
			      sizeof(err)),
		err, "not a directory");
	/* a dir in use by another call (here: our own flock) */
	take(st, at("x-bk"), 1);
	fd = open(at("x-bk"), O_RDONLY | O_DIRECTORY);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	assert_int_equal(backup_create(st, at("x-bk"), &made, err,
				       sizeof(err)),
			 BACKUP_IN_USE);
	assert_non_null(strstr(err, "in use"));
	close(fd);
	store_close(st);

	/* reads of a dir with no backups, unknown ids */
	refused(backup_verify(at("none"), at("x-data"), 1, &info, &bytes, err,
			      sizeof(err)),
		err, "does not exist");
	assert_false(exists(at("none")));
	assert_int_equal(backup_verify(at("x-bk"), at("x-data"), 7, &info,
				       &bytes, err, sizeof(err)),
			 BACKUP_NOT_FOUND);
	assert_non_null(strstr(err, "no backup 7"));
	assert_non_null(strstr(err, "(backups: 1)"));

	/* restores: nothing written where they are refused */
	assert_int_equal(mkdir(at("full"), 0700), 0);
	assert_int_equal(write_file_atomic(at("full/keep"), "x", 1, 0600), 0);
	refused(backup_restore(at("x-bk"), 1, at("full"), &info, err,
			       sizeof(err)),
		err, "is not empty");
	assert_true(exists(at("full/keep")));
	assert_false(exists(at("full/CURRENT")));
	assert_int_equal(backup_restore(at("x-bk"), 9, at("r9"), &info, err,
					sizeof(err)),
			 BACKUP_NOT_FOUND);
	assert_false(exists(at("r9")));
	refused(backup_restore(at("junk"), 0, at("r9"), &info, err,
			       sizeof(err)),
		err, "BackupEngine did not write");
	assert_int_equal(mkdir(at("empty"), 0700), 0);
	refused(backup_restore(at("empty"), 0, at("r9"), &info, err,
			       sizeof(err)),
		err, "holds no backups");
	refused(backup_restore(at("x-bk"), 0, at("x-bk/r"), &info, err,
			       sizeof(err)),
		err, "inside backup_dir");
	assert_false(exists(at("r9")));
	assert_false(exists(at("x-bk/r")));
	assert_int_equal(count_entries(".r9"), 0);
}

/* The admin commands on a real core: answered from the worker thread,
 * and a run acknowledged before `backup create` is in what it restores. */
static void test_admin(void **state)
{
	struct fx *f = *state;
	struct strbuf out = STRBUF_INIT;
	struct json *j;
	struct store *st;
	struct sched_state rs;
	struct backup_info info;
	char err[512], bk[600], rdir[600];
	uint64_t run;

	admin_reply(f, "backup create", &out);
	assert_non_null(strstr(out.buf, "\"error\":\"not_configured\""));
	snprintf(bk, sizeof(bk), "%s-backups", f->dir);
	snprintf(rdir, sizeof(rdir), "%s-restored", f->dir);
	stop_core(f);
	state_release(&f->st);
	snprintf(f->cfg.backup_dir, sizeof(f->cfg.backup_dir), "%s", bk);
	start_core(f);

	j = admin(f, "run start acme/prod/j");
	run = strtoull(json_get(j, "run")->str, NULL, 10);
	json_free(j);
	j = admin(f, "backup create");
	assert_string_equal(json_get(j, "id")->str, "1");
	assert_true(strtoull(json_get(j, "size")->str, NULL, 10) > 0);
	assert_non_null(json_get(j, "duration_ms"));
	json_free(j);
	admin_ok(f, "backup create");
	j = admin(f, "backup list");
	assert_int_equal(json_get(j, "items")->n, 2);
	json_free(j);
	admin_ok(f, "backup verify 2");
	admin_reply(f, "backup verify 5", &out);
	assert_non_null(strstr(out.buf, "\"error\":\"not_found\""));
	admin_reply(f, "backup verify x", &out);
	assert_non_null(strstr(out.buf, "\"error\":\"invalid\""));
	admin_reply(f, "backup prune", &out);
	assert_non_null(strstr(out.buf, "\"error\":\"usage\""));
	j = admin(f, "backup prune --keep 1");
	assert_string_equal(json_get(j, "removed")->str, "1");
	json_free(j);

	/* the restored store loads, with the run acknowledged before */
	assert_int_equal(backup_restore(bk, 0, rdir, &info, err, sizeof(err)),
			 0);
	assert_int_equal(info.id, 2);
	st = store_open(rdir, err, sizeof(err));
	assert_non_null(st);
	state_init(&rs);
	assert_int_equal(records_load(st, &rs, err, sizeof(err)), 0);
	assert_non_null(state_run(&rs, run));
	state_release(&rs);
	store_close(st);
	snprintf(err, sizeof(err), "rm -rf %s %s", bk, rdir);
	assert_int_equal(system(err), 0);
	strbuf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c),
		cmocka_unit_test(test_meta_parse),
		cmocka_unit_test(test_create_restore),
		cmocka_unit_test(test_damage),
		cmocka_unit_test(test_prune),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test_setup_teardown(test_admin, fx_setup,
						fx_teardown),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
