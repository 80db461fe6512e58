/* fuzzlib.c - helpers shared by the fuzz targets (fuzz.h). */
#include "fuzz.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

uint8_t fz_u8(struct fz_in *in)
{
	uint8_t v = 0;
	if (in->n) {
		v = in->p[0];
		in->p++;
		in->n--;
	}
	return v;
}

uint16_t fz_u16(struct fz_in *in)
{
	uint16_t hi = fz_u8(in);
	return (uint16_t)(hi << 8 | fz_u8(in));
}

uint64_t fz_u64(struct fz_in *in)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | fz_u8(in);
	return v;
}

size_t fz_chunk(struct fz_in *in, size_t max, const uint8_t **out)
{
	size_t len = fz_u16(in);
	if (len > max)
		len = max;
	if (len > in->n)
		len = in->n;
	*out = in->p;
	in->p += len;
	in->n -= len;
	return len;
}

char *fz_str(struct fz_in *in, size_t max)
{
	const uint8_t *p;
	size_t len = fz_chunk(in, max, &p);
	return xstrndup((const char *)p, len);
}

size_t fz_rest(struct fz_in *in, const uint8_t **out)
{
	size_t len = in->n;
	*out = in->p;
	in->p += len;
	in->n = 0;
	return len;
}

void fz_lines(const uint8_t *data, size_t size, size_t max, fz_line_fn fn,
	      void *ctx)
{
	const char *p = (const char *)data, *end = p + size;
	for (size_t i = 0; i < max && p < end; i++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (fn(p, len, ctx))
			return;
		p += len + 1;
	}
}

static char tmpdir[256];

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	if (ftw->level == 0)
		return 0;
	return remove(path) == -1 && errno != ENOENT ? -1 : 0;
}

void fz_empty_dir(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void remove_tmpdir(void)
{
	if (!tmpdir[0])
		return;
	fz_empty_dir(tmpdir);
	rmdir(tmpdir);
}

static const char *tmp_base(void)
{
	const char *d = getenv("SP_FUZZ_TMPDIR");
	struct stat st;

	if (d && *d)
		return d;
	if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) &&
	    access("/dev/shm", W_OK) == 0)
		return "/dev/shm";
	d = getenv("TMPDIR");
	return d && *d ? d : "/tmp";
}

const char *fz_tmpdir(void)
{
	if (tmpdir[0])
		return tmpdir;
	snprintf(tmpdir, sizeof(tmpdir), "%s/sp-fuzz-%s-%ld", tmp_base(),
		 program_invocation_short_name, (long)getpid());
	if (mkdir(tmpdir, 0700) == -1 && errno != EEXIST)
		die("cannot create '%s': %s", tmpdir, strerror(errno));
	fz_empty_dir(tmpdir);
	atexit(remove_tmpdir);
	return tmpdir;
}

int fz_write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int rc;

	if (fd == -1)
		return -1;
	rc = write_all(fd, data, len);
	close(fd);
	return rc;
}

const char *fz_as_file(const char *name, const uint8_t *data, size_t size)
{
	static char path[512];
	snprintf(path, sizeof(path), "%s/%s", fz_tmpdir(), name);
	if (fz_write_file(path, data, size))
		die("cannot write '%s': %s", path, strerror(errno));
	return path;
}

void fz_check_refusal(const char *err, const char *prefix)
{
	if (!err[0] || strchr(err, '\n') ||
	    strncmp(err, prefix, strlen(prefix)))
		fz_fail("a refusal must say why, on one line, after '%s': '%s'",
			prefix, err);
}

/* An Ed25519 key made for the fuzz targets alone; it signs nothing else. */
static const char fixed_key_pem[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MC4CAQAwBQYDK2VwBCIEIOFVKMRQznNGVyDFCgEMWMVs0Cr8gtV0otZKNaIUt2Ye\n"
	"-----END PRIVATE KEY-----\n";

struct sign_key *fz_key(void)
{
	static struct sign_key *key;
	char path[512], err[256];

	if (key)
		return key;
	snprintf(path, sizeof(path), "%s/fixed.key", fz_tmpdir());
	if (fz_write_file(path, fixed_key_pem, sizeof(fixed_key_pem) - 1))
		die("cannot write '%s'", path);
	key = sign_key_load(path, err, sizeof(err));
	if (!key)
		die("%s", err);
	unlink(path);
	return key;
}

void fz_pub(uint8_t pub[SIGN_PUB_LEN])
{
	sign_key_public(fz_key(), pub);
}

void fz_fail(const char *fmt, ...)
{
	va_list ap;
	fputs("fuzz: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

bool fz_replaying(void)
{
	const char *r = getenv("SP_FUZZ_REPLAY");
	return r && *r == '1';
}
