/* backup.c - BackupEngine backups of the store, and restores. */
#include "backup.h"

#include <rocksdb/c.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup_meta.h"
#include "keyring.h"
#include "util.h"

#define ERR_MAX 512

/* No "." or ".." among the components of a path's tail. */
static bool plain_tail(const char *tail)
{
	for (const char *p = tail; (p = strstr(p, "/.")); p++)
		if (p[2] == '\0' || p[2] == '/' ||
		    (p[2] == '.' && (p[3] == '\0' || p[3] == '/')))
			return false;
	return true;
}

/* path made absolute and canonical, though its tail may not exist yet:
 * realpath of the longest prefix that exists, then the rest as written
 * (it holds no symbolic link, since it does not exist). 0, or -1 with
 * errno set. */
static int resolve(const char *path, char *out, size_t cap)
{
	char buf[PATH_MAX], real[PATH_MAX];
	size_t cut;
	int n;

	if (path[0] == '/')
		n = snprintf(buf, sizeof(buf), "%s", path);
	else if (getcwd(real, sizeof(real)))
		n = snprintf(buf, sizeof(buf), "%s/%s", real, path);
	else
		return -1;
	if (!*path || n >= (int)sizeof(buf)) {
		errno = *path ? ENAMETOOLONG : ENOENT;
		return -1;
	}
	for (cut = strlen(buf); cut > 1 && buf[cut - 1] == '/'; cut--)
		buf[cut - 1] = '\0';
	for (;;) {
		char c = buf[cut];
		char *ok;
		buf[cut] = '\0';
		ok = realpath(cut ? buf : "/", real);
		buf[cut] = c;
		if (ok)
			break;
		if ((errno != ENOENT && errno != ENOTDIR) || cut == 0)
			return -1;
		while (cut > 0 && buf[cut - 1] != '/')
			cut--; /* the last component goes to the tail ... */
		if (cut > 0)
			cut--; /* ... with the slash before it */
	}
	if (!plain_tail(buf + cut)) {
		errno = EINVAL;
		return -1;
	}
	n = snprintf(out, cap, "%s%s", strcmp(real, "/") ? real : "",
		     buf + cut);
	if (n >= (int)cap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (!*out)
		snprintf(out, cap, "/");
	return 0;
}

/* a is b or below it */
static bool within(const char *a, const char *b)
{
	size_t n = strlen(b);
	if (!strcmp(b, "/"))
		return true;
	return !strncmp(a, b, n) && (a[n] == '\0' || a[n] == '/');
}

/* What BackupEngine puts at the top of its directory. */
static bool engine_entry(const char *name)
{
	return !strcmp(name, "meta") || !strcmp(name, "private") ||
	       !strncmp(name, "shared", 6);
}

/* dir holds nothing but BackupEngine's directories (a missing dir holds
 * nothing); *exists tells which. */
static int check_contents(const char *dir, bool *exists, char *err,
			  size_t errlen)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	int rc = 0;

	*exists = false;
	if (stat(dir, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "backup_dir '%s': %s", dir,
			 strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "backup_dir '%s' is not a directory",
			 dir);
		return -1;
	}
	*exists = true;
	if (!(d = opendir(dir))) {
		snprintf(err, errlen, "cannot read backup_dir '%s': %s", dir,
			 strerror(errno));
		return -1;
	}
	while (!rc && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (engine_entry(de->d_name) &&
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) ==
			    0 &&
		    S_ISDIR(st.st_mode))
			continue;
		/* the scheduler's copy of its keyring (keyring.h), and the
		 * temporary file of its atomic rewrite */
		if (!strncmp(de->d_name, KEYRING_FILE, strlen(KEYRING_FILE)) &&
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) ==
			    0 &&
		    S_ISREG(st.st_mode))
			continue;
		snprintf(err, errlen,
			 "backup_dir '%s' holds '%.100s', which BackupEngine "
			 "did not write (only meta/, private/ and shared*/ "
			 "belong there): choose an empty directory or one that "
			 "holds only backups",
			 dir, de->d_name);
		rc = -1;
	}
	closedir(d);
	return rc;
}

