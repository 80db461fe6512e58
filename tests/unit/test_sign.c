/* test_sign.c - Ed25519 identity keys on disk and signatures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sign.h"
#include "util.h"

static char dir[64];

static int setup(void **s)
{
	(void)s;
	strcpy(dir, "/tmp/sp-sign.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **s)
{
	char cmd[128];
	(void)s;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static void test_save_load(void **s)
{
	char path[128], err[256];
	uint8_t pub1[32], pub2[32], sig[SIGN_SIG_LEN];
	struct stat st;
	struct sign_key *k, *k2;
	(void)s;

	snprintf(path, sizeof(path), "%s/identity.key", dir);
	k = sign_key_load_or_create(path, err, sizeof(err));
	assert_non_null(k);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	k2 = sign_key_load_or_create(path, err, sizeof(err)); /* same key */
	assert_non_null(k2);
	sign_key_public(k, pub1);
	sign_key_public(k2, pub2);
	assert_memory_equal(pub1, pub2, 32);
	assert_int_equal(sign_data(k2, "hello", 5, sig), 0);
	assert_int_equal(sign_verify(pub1, "hello", 5, sig, sizeof(sig)), 0);
	sign_key_free(k);
	sign_key_free(k2);

	/* a key readable by others is refused */
	chmod(path, 0644);
	assert_null(sign_key_load(path, err, sizeof(err)));
	assert_non_null(strstr(err, "0644"));
	/* garbage is not a key */
	snprintf(path, sizeof(path), "%s/junk.key", dir);
	assert_int_equal(write_file_atomic(path, "not a key\n", 10, 0600), 0);
	assert_null(sign_key_load(path, err, sizeof(err)));
	assert_non_null(strstr(err, "Ed25519"));
}

/* Writes PEM to DIR/NAME (0600) and loads it; the key or NULL. */
static struct sign_key *load_pem(const char *name, const char *pem)
{
	char path[128], err[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(write_file_atomic(path, pem, strlen(pem), 0600), 0);
	return sign_key_load(path, err, sizeof(err));
}

/* RFC 8032 test 1: the key files we write are read without OpenSSL's
 * generic decoder; other PEM layouts still go through it; a key of another
 * type is refused either way. */
static void test_load_shapes(void **s)
{
	static const uint8_t want[32] = {
		0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7,
		0xd5, 0x4b, 0xfe, 0xd3, 0xc9, 0x64, 0x07, 0x3a,
		0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6, 0x23, 0x25,
		0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a};
	const char *b64 =
		"MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g";
	const char *names[] = {"lf.key", "crlf.key", "comment.key"};
	char pem[3][256], x25519[256];
	uint8_t pub[32];
	struct sign_key *k;
	(void)s;

	snprintf(pem[0], sizeof(pem[0]),
		 "-----BEGIN PRIVATE KEY-----\n%s\n-----END PRIVATE KEY-----\n",
		 b64);
	snprintf(pem[1], sizeof(pem[1]),
		 "-----BEGIN PRIVATE KEY-----\r\n%s\r\n"
		 "-----END PRIVATE KEY-----\r\n",
		 b64);
	snprintf(pem[2], sizeof(pem[2]),
		 "identity of agent 7\n-----BEGIN PRIVATE KEY-----\n%s\n"
		 "-----END PRIVATE KEY-----\n",
		 b64);
	for (int i = 0; i < 3; i++) {
		k = load_pem(names[i], pem[i]);
		assert_non_null(k);
		sign_key_public(k, pub);
		assert_memory_equal(pub, want, 32);
		sign_key_free(k);
	}
	/* the same seed framed as an X25519 key (OID 1.3.101.110) */
	snprintf(x25519, sizeof(x25519),
		 "-----BEGIN PRIVATE KEY-----\n%s\n-----END PRIVATE KEY-----\n",
		 "MC4CAQAwBQYDK2VuBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g");
	assert_null(load_pem("x25519.key", x25519));
	/* a damaged body in the fixed frame */
	pem[0][40] = pem[0][40] == 'A' ? 'B' : 'A';
	k = load_pem("damaged.key", pem[0]);
	if (k) { /* the flip may land in the seed: then it is another key */
		sign_key_public(k, pub);
		assert_memory_not_equal(pub, want, 32);
		sign_key_free(k);
	}
}

static void test_verify_rejects(void **s)
{
	struct sign_key *a = sign_key_generate(), *b = sign_key_generate();
	uint8_t pa[32], pb[32], sig[SIGN_SIG_LEN];
	char msg[] = "run 42 succeeded";
	(void)s;

	sign_key_public(a, pa);
	sign_key_public(b, pb);
	assert_int_equal(sign_data(a, msg, strlen(msg), sig), 0);
	assert_int_equal(sign_verify(pa, msg, strlen(msg), sig, 64), 0);
	assert_int_equal(sign_verify(pb, msg, strlen(msg), sig, 64), -1);
	assert_int_equal(sign_verify(pa, msg, strlen(msg), sig, 63), -1);
	assert_int_equal(sign_verify(pa, msg, strlen(msg), NULL, 0), -1);
	msg[4] = '7';
	assert_int_equal(sign_verify(pa, msg, strlen(msg), sig, 64), -1);
	msg[4] = '4';
	sig[10] ^= 1;
	assert_int_equal(sign_verify(pa, msg, strlen(msg), sig, 64), -1);
	sign_key_free(a);
	sign_key_free(b);
}

static void test_sha256(void **s)
{
	char hex[65];
	(void)s;
	sign_sha256_hex("abc", 3, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
				 "b00361a396177a9cb410ff61f20015ad");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_save_load),
		cmocka_unit_test(test_load_shapes),
		cmocka_unit_test(test_verify_rejects),
		cmocka_unit_test(test_sha256),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
