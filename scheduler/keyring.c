/* keyring.c - per-tenant data keys, wrapped under a master key, kept in a
 * small file beside (not inside) the store; values sealed with them. */
#include "keyring.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "log.h"
#include "parse.h"
#include "util.h"

static void store_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t load_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

struct dkey {
	char tenant[64];
	uint32_t id;
	int64_t created_ms;
	uint8_t key[KEYRING_KEY_BYTES];
};

struct keyring {
	uint8_t master[KEYRING_KEY_BYTES];
	struct dkey *v;
	size_t n, alloc;
	uint32_t next_id;
	char path[4200], copy[4200];
};

#define MAGIC_LINE "sparkpilot-keyring 1"
#define WRAP_AAD "sparkpilot-keyring:key"
#define CHECK_AAD "sparkpilot-keyring:check"
#define WRAPPED_HEX (2 * (SEAL_NONCE + KEYRING_KEY_BYTES + SEAL_TAG))
#define CHECK_HEX (2 * (SEAL_NONCE + SEAL_TAG))

/* ---- AES-256-GCM ---- */

/* AES-256-GCM fetched from OpenSSL's provider once: EVP_aes_256_gcm()
 * makes each init look it up again (a locked search of the provider's
 * store), about a third of a small value's seal. */
static EVP_CIPHER *gcm_fetched;
static pthread_once_t gcm_once = PTHREAD_ONCE_INIT;

static void gcm_fetch(void)
{
	gcm_fetched = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
}

static const EVP_CIPHER *gcm_cipher(void)
{
	pthread_once(&gcm_once, gcm_fetch);
	return gcm_fetched ? gcm_fetched : EVP_aes_256_gcm();
}

/* Seals' random nonces, drawn from OpenSSL's generator NONCE_BATCH at a
 * time: every RAND_bytes call makes a getpid system call (its check for
 * a fork), which on a VM cost more than the seal itself (1.8 µs against
 * 0.5). Per thread, so no lock; a forked child starts a batch of its own
 * (nonces_forked), never one its parent also uses. */
#define NONCE_BATCH 64
static _Thread_local struct {
	uint8_t buf[NONCE_BATCH * SEAL_NONCE];
	unsigned left; /* unused nonces at the start of buf */
} nonces;
static pthread_once_t nonces_once = PTHREAD_ONCE_INIT;

static void nonces_forked(void)
{
	nonces.left = 0; /* the child's only thread: the one that forked */
}

static void nonces_setup(void)
{
	pthread_atfork(NULL, NULL, nonces_forked);
}

static int next_nonce(uint8_t out[SEAL_NONCE])
{
	pthread_once(&nonces_once, nonces_setup);
	if (!nonces.left) {
		if (RAND_bytes(nonces.buf, sizeof(nonces.buf)) != 1)
			return -1;
		nonces.left = NONCE_BATCH;
	}
	nonces.left--;
	memcpy(out, nonces.buf + nonces.left * SEAL_NONCE, SEAL_NONCE);
	return 0;
}

/* out = ciphertext ‖ tag; 0 or -1. */
static int gcm_seal(const uint8_t key[32], const uint8_t nonce[12],
		    const uint8_t *aad1, size_t a1len, const uint8_t *aad2,
		    size_t a2len, const uint8_t *aad3, size_t a3len,
		    const void *plain, size_t plen, uint8_t *out)
{
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	int n = 0, ok;

	ok = x && EVP_EncryptInit_ex(x, gcm_cipher(), NULL, key, nonce) &&
	     (!a1len || EVP_EncryptUpdate(x, NULL, &n, aad1, (int)a1len)) &&
	     (!a2len || EVP_EncryptUpdate(x, NULL, &n, aad2, (int)a2len)) &&
	     (!a3len || EVP_EncryptUpdate(x, NULL, &n, aad3, (int)a3len)) &&
	     (!plen || EVP_EncryptUpdate(x, out, &n, plain, (int)plen)) &&
	     EVP_EncryptFinal_ex(x, out + plen, &n) &&
	     EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_GET_TAG, SEAL_TAG,
				 out + plen);
	EVP_CIPHER_CTX_free(x);
	return ok ? 0 : -1;
}