/* dir and data_dir apart: neither inside the other. */
static int check_apart(const char *dir, const char *data_dir, char *err,
		       size_t errlen)
{
	char b[PATH_MAX], d[PATH_MAX];

	if (resolve(dir, b, sizeof(b))) {
		snprintf(err, errlen, "backup_dir '%s': %s", dir,
			 strerror(errno));
		return -1;
	}
	if (resolve(data_dir, d, sizeof(d))) {
		snprintf(err, errlen, "data dir '%s': %s", data_dir,
			 strerror(errno));
		return -1;
	}
	if (within(b, d)) {
		snprintf(err, errlen,
			 "backup_dir '%s' is inside the data dir '%s': a "
			 "backup must outlive the data dir; put it elsewhere, "
			 "ideally on another disk",
			 dir, data_dir);
		return -1;
	}
	if (within(d, b)) {
		snprintf(err, errlen,
			 "the data dir '%s' is inside backup_dir '%s'; put the "
			 "backups elsewhere",
			 data_dir, dir);
		return -1;
	}
	return 0;
}

int backup_check_dir(const char *dir, const char *data_dir, char *err,
		     size_t errlen)
{
	bool exists;

	errno = 0;
	if (check_apart(dir, data_dir, err, errlen))
		return -1;
	return check_contents(dir, &exists, err, errlen);
}

/* Opens and locks dir (created first with create); the fd, or -1, or
 * BACKUP_IN_USE. */
static int lock_dir(const char *dir, bool create, char *err, size_t errlen)
{
	int fd;

	if (create && mkdir_p(dir, 0700)) {
		snprintf(err, errlen, "cannot create backup_dir '%s': %s", dir,
			 strerror(errno));
		return -1;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1) {
		snprintf(err, errlen, "cannot open backup_dir '%s': %s", dir,
			 strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		snprintf(err, errlen,
			 "backup_dir '%s' is in use by another backup, prune, "
			 "verify or restore: try again when it ends",
			 dir);
		close(fd);
		return BACKUP_IN_USE;
	}
	return fd;
}

/* The engine on dir, or NULL with the reason. */
static rocksdb_backup_engine_t *open_engine(const char *dir, char *err,
					    size_t errlen)
{
	rocksdb_options_t *o = rocksdb_options_create();
	char *rerr = NULL;
	/* only the options' Env is used: the default one */
	rocksdb_backup_engine_t *be = rocksdb_backup_engine_open(o, dir, &rerr);

	rocksdb_options_destroy(o);
	if (!be) {
		snprintf(err, errlen, "cannot open the backups in '%s': %s",
			 dir, rerr ? rerr : "unknown error");
		free(rerr);
	}
	return be;
}

/* Copies the backups BackupEngine could load into *list (malloc'd). */
static size_t engine_list(rocksdb_backup_engine_t *be,
			  struct backup_info **list)
{
	const rocksdb_backup_engine_info_t *bi =
		rocksdb_backup_engine_get_backup_info(be);
	int n = rocksdb_backup_engine_info_count(bi);

	*list = n > 0 ? xcalloc((size_t)n, sizeof(**list)) : NULL;
	for (int i = 0; i < n; i++) {
		struct backup_info *b = &(*list)[i];
		b->id = rocksdb_backup_engine_info_backup_id(bi, i);
		b->time_ms = rocksdb_backup_engine_info_timestamp(bi, i) * 1000;
		b->size = rocksdb_backup_engine_info_size(bi, i);
		b->files = rocksdb_backup_engine_info_number_files(bi, i);
	}
	rocksdb_backup_engine_info_destroy(bi);
	return n > 0 ? (size_t)n : 0;
}

static bool listed(const struct backup_info *list, size_t n, uint32_t id)
{
	for (size_t i = 0; i < n; i++)
		if (list[i].id == id)
			return true;
	return false;
}

static int by_id(const void *a, const void *b)
{
	const struct backup_info *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* Adds the backups whose meta file BackupEngine did not load (damaged):
 * `backup list` must show them rather than hide them. */
static void add_damaged(const char *dir, struct backup_info **list,
			size_t *n)
{
	char path[PATH_MAX];
	struct dirent *de;
	size_t alloc = *n;
	DIR *d;

	snprintf(path, sizeof(path), "%s/meta", dir);
	if (!(d = opendir(path)))
		return;
	while ((de = readdir(d))) {
		char *end;
		unsigned long id = strtoul(de->d_name, &end, 10);
		if (de->d_name[0] < '1' || de->d_name[0] > '9' || *end ||
		    id > UINT32_MAX || listed(*list, *n, (uint32_t)id))
			continue;
		*list = xgrow(*list, &alloc, *n + 1, sizeof(**list));
		(*list)[(*n)++] = (struct backup_info){ .id = (uint32_t)id,
							.damaged = true };
	}
	closedir(d);
	qsort(*list, *n, sizeof(**list), by_id);
}

/* Bytes of the regular files below the directory open as fd (closed). */
static uint64_t tree_bytes(int fd)
{
	DIR *d = fdopendir(fd);
	struct dirent *de;
	struct stat st;
	uint64_t sum = 0;

	if (!d) {
		close(fd);
		return 0;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW))
			continue;
		if (S_ISREG(st.st_mode))
			sum += (uint64_t)st.st_size;
		else if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd(d), de->d_name,
					 O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (sub != -1)
				sum += tree_bytes(sub);
		}
	}
	closedir(d);
	return sum;
}

