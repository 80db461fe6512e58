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
		cmocka_unit_test(test_verify_rejects),
		cmocka_unit_test(test_sha256),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