/* in = ciphertext ‖ tag (clen + 16 bytes); plain gets clen bytes. */
static int gcm_open(const uint8_t key[32], const uint8_t nonce[12],
		    const uint8_t *aad1, size_t a1len, const uint8_t *aad2,
		    size_t a2len, const uint8_t *aad3, size_t a3len,
		    const uint8_t *in, size_t clen, uint8_t *plain)
{
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	uint8_t tag[SEAL_TAG];
	int n = 0, ok;

	memcpy(tag, in + clen, SEAL_TAG);
	ok = x && EVP_DecryptInit_ex(x, gcm_cipher(), NULL, key, nonce) &&
	     (!a1len || EVP_DecryptUpdate(x, NULL, &n, aad1, (int)a1len)) &&
	     (!a2len || EVP_DecryptUpdate(x, NULL, &n, aad2, (int)a2len)) &&
	     (!a3len || EVP_DecryptUpdate(x, NULL, &n, aad3, (int)a3len)) &&
	     (!clen || EVP_DecryptUpdate(x, plain, &n, in, (int)clen)) &&
	     EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_TAG, SEAL_TAG, tag) &&
	     EVP_DecryptFinal_ex(x, plain + clen, &n) > 0;
	EVP_CIPHER_CTX_free(x);
	return ok ? 0 : -1;
}

/* ---- the master key ---- */

static int master_create(const char *path, char *err, size_t errlen)
{
	uint8_t key[KEYRING_KEY_BYTES];
	char hex[2 * KEYRING_KEY_BYTES + 2], dir[4200], *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir_p(dir, 0700)) {
			snprintf(err, errlen, "cannot create master key '%s': "
				 "%s", path, strerror(errno));
			return -1;
		}
	}
	if (RAND_bytes(key, sizeof(key)) != 1) {
		snprintf(err, errlen, "cannot create master key '%s': no "
			 "random bytes", path);
		return -1;
	}
	hex_encode(key, sizeof(key), hex);
	OPENSSL_cleanse(key, sizeof(key));
	strcat(hex, "\n");
	if (write_file_atomic(path, hex, strlen(hex), 0600)) {
		snprintf(err, errlen, "cannot create master key '%s': %s",
			 path, strerror(errno));
		OPENSSL_cleanse(hex, sizeof(hex));
		return -1;
	}
	OPENSSL_cleanse(hex, sizeof(hex));
	log_info("master key created in '%s': back it up apart from the data "
		 "and its backups (docs/operator-guide.md, Data kept and "
		 "removed)", path);
	return 0;
}

int keyring_master_load(const char *path, bool create,
			uint8_t key[KEYRING_KEY_BYTES], char *err,
			size_t errlen)
{
	struct stat st;
	char *text;
	size_t len = 0;
	int rc;

	if (!path || !path[0]) {
		snprintf(err, errlen, "no master key: set master_key_file");
		return -1;
	}
	if (stat(path, &st) == -1 && errno == ENOENT && create &&
	    master_create(path, err, errlen))
		return -1;
	if (stat(path, &st) == -1) {
		snprintf(err, errlen, "cannot read master key '%s': %s", path,
			 strerror(errno));
		return -1;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen, "cannot read master key '%s': it is "
			 "readable or writable by others (mode %04o): make it "
			 "0600 or 0400, owned by the scheduler's user", path,
			 (unsigned)(st.st_mode & 07777));
		return -1;
	}
	if (!(text = read_file(path, 256, &len))) {
		snprintf(err, errlen, "cannot read master key '%s': %s", path,
			 strerror(errno));
		return -1;
	}
	while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		text[--len] = '\0';
	rc = len == 2 * KEYRING_KEY_BYTES ? hex_decode(text, key, KEYRING_KEY_BYTES)
					  : -1;
	OPENSSL_cleanse(text, len);
	free(text);
	if (rc)
		snprintf(err, errlen, "cannot read master key '%s': not 64 hex "
			 "digits", path);
	return rc;
}

/* ---- the keyring ---- */

struct keyring *keyring_new(const uint8_t master[KEYRING_KEY_BYTES])
{
	struct keyring *kr = xcalloc(1, sizeof(*kr));
	memcpy(kr->master, master, KEYRING_KEY_BYTES);
	kr->next_id = 1;
	return kr;
}

