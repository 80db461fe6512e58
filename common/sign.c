/* sign.c - Ed25519 keys and signatures through OpenSSL 3. */
#include "sign.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

struct sign_key {
	EVP_PKEY *pkey;
};

void sign_init_lean(void)
{
	/* Only Ed25519 and SHA-256 are used here: skip the system openssl.cnf
	 * and the error-string tables, about 0.4 MB resident for a process
	 * that otherwise stays at a few MB (the agent). */
	OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG |
				    OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS,
			    NULL);
}

struct sign_key *sign_key_generate(void)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	EVP_PKEY *pkey = NULL;
	struct sign_key *k;

	if (!ctx || EVP_PKEY_keygen_init(ctx) <= 0 ||
	    EVP_PKEY_keygen(ctx, &pkey) <= 0) {
		EVP_PKEY_CTX_free(ctx);
		return NULL;
	}
	EVP_PKEY_CTX_free(ctx);
	k = xmalloc(sizeof(*k));
	k->pkey = pkey;
	return k;
}

int sign_key_save(const struct sign_key *k, const char *path)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long len;
	int rc = -1;

	if (bio && PEM_write_bio_PrivateKey(bio, k->pkey, NULL, NULL, 0, NULL,
					    NULL) == 1) {
		len = BIO_get_mem_data(bio, &data);
		rc = write_file_atomic(path, data, (size_t)len, 0600);
	}
	BIO_free(bio);
	return rc;
}

/* The PKCS#8 DER prefix of every Ed25519 private key (RFC 8410): the
 * 32-byte seed follows it. */
static const uint8_t ED25519_PKCS8_PREFIX[16] = {
	0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06,
	0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20};

/* The key files we write have one fixed shape; reading the seed straight
 * from it spares OpenSSL's generic decoder, which loads every key format it
 * knows (about 0.5 MB resident in the agent for the life of the process).
 * Anything else returns NULL and goes through PEM_read_bio_PrivateKey. */
static EVP_PKEY *ed25519_from_pem(const char *pem, size_t len)
{
	static const char begin[] = "-----BEGIN PRIVATE KEY-----\n";
	static const char end[] = "\n-----END PRIVATE KEY-----";
	const size_t b64 = 64, blen = sizeof(begin) - 1;
	uint8_t der[48];
	EVP_PKEY *pkey;

	if (len < blen + b64 + sizeof(end) - 1 || memcmp(pem, begin, blen) ||
	    memcmp(pem + blen + b64, end, sizeof(end) - 1) ||
	    EVP_DecodeBlock(der, (const unsigned char *)pem + blen,
			    (int)b64) != (int)sizeof(der) ||
	    memcmp(der, ED25519_PKCS8_PREFIX, sizeof(ED25519_PKCS8_PREFIX)))
		return NULL;
	pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, der + 16,
					    32);
	OPENSSL_cleanse(der, sizeof(der));
	return pkey;
}

struct sign_key *sign_key_load(const char *path, char *err, size_t errlen)
{
	struct stat st;
	size_t len;
	char *pem;
	BIO *bio;
	EVP_PKEY *pkey;
	struct sign_key *k;

	if (stat(path, &st) == -1) {
		snprintf(err, errlen, "cannot read key '%s': %s", path,
			 strerror(errno));
		return NULL;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen, "key file '%s' has mode %04o; expected 0600",
			 path, (unsigned)(st.st_mode & 07777));
		return NULL;
	}
	pem = read_file(path, 64 * 1024, &len);
	if (!pem) {
		snprintf(err, errlen, "cannot read key '%s': %s", path,
			 strerror(errno));
		return NULL;
	}
	pkey = ed25519_from_pem(pem, len);
	if (!pkey) {
		bio = BIO_new_mem_buf(pem, (int)len);
		pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)
			   : NULL;
		BIO_free(bio);
	}
	OPENSSL_cleanse(pem, len);
	free(pem);
	if (!pkey || EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(pkey);
		snprintf(err, errlen, "'%s' is not an Ed25519 private key",
			 path);
		return NULL;
	}
	k = xmalloc(sizeof(*k));
	k->pkey = pkey;
	return k;
}