static uint64_t dir_bytes(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd == -1 ? 0 : tree_bytes(fd);
}

static void unlock_dir(int fd)
{
	if (fd != -1)
		close(fd); /* drops the flock */
}

int backup_create(struct store *s, const char *dir, struct backup_created *out,
		  char *err, size_t errlen)
{
	rocksdb_backup_engine_t *be = NULL;
	struct backup_info *list = NULL;
	char *rerr = NULL;
	uint64_t before;
	size_t n;
	int fd, rc = -1;

	memset(out, 0, sizeof(*out));
	if (!store_db(s)) {
		snprintf(err, errlen, "the store is closed");
		return -1;
	}
	if (backup_check_dir(dir, store_dir(s), err, errlen))
		return BACKUP_FAILED;
	if ((fd = lock_dir(dir, true, err, errlen)) < 0)
		return fd;
	before = dir_bytes(dir);
	if (!(be = open_engine(dir, err, errlen)))
		goto out;
	/* every acknowledged write in the memtables, then flushed: the
	 * backup carries them all, without a log to replay */
	if (store_apply_held(s, err, errlen))
		goto out;
	rocksdb_backup_engine_create_new_backup_flush(be, store_db(s), 1,
						      &rerr);
	if (rerr) {
		snprintf(err, errlen, "backup failed: %s", rerr);
		free(rerr);
		goto out;
	}
	n = engine_list(be, &list);
	if (!n) {
		snprintf(err, errlen, "backup failed: BackupEngine lists no "
			 "backup after taking one");
		goto out;
	}
	out->info = list[n - 1]; /* ids only grow: the newest is last */
	out->dir_bytes = dir_bytes(dir);
	out->added_bytes = out->dir_bytes > before ? out->dir_bytes - before
						   : 0;
	rc = 0;
out:
	free(list);
	if (be)
		rocksdb_backup_engine_close(be);
	unlock_dir(fd);
	return rc;
}

/* Checks dir for a command that reads backups: it must exist. */
static int existing_dir(const char *dir, const char *data_dir, char *err,
			size_t errlen)
{
	bool exists;

	errno = 0;
	if (check_apart(dir, data_dir, err, errlen) ||
	    check_contents(dir, &exists, err, errlen))
		return -1;
	if (!exists) {
		snprintf(err, errlen, "backup_dir '%s' does not exist: no "
			 "backup has been taken", dir);
		return -1;
	}
	return 0;
}