void keyring_set_files(struct keyring *kr, const char *path,
		       const char *copy)
{
	snprintf(kr->path, sizeof(kr->path), "%s", path ? path : "");
	snprintf(kr->copy, sizeof(kr->copy), "%s", copy ? copy : "");
}

void keyring_free(struct keyring *kr)
{
	if (!kr)
		return;
	if (kr->v)
		OPENSSL_cleanse(kr->v, kr->alloc * sizeof(*kr->v));
	free(kr->v);
	OPENSSL_cleanse(kr, sizeof(*kr));
	free(kr);
}

size_t keyring_count(const struct keyring *kr)
{
	return kr->n;
}

static struct dkey *by_tenant(const struct keyring *kr, const char *tenant)
{
	for (size_t i = 0; i < kr->n; i++)
		if (!strcmp(kr->v[i].tenant, tenant))
			return &kr->v[i];
	return NULL;
}

static const struct dkey *by_id(const struct keyring *kr, uint32_t id)
{
	for (size_t i = 0; i < kr->n; i++)
		if (kr->v[i].id == id)
			return &kr->v[i];
	return NULL;
}

static void wrap_aad(const struct dkey *k, uint8_t *aad, size_t *len)
{
	size_t n = strlen(k->tenant);
	memcpy(aad, WRAP_AAD, sizeof(WRAP_AAD)); /* with its NUL */
	memcpy(aad + sizeof(WRAP_AAD), k->tenant, n + 1);
	store_u32(aad + sizeof(WRAP_AAD) + n + 1, k->id);
	*len = sizeof(WRAP_AAD) + n + 1 + 4;
}

void keyring_format(const struct keyring *kr, struct strbuf *out)
{
	uint8_t nonce[SEAL_NONCE], buf[KEYRING_KEY_BYTES + SEAL_TAG];
	uint8_t aad[sizeof(WRAP_AAD) + 64 + 4], all[SEAL_NONCE + sizeof(buf)];
	char hex[2 * sizeof(all) + 1];
	size_t alen;

	strbuf_addstr(out, MAGIC_LINE "\n");
	/* the check line proves the master key even with no entry */
	RAND_bytes(nonce, sizeof(nonce));
	gcm_seal(kr->master, nonce, (const uint8_t *)CHECK_AAD,
		 sizeof(CHECK_AAD) - 1, NULL, 0, NULL, 0, NULL, 0, buf);
	memcpy(all, nonce, SEAL_NONCE);
	memcpy(all + SEAL_NONCE, buf, SEAL_TAG);
	hex_encode(all, SEAL_NONCE + SEAL_TAG, hex);
	strbuf_addf(out, "check %s\nnext %u\n", hex, kr->next_id);
	for (size_t i = 0; i < kr->n; i++) {
		const struct dkey *k = &kr->v[i];
		RAND_bytes(nonce, sizeof(nonce));
		wrap_aad(k, aad, &alen);
		gcm_seal(kr->master, nonce, aad, alen, NULL, 0, NULL, 0,
			 k->key, KEYRING_KEY_BYTES, buf);
		memcpy(all, nonce, SEAL_NONCE);
		memcpy(all + SEAL_NONCE, buf, sizeof(buf));
		hex_encode(all, sizeof(all), hex);
		strbuf_addf(out, "key %s %u %lld %s\n", k->tenant, k->id,
			    (long long)k->created_ms, hex);
	}
}

static int parse_fail(char *err, size_t errlen, int line, const char *why)
{
	snprintf(err, errlen, "keyring line %d: %s", line, why);
	return -1;
}

static int parse_check(const struct keyring *kr, const char *hex)
{
	uint8_t all[SEAL_NONCE + SEAL_TAG], none[1];

	if (strlen(hex) != CHECK_HEX || hex_decode(hex, all, sizeof(all)))
		return -1;
	return gcm_open(kr->master, all, (const uint8_t *)CHECK_AAD,
			sizeof(CHECK_AAD) - 1, NULL, 0, NULL, 0,
			all + SEAL_NONCE, 0, none);
}