struct sign_key *sign_key_load_or_create(const char *path, char *err,
					 size_t errlen)
{
	struct stat st;
	struct sign_key *k;

	if (stat(path, &st) == 0 || errno != ENOENT)
		return sign_key_load(path, err, errlen);
	k = sign_key_generate();
	if (!k || sign_key_save(k, path)) {
		snprintf(err, errlen, "cannot create key '%s': %s", path,
			 strerror(errno));
		sign_key_free(k);
		return NULL;
	}
	return k;
}

void sign_key_free(struct sign_key *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->pkey);
	free(k);
}

void sign_key_public(const struct sign_key *k, uint8_t pub[SIGN_PUB_LEN])
{
	size_t len = SIGN_PUB_LEN;
	if (EVP_PKEY_get_raw_public_key(k->pkey, pub, &len) != 1)
		memset(pub, 0, SIGN_PUB_LEN);
}

int sign_data(const struct sign_key *k, const void *data, size_t len,
	      uint8_t sig[SIGN_SIG_LEN])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	size_t siglen = SIGN_SIG_LEN;
	int ok = md && EVP_DigestSignInit(md, NULL, NULL, NULL, k->pkey) == 1 &&
		 EVP_DigestSign(md, sig, &siglen, data, len) == 1;
	EVP_MD_CTX_free(md);
	return ok && siglen == SIGN_SIG_LEN ? 0 : -1;
}

struct sign_pub {
	EVP_PKEY *pkey;
};

struct sign_pub *sign_pub_new(const uint8_t pub[SIGN_PUB_LEN])
{
	EVP_PKEY *pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL,
						     pub, SIGN_PUB_LEN);
	struct sign_pub *k;

	if (!pkey)
		return NULL;
	k = xcalloc(1, sizeof(*k));
	k->pkey = pkey;
	return k;
}

void sign_pub_free(struct sign_pub *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->pkey);
	free(k);
}

int sign_pub_verify(const struct sign_pub *k, const void *data, size_t len,
		    const uint8_t *sig, size_t sig_len)
{
	EVP_MD_CTX *md;
	int ok;

	if (!k || !sig || sig_len != SIGN_SIG_LEN)
		return -1;
	md = EVP_MD_CTX_new();
	ok = md && EVP_DigestVerifyInit(md, NULL, NULL, NULL, k->pkey) == 1 &&
	     EVP_DigestVerify(md, sig, sig_len, data, len) == 1;
	EVP_MD_CTX_free(md);
	return ok ? 0 : -1;
}

int sign_verify(const uint8_t pub[SIGN_PUB_LEN], const void *data, size_t len,
		const uint8_t *sig, size_t sig_len)
{
	struct sign_pub *k = sign_pub_new(pub);
	int rc = sign_pub_verify(k, data, len, sig, sig_len);
	sign_pub_free(k);
	return rc;
}

/* SHA-256 fetched from OpenSSL's provider once: EVP_sha256() makes each
 * EVP_Digest look it up again (a locked search of the provider's store),
 * which cost more than the hash of a 200-byte audit record itself on
 * the core thread (about 1.3 of 2.5 µs a serial start). */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void sign_sha256(const void *data, size_t len, uint8_t out[SIGN_SHA256_LEN])
{
	unsigned int mdlen = SIGN_SHA256_LEN;

	pthread_once(&sha256_once, sha256_fetch);
	EVP_Digest(data, len, out, &mdlen,
		   sha256_md ? sha256_md : EVP_sha256(), NULL);
}

void sign_sha256_hex(const void *data, size_t len, char out[65])
{
	uint8_t md[SIGN_SHA256_LEN];
	sign_sha256(data, len, md);
	hex_encode(md, sizeof(md), out);
}

int sign_random(void *buf, size_t len)
{
	return RAND_bytes(buf, (int)len) == 1 ? 0 : -1;
}