int backup_list(const char *dir, const char *data_dir,
		struct backup_info **list, size_t *n, char *err,
		size_t errlen)
{
	rocksdb_backup_engine_t *be;
	bool exists;
	int fd;

	*list = NULL;
	*n = 0;
	errno = 0;
	if (check_apart(dir, data_dir, err, errlen) ||
	    check_contents(dir, &exists, err, errlen))
		return -1;
	if (!exists)
		return 0;
	if ((fd = lock_dir(dir, false, err, errlen)) < 0)
		return fd;
	be = open_engine(dir, err, errlen);
	if (be) {
		*n = engine_list(be, list);
		rocksdb_backup_engine_close(be);
		add_damaged(dir, list, n);
	}
	unlock_dir(fd);
	return be ? 0 : -1;
}

/* The ids of list as "1, 2, 5" (or "none") for messages. */
static void ids_text(const struct backup_info *list, size_t n, char *buf,
		     size_t len)
{
	size_t k = 0;

	snprintf(buf, len, "none");
	for (size_t i = 0; i < n && k + 16 < len; i++)
		k += (size_t)snprintf(buf + k, len - k, "%s%u", i ? ", " : "",
				      list[i].id);
}

/* Finds id (0: the newest) among the backups be loaded; fills *info.
 * BACKUP_NOT_FOUND (or _DAMAGED) with a message naming what there is
 * when it is not there. */
static int find_backup(rocksdb_backup_engine_t *be, const char *dir,
		       uint32_t id, struct backup_info *info, char *err,
		       size_t errlen)
{
	struct backup_info *list;
	size_t n = engine_list(be, &list), i;
	char ids[256], meta[PATH_MAX];

	for (i = 0; i < n; i++)
		if (list[i].id == id || (id == 0 && i == n - 1))
			break;
	if (i < n) {
		*info = list[i];
		free(list);
		return 0;
	}
	ids_text(list, n, ids, sizeof(ids));
	free(list);
	snprintf(meta, sizeof(meta), "%s/meta/%u", dir, id);
	if (id == 0) {
		snprintf(err, errlen, "there is no backup in '%s'", dir);
	} else if (access(meta, F_OK) == 0) {
		snprintf(err, errlen,
			 "backup %u in '%s' is damaged: BackupEngine cannot "
			 "load it (a file it lists is missing or has the wrong "
			 "size); good backups: %s",
			 id, dir, ids);
		return BACKUP_DAMAGED;
	} else {
		snprintf(err, errlen, "there is no backup %u in '%s' (backups: "
			 "%s)", id, dir, ids);
	}
	return BACKUP_NOT_FOUND;
}

int backup_verify(const char *dir, const char *data_dir, uint32_t id,
		  struct backup_info *info, uint64_t *bytes, char *err,
		  size_t errlen)
{
	rocksdb_backup_engine_t *be = NULL;
	uint64_t files;
	char *rerr = NULL;
	int fd, rc = -1;

	*bytes = 0;
	if (existing_dir(dir, data_dir, err, errlen))
		return BACKUP_FAILED;
	if ((fd = lock_dir(dir, false, err, errlen)) < 0)
		return fd;
	if (!(be = open_engine(dir, err, errlen)) ||
	    (rc = find_backup(be, dir, id, info, err, errlen)))
		goto out;
	rc = BACKUP_DAMAGED;
	rocksdb_backup_engine_verify_backup(be, info->id, &rerr);
	if (rerr) {
		snprintf(err, errlen, "backup %u is damaged: %s", info->id,
			 rerr);
		free(rerr);
		goto out;
	}
	if (!backup_meta_check(dir, info->id, &files, bytes, err, errlen))
		rc = 0;
out:
	if (be)
		rocksdb_backup_engine_close(be);
	unlock_dir(fd);
	return rc;
}