/* "key TENANT ID CREATED_MS HEX" (the words after "key "). */
static int parse_key(struct keyring *kr, char *rest, int line, char *err,
		     size_t errlen)
{
	char *w[4], *save = NULL;
	uint8_t all[SEAL_NONCE + KEYRING_KEY_BYTES + SEAL_TAG];
	uint8_t aad[sizeof(WRAP_AAD) + 64 + 4];
	uint64_t id, ms;
	struct dkey k = { 0 };
	size_t alen;
	int rc;

	for (int i = 0; i < 4; i++)
		if (!(w[i] = strtok_r(i ? NULL : rest, " ", &save)))
			return parse_fail(err, errlen, line, "too few words");
	if (strtok_r(NULL, " ", &save))
		return parse_fail(err, errlen, line, "too many words");
	if (!name_valid(w[0]))
		return parse_fail(err, errlen, line, "not a tenant name");
	if (parse_u64(w[1], 1, UINT32_MAX, &id, NULL, 0) ||
	    parse_u64(w[2], 0, INT64_MAX, &ms, NULL, 0))
		return parse_fail(err, errlen, line, "bad key id or time");
	if (strlen(w[3]) != WRAPPED_HEX || hex_decode(w[3], all, sizeof(all)))
		return parse_fail(err, errlen, line, "bad wrapped key");
	if (by_tenant(kr, w[0]) || by_id(kr, (uint32_t)id))
		return parse_fail(err, errlen, line,
				  "a tenant or key id seen before");
	if (id >= kr->next_id)
		return parse_fail(err, errlen, line,
				  "key id not below the 'next' line's");
	snprintf(k.tenant, sizeof(k.tenant), "%s", w[0]);
	k.id = (uint32_t)id;
	k.created_ms = (int64_t)ms;
	wrap_aad(&k, aad, &alen);
	rc = gcm_open(kr->master, all, aad, alen, NULL, 0, NULL, 0,
		      all + SEAL_NONCE, KEYRING_KEY_BYTES, k.key);
	OPENSSL_cleanse(all, sizeof(all));
	if (rc) {
		OPENSSL_cleanse(&k, sizeof(k));
		return parse_fail(err, errlen, line,
				  "the data key does not decrypt under the "
				  "master key");
	}
	kr->v = xgrow(kr->v, &kr->alloc, kr->n + 1, sizeof(*kr->v));
	kr->v[kr->n++] = k;
	OPENSSL_cleanse(&k, sizeof(k));
	return 0;
}

static int parse_line(struct keyring *kr, char *s, int line, int *seen,
		      char *err, size_t errlen)
{
	uint64_t v;

	if (line == 1)
		return strcmp(s, MAGIC_LINE)
			       ? parse_fail(err, errlen, 1,
					    "not a keyring (no '" MAGIC_LINE
					    "')")
			       : 0;
	if (!strncmp(s, "check ", 6)) {
		if (*seen & 1)
			return parse_fail(err, errlen, line, "a second check");
		*seen |= 1;
		return parse_check(kr, s + 6)
			       ? parse_fail(err, errlen, line,
					    "written under another master key")
			       : 0;
	}
	if (!strncmp(s, "next ", 5)) {
		if ((*seen & 2) || kr->n)
			return parse_fail(err, errlen, line,
					  "'next' must come once, before keys");
		*seen |= 2;
		if (parse_u64(s + 5, 1, UINT32_MAX, &v, NULL, 0))
			return parse_fail(err, errlen, line, "bad 'next'");
		kr->next_id = (uint32_t)v;
		return 0;
	}
	if (!strncmp(s, "key ", 4)) {
		if ((*seen & 3) != 3)
			return parse_fail(err, errlen, line,
					  "a key before 'check' and 'next'");
		return parse_key(kr, s + 4, line, err, errlen);
	}
	return parse_fail(err, errlen, line, "unknown line");
}

int keyring_parse(struct keyring *kr, const char *text, size_t len,
		  char *err, size_t errlen)
{
	char *copy = xstrndup(text, len), *s = copy, *nl;
	int line = 0, seen = 0, rc = 0;

	if (strlen(copy) != len)
		rc = parse_fail(err, errlen, 1, "a NUL byte");
	while (!rc && *s) {
		nl = strchr(s, '\n');
		if (!nl) {
			rc = parse_fail(err, errlen, line + 1,
					"no newline at the end");
			break;
		}
		*nl = '\0';
		rc = parse_line(kr, s, ++line, &seen, err, errlen);
		s = nl + 1;
	}
	if (!rc && (seen & 3) != 3)
		rc = parse_fail(err, errlen, line ? line : 1,
				"no 'check' or 'next' line");
	OPENSSL_cleanse(copy, len);
	free(copy);
	return rc;
}

static int save_one(const char *path, const struct strbuf *sb, char *err,
		    size_t errlen)
{
	if (!path[0])
		return 0;
	if (write_file_atomic(path, sb->buf, sb->len, 0600)) {
		snprintf(err, errlen, "cannot write the keyring '%s': %s",
			 path, strerror(errno));
		return -1;
	}
	return 0;
}

int keyring_save(const struct keyring *kr, char *err, size_t errlen)
{
	struct strbuf sb = STRBUF_INIT;
	int rc;

	keyring_format(kr, &sb);
	rc = save_one(kr->path, &sb, err, errlen) ||
	     save_one(kr->copy, &sb, err, errlen);
	strbuf_release(&sb);
	return rc ? -1 : 0;
}

struct keyring *keyring_load(const char *master_path, const char *data_dir,
			     bool need_file, char *err, size_t errlen)
{
	uint8_t master[KEYRING_KEY_BYTES];
	char path[4200], why[256];
	struct keyring *kr;
	struct stat st;
	char *text;
	size_t len = 0;
	bool have;

	snprintf(path, sizeof(path), "%s/%s", data_dir, KEYRING_FILE);
	have = stat(path, &st) == 0;
	if (!have && need_file) {
		snprintf(err, errlen, "the keyring '%s' is missing (the store "
			 "holds sealed data): copy it back from the backup "
			 "dir's 'keyring'", path);
		return NULL;
	}
	/* a new master key only for a new keyring: another key could not
	 * open the data keys there are */
	if (keyring_master_load(master_path, !have, master, err, errlen))
		return NULL;
	kr = keyring_new(master);
	OPENSSL_cleanse(master, sizeof(master));
	keyring_set_files(kr, path, NULL);
	if (have) {
		if (!(text = read_file(path, 16 << 20, &len))) {
			snprintf(err, errlen, "cannot read the keyring '%s': %s",
				 path, strerror(errno));
			keyring_free(kr);
			return NULL;
		}
		if (keyring_parse(kr, text, len, why, sizeof(why))) {
			snprintf(err, errlen, "keyring '%s' refused: %s (is "
				 "master_key_file '%s' the key it was written "
				 "with?)", path, why, master_path);
			OPENSSL_cleanse(text, len);
			free(text);
			keyring_free(kr);
			return NULL;
		}
		OPENSSL_cleanse(text, len);
		free(text);
	}
	if (keyring_save(kr, err, errlen)) {
		keyring_free(kr);
		return NULL;
	}
	return kr;
}

int keyring_set_copy(struct keyring *kr, const char *dir, char *err,
		     size_t errlen)
{
	kr->copy[0] = '\0';
	if (!dir || !dir[0])
		return 0;
	if (mkdir_p(dir, 0700)) {
		snprintf(err, errlen, "cannot create '%s': %s", dir,
			 strerror(errno));
		return -1;
	}
	snprintf(kr->copy, sizeof(kr->copy), "%s/%s", dir, KEYRING_FILE);
	if (keyring_save(kr, err, errlen)) {
		kr->copy[0] = '\0';
		return -1;
	}
	return 0;
}

bool keyring_has_copy(const struct keyring *kr, const char *dir)
{
	size_t n = strlen(dir);
	return kr->copy[0] && !strncmp(kr->copy, dir, n) &&
	       !strcmp(kr->copy + n, "/" KEYRING_FILE);
}

uint32_t keyring_key_id(const struct keyring *kr, const char *tenant)
{
	const struct dkey *k = by_tenant(kr, tenant);
	return k ? k->id : 0;
}