int backup_prune(const char *dir, const char *data_dir, uint32_t keep,
		 size_t *removed, uint64_t *freed, char *err, size_t errlen)
{
	rocksdb_backup_engine_t *be = NULL;
	struct backup_info *list = NULL;
	uint64_t before;
	size_t n0, n1;
	char *rerr = NULL;
	int fd, rc = -1;

	*removed = 0;
	*freed = 0;
	if (keep < 1) {
		snprintf(err, errlen, "prune keeps at least one backup");
		return -1;
	}
	if (existing_dir(dir, data_dir, err, errlen))
		return BACKUP_FAILED;
	if ((fd = lock_dir(dir, false, err, errlen)) < 0)
		return fd;
	before = dir_bytes(dir);
	if (!(be = open_engine(dir, err, errlen)))
		goto out;
	n0 = engine_list(be, &list);
	free(list);
	rocksdb_backup_engine_purge_old_backups(be, keep, &rerr);
	if (rerr) {
		snprintf(err, errlen, "prune failed: %s", rerr);
		free(rerr);
		goto out;
	}
	n1 = engine_list(be, &list);
	free(list);
	*removed = n0 > n1 ? n0 - n1 : 0;
	rc = 0;
out:
	if (be)
		rocksdb_backup_engine_close(be);
	if (rc == 0) {
		uint64_t after = dir_bytes(dir);
		*freed = before > after ? before - after : 0;
	}
	unlock_dir(fd);
	return rc;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* rm -rf, for a restore's own temporary directory only */
static void remove_tree(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int fsync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;
	if (fd == -1)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* data_dir may be restored into: absent, or an empty directory. */
static int check_target(const char *data_dir, char *err, size_t errlen)
{
	struct stat st;
	struct dirent *de;
	DIR *d;
	bool empty = true;

	if (stat(data_dir, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "data dir '%s': %s", data_dir,
			 strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "data dir '%s' exists and is not a "
			 "directory", data_dir);
		return -1;
	}
	if (!(d = opendir(data_dir))) {
		snprintf(err, errlen, "cannot read the data dir '%s': %s",
			 data_dir, strerror(errno));
		return -1;
	}
	while (empty && (de = readdir(d)))
		empty = !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..");
	closedir(d);
	if (!empty) {
		snprintf(err, errlen,
			 "data dir '%s' is not empty: restore into an empty or "
			 "absent directory (move the old one aside first)",
			 data_dir);
		return -1;
	}
	return 0;
}

/* The backup dir of a restore: one BackupEngine wrote, with backups. */
static int check_source(const char *dir, const char *data_dir, char *err,
			size_t errlen)
{
	char meta[PATH_MAX];
	struct stat st;

	if (existing_dir(dir, data_dir, err, errlen))
		return -1;
	snprintf(meta, sizeof(meta), "%s/meta", dir);
	if (stat(meta, &st) == -1 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "'%s' holds no backups (no meta/ "
			 "directory)", dir);
		return -1;
	}
	return 0;
}

/* The engine's restore of id into the new directory tmp, then one open
 * as a store: the store's format is checked (a newer one refused) and
 * its FORMAT file written, which BackupEngine does not copy. */
static int restore_into(const char *dir, uint32_t id, const char *tmp,
			struct backup_info *info, char *err, size_t errlen)
{
	rocksdb_backup_engine_t *be;
	rocksdb_restore_options_t *ro;
	struct store *s;
	char *rerr = NULL, why[ERR_MAX];
	int fd = lock_dir(dir, false, err, errlen), rc = BACKUP_FAILED;

	if (fd < 0)
		return fd;
	if (!(be = open_engine(dir, err, errlen)) ||
	    (rc = find_backup(be, dir, id, info, err, errlen))) {
		if (be)
			rocksdb_backup_engine_close(be);
		unlock_dir(fd);
		return rc;
	}
	ro = rocksdb_restore_options_create();
	/* the engine checks each file's crc32c as it copies it */
	rocksdb_backup_engine_restore_db_from_backup(be, tmp, tmp, ro,
						     info->id, &rerr);
	rocksdb_restore_options_destroy(ro);
	rocksdb_backup_engine_close(be);
	unlock_dir(fd);
	if (rerr) {
		snprintf(err, errlen, "cannot restore backup %u: %s", info->id,
			 rerr);
		rc = strncmp(rerr, "Corruption", 10) ? BACKUP_FAILED
						      : BACKUP_DAMAGED;
		free(rerr);
		return rc;
	}
	if (!(s = store_open(tmp, why, sizeof(why)))) {
		snprintf(err, errlen, "backup %u does not open as a store: %s",
			 info->id, why);
		return -1;
	}
	store_close(s); /* flushes: the restored dir replays nothing */
	return 0;
}

/* The keyring (keyring.h) lives beside RocksDB's files, not in them: the
 * backup dir's copy, the current one, goes into the restored data dir.
 * Destroyed keys are not in it, so a tenant deleted since the backup
 * stays unreadable. No copy (backups of an older build): nothing. */
static int copy_keyring(const char *dir, const char *tmp, char *err,
			size_t errlen)
{
	char from[PATH_MAX], to[PATH_MAX + 40], *text;
	size_t len = 0;
	int rc;

	snprintf(from, sizeof(from), "%s/%s", dir, KEYRING_FILE);
	snprintf(to, sizeof(to), "%s/%s", tmp, KEYRING_FILE);
	if (!(text = read_file(from, 16 << 20, &len))) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "cannot read the keyring '%s': %s",
			 from, strerror(errno));
		return -1;
	}
	rc = write_file_atomic(to, text, len, 0600);
	if (rc)
		snprintf(err, errlen, "cannot write the keyring '%s': %s", to,
			 strerror(errno));
	free(text);
	return rc;
}

int backup_restore(const char *dir, uint32_t id, const char *data_dir,
		   struct backup_info *info, char *err, size_t errlen)
{
	char target[PATH_MAX], parent[PATH_MAX], tmp[PATH_MAX + 32];
	char *slash;
	int rc;

	memset(info, 0, sizeof(*info));
	if (check_source(dir, data_dir, err, errlen) ||
	    check_target(data_dir, err, errlen))
		return -1;
	if (resolve(data_dir, target, sizeof(target))) {
		snprintf(err, errlen, "data dir '%s': not a usable path",
			 data_dir);
		return -1;
	}
	/* a sibling: the rename that puts it in place stays on one
	 * filesystem, and is atomic */
	snprintf(parent, sizeof(parent), "%s", target);
	slash = strrchr(parent, '/');
	*(slash == parent ? slash + 1 : slash) = '\0';
	if (mkdir_p(parent, 0755)) {
		snprintf(err, errlen, "cannot create '%s': %s", parent,
			 strerror(errno));
		return -1;
	}
	snprintf(tmp, sizeof(tmp), "%s/.%s.restore-XXXXXX",
		 strcmp(parent, "/") ? parent : "", strrchr(target, '/') + 1);
	if (!mkdtemp(tmp)) {
		snprintf(err, errlen, "cannot create a directory beside '%s': "
			 "%s", target, strerror(errno));
		return -1;
	}
	if ((rc = restore_into(dir, id, tmp, info, err, errlen)))
		goto fail;
	rc = BACKUP_FAILED;
	if (copy_keyring(dir, tmp, err, errlen))
		goto fail;
	/* rename(2) replaces an empty directory, and nothing else */
	if (fsync_path(tmp) || rename(tmp, target) || fsync_path(parent)) {
		snprintf(err, errlen, "cannot move the restored store to '%s': "
			 "%s", target, strerror(errno));
		goto fail;
	}
	return 0;
fail:
	remove_tree(tmp);
	return rc;
}