int keyring_ensure(struct keyring *kr, const char *tenant, int64_t now_ms,
		   char *err, size_t errlen)
{
	struct dkey k = { 0 };

	if (by_tenant(kr, tenant))
		return 0;
	if (strlen(tenant) >= sizeof(k.tenant) || kr->next_id == UINT32_MAX) {
		snprintf(err, errlen, "cannot give tenant '%.64s' a data key",
			 tenant);
		return -1;
	}
	snprintf(k.tenant, sizeof(k.tenant), "%s", tenant);
	k.id = kr->next_id;
	k.created_ms = now_ms;
	if (RAND_bytes(k.key, sizeof(k.key)) != 1) {
		snprintf(err, errlen, "cannot make a data key: no random bytes");
		return -1;
	}
	kr->v = xgrow(kr->v, &kr->alloc, kr->n + 1, sizeof(*kr->v));
	kr->v[kr->n++] = k;
	kr->next_id++;
	OPENSSL_cleanse(&k, sizeof(k));
	if (keyring_save(kr, err, errlen)) {
		kr->n--;
		kr->next_id--;
		OPENSSL_cleanse(&kr->v[kr->n], sizeof(kr->v[kr->n]));
		return -1;
	}
	return 0;
}

int keyring_destroy(struct keyring *kr, const char *tenant, uint32_t *id,
		    char *err, size_t errlen)
{
	struct dkey *k = by_tenant(kr, tenant), saved;
	size_t i;

	*id = 0;
	if (!k)
		return 0;
	i = (size_t)(k - kr->v);
	saved = *k;
	memmove(k, k + 1, (kr->n - i - 1) * sizeof(*k));
	kr->n--;
	OPENSSL_cleanse(&kr->v[kr->n], sizeof(kr->v[kr->n]));
	if (keyring_save(kr, err, errlen)) {
		/* put it back where it was: the files may hold either */
		memmove(kr->v + i + 1, kr->v + i, (kr->n - i) * sizeof(*k));
		kr->v[i] = saved;
		kr->n++;
		OPENSSL_cleanse(&saved, sizeof(saved));
		return -1;
	}
	*id = saved.id;
	OPENSSL_cleanse(&saved, sizeof(saved));
	return 0;
}

/* ---- values ---- */

/* A few cipher contexts, each set up with one tenant's key: runs of a
 * handful of busy tenants interleave in id order. */
#define OPENER_KEYS 8

struct keyring_opener {
	EVP_CIPHER_CTX *x[OPENER_KEYS];
	uint32_t id[OPENER_KEYS]; /* the key x[i] is set up with (0: none) */
	unsigned next;            /* the one replaced next */
};

struct keyring_opener *keyring_opener_new(void)
{
	struct keyring_opener *o = xcalloc(1, sizeof(*o));
	for (int i = 0; i < OPENER_KEYS; i++)
		if (!(o->x[i] = EVP_CIPHER_CTX_new()))
			die("out of memory");
	return o;
}

void keyring_opener_free(struct keyring_opener *o)
{
	if (!o)
		return;
	for (int i = 0; i < OPENER_KEYS; i++)
		EVP_CIPHER_CTX_free(o->x[i]);
	free(o);
}

/* The context set up with k's key, made so if none is. */
static EVP_CIPHER_CTX *opener_ctx(struct keyring_opener *o,
				  const struct dkey *k)
{
	unsigned i;

	for (i = 0; i < OPENER_KEYS; i++)
		if (o->id[i] == k->id)
			return o->x[i];
	i = o->next++ % OPENER_KEYS;
	o->id[i] = 0;
	if (!EVP_DecryptInit_ex(o->x[i], gcm_cipher(), NULL, k->key,
				NULL))
		return NULL;
	o->id[i] = k->id;
	return o->x[i];
}

/* gcm_open through o: the key schedule is made once per key. */
static int opener_open(struct keyring_opener *o, const struct dkey *k,
		       const uint8_t *p, const char *cf, const void *key,
		       size_t klen, size_t clen, uint8_t *plain)
{
	uint8_t tag[SEAL_TAG];
	const uint8_t *in = p + SEAL_HEADER + SEAL_NONCE;
	EVP_CIPHER_CTX *x = opener_ctx(o, k);
	int n = 0, ok;

	if (!x)
		return -1;
	memcpy(tag, in + clen, SEAL_TAG);
	ok = EVP_DecryptInit_ex(x, NULL, NULL, NULL, p + SEAL_HEADER) &&
	     EVP_DecryptUpdate(x, NULL, &n, p, SEAL_HEADER) &&
	     EVP_DecryptUpdate(x, NULL, &n, (const uint8_t *)cf,
			       (int)strlen(cf) + 1) &&
	     (!klen || EVP_DecryptUpdate(x, NULL, &n, key, (int)klen)) &&
	     (!clen || EVP_DecryptUpdate(x, plain, &n, in, (int)clen)) &&
	     EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_TAG, SEAL_TAG, tag) &&
	     EVP_DecryptFinal_ex(x, plain + clen, &n) > 0;
	return ok ? 0 : -1;
}

bool keyring_is_sealed(const void *val, size_t len)
{
	const uint8_t *v = val;
	return len >= SEAL_OVERHEAD && v[0] == SEAL_MAGIC &&
	       v[1] == SEAL_VERSION;
}

uint32_t keyring_value_key_id(const void *val, size_t len)
{
	return keyring_is_sealed(val, len) ? load_u32((const uint8_t *)val + 2)
					   : 0;
}

int keyring_seal(const struct keyring *kr, const char *tenant,
		 const char *cf, const void *key, size_t klen,
		 const void *plain, size_t plen, struct strbuf *out)
{
	const struct dkey *k = kr ? by_tenant(kr, tenant) : NULL;
	uint8_t *p;

	if (!k)
		return -1;
	strbuf_grow(out, SEAL_OVERHEAD + plen);
	p = (uint8_t *)out->buf + out->len;
	p[0] = SEAL_MAGIC;
	p[1] = SEAL_VERSION;
	store_u32(p + 2, k->id);
	if (next_nonce(p + SEAL_HEADER) ||
	    gcm_seal(k->key, p + SEAL_HEADER, p, SEAL_HEADER,
		     (const uint8_t *)cf, strlen(cf) + 1, key, klen, plain,
		     plen, p + SEAL_HEADER + SEAL_NONCE))
		return -1;
	strbuf_setlen(out, out->len + SEAL_OVERHEAD + plen);
	return 0;
}

int keyring_open_value(const struct keyring *kr, const char *cf,
		       const void *key, size_t klen, const void *val,
		       size_t vlen, struct strbuf *out)
{
	return keyring_open_with(NULL, kr, cf, key, klen, val, vlen, out);
}

int keyring_open_with(struct keyring_opener *o, const struct keyring *kr,
		      const char *cf, const void *key, size_t klen,
		      const void *val, size_t vlen, struct strbuf *out)
{
	const uint8_t *p = val;
	const struct dkey *k;
	size_t clen;
	int rc;

	if (!keyring_is_sealed(val, vlen))
		return -1;
	if (!kr || !(k = by_id(kr, load_u32(p + 2))))
		return KEYRING_DESTROYED;
	clen = vlen - SEAL_OVERHEAD;
	strbuf_grow(out, clen + 1);
	if (o)
		rc = opener_open(o, k, p, cf, key, klen, clen,
				 (uint8_t *)out->buf + out->len);
	else
		rc = gcm_open(k->key, p + SEAL_HEADER, p, SEAL_HEADER,
			      (const uint8_t *)cf, strlen(cf) + 1, key, klen,
			      p + SEAL_HEADER + SEAL_NONCE, clen,
			      (uint8_t *)out->buf + out->len);
	if (rc)
		return -1;
	strbuf_setlen(out, out->len + clen);
	return 0;
}

void keyring_pseudonym(const struct keyring *kr, const char *tenant,
		       char *out, size_t len)
{
	static const char label[] = "sparkpilot-tenant-pseudonym:";
	uint8_t mac[EVP_MAX_MD_SIZE], msg[sizeof(label) + 64];
	unsigned mlen = 0;
	size_t n = strlen(tenant) < 64 ? strlen(tenant) : 63;
	char hex[2 * 32 + 1];

	memcpy(msg, label, sizeof(label) - 1);
	memcpy(msg + sizeof(label) - 1, tenant, n);
	HMAC(EVP_sha256(), kr->master, KEYRING_KEY_BYTES, msg,
	     sizeof(label) - 1 + n, mac, &mlen);
	hex_encode(mac, 6, hex);
	snprintf(out, len, "tenant-%s", hex);
}
