/* test_tlscert.c - the agent port's TLS files checked before use
 * (tlscert.h): a matching pair passes and is described; a key of another
 * certificate, an encrypted key, a certificate cut short, a chain with a
 * broken second block, a client CA that is not PEM, and a file that is
 * not there are refused with the file named. Certificates are made here
 * with OpenSSL, valid from a fixed date. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tlscert.h"

#define NOT_BEFORE 1767225600 /* 2026-01-01T00:00:00Z */
#define NOT_AFTER 1798761600  /* 2027-01-01T00:00:00Z */

struct pem {
	char *cert, *key;
};

static char *bio_text(BIO *b)
{
	char *p;
	long n = BIO_get_mem_data(b, &p);
	char *s = malloc((size_t)n + 1);
	memcpy(s, p, (size_t)n);
	s[n] = 0;
	BIO_free(b);
	return s;
}

/* A self-signed P-256 certificate for CN=cn, and its key (encrypted with
 * pass if given). */
static struct pem make(const char *cn, const char *pass)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	BIO *cb = BIO_new(BIO_s_mem()), *kb = BIO_new(BIO_s_mem());
	struct pem p;

	assert_non_null(k);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	ASN1_TIME_set(X509_getm_notBefore(x), NOT_BEFORE);
	ASN1_TIME_set(X509_getm_notAfter(x), NOT_AFTER);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
				   (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, n);
	X509_set_pubkey(x, k);
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	PEM_write_bio_X509(cb, x);
	if (pass)
		PEM_write_bio_PrivateKey(kb, k, EVP_aes_128_cbc(),
					 (const unsigned char *)pass,
					 (int)strlen(pass), NULL, NULL);
	else
		PEM_write_bio_PrivateKey(kb, k, NULL, NULL, 0, NULL, NULL);
	p.cert = bio_text(cb);
	p.key = bio_text(kb);
	X509_NAME_free(n);
	X509_free(x);
	EVP_PKEY_free(k);
	return p;
}

static void unmake(struct pem *p)
{
	free(p->cert);
	free(p->key);
}

static void test_matching_pair(void **s)
{
	struct pem a = make("sched.example", NULL);
	struct tlscert t;
	char err[256];
	(void)s;

	assert_int_equal(tlscert_check(a.cert, a.key, NULL, &t, err,
				       sizeof(err)),
			 0);
	assert_string_equal(t.subject, "/CN=sched.example");
	assert_int_equal(t.not_before, NOT_BEFORE);
	assert_int_equal(t.not_after, NOT_AFTER);
	assert_int_equal(strlen(t.sha256), 64);
	/* a client CA, and a chain of two certificates */
	char *chain = malloc(2 * strlen(a.cert) + 1);
	sprintf(chain, "%s%s", a.cert, a.cert);
	assert_int_equal(tlscert_check(chain, a.key, a.cert, &t, err,
				       sizeof(err)),
			 0);
	free(chain);
	unmake(&a);
}

static void test_refusals(void **s)
{
	struct pem a = make("a", NULL), b = make("b", NULL),
		   enc = make("c", "secret");
	struct tlscert t;
	char err[256], cut[200];
	(void)s;

	assert_int_equal(tlscert_check(a.cert, b.key, NULL, &t, err,
				       sizeof(err)),
			 -1);
	assert_string_equal(err, "tls_key is not the key of the certificate "
				 "in tls_cert");
	/* no prompt on the terminal for the pass phrase: refused */
	assert_int_equal(tlscert_check(enc.cert, enc.key, NULL, &t, err,
				       sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "tls_key holds no PEM private key"));
	snprintf(cut, sizeof(cut), "%.150s", a.cert);
	assert_int_equal(tlscert_check(cut, a.key, NULL, &t, err,
				       sizeof(err)),
			 -1);
	assert_string_equal(err,
			    "tls_cert holds no PEM certificate that parses");
	/* a chain whose second block is broken */
	char *chain = malloc(strlen(a.cert) + sizeof(cut) + 1);
	sprintf(chain, "%s%s", a.cert, cut);
	assert_int_equal(tlscert_check(chain, a.key, NULL, &t, err,
				       sizeof(err)),
			 -1);
	free(chain);
	assert_int_equal(tlscert_check(a.cert, a.key, "not PEM", &t, err,
				       sizeof(err)),
			 -1);
	assert_string_equal(err, "tls_ca holds no PEM certificate that parses");
	assert_int_equal(tlscert_check("", "", NULL, &t, err, sizeof(err)),
			 -1);
	unmake(&a);
	unmake(&b);
	unmake(&enc);
}

/* From files: the paths named; the texts kept for nng; nothing kept on a
 * refusal. */
static void test_load(void **s)
{
	struct pem a = make("files", NULL);
	char dir[] = "/tmp/sp-tlscert.XXXXXX", cert[64], key[64], err[512];
	struct tlscert t;
	FILE *f;
	(void)s;

	assert_non_null(mkdtemp(dir));
	snprintf(cert, sizeof(cert), "%s/c.pem", dir);
	snprintf(key, sizeof(key), "%s/k.pem", dir);
	f = fopen(cert, "w");
	fputs(a.cert, f);
	fclose(f);
	f = fopen(key, "w");
	fputs(a.key, f);
	fclose(f);
	assert_int_equal(tlscert_load(cert, key, "", &t, err, sizeof(err)), 0);
	assert_string_equal(t.cert, a.cert);
	assert_string_equal(t.key, a.key);
	assert_null(t.ca);
	tlscert_release(&t);
	assert_null(t.key);
	assert_int_equal(tlscert_load(cert, "/nonexistent/k.pem", NULL, &t,
				      err, sizeof(err)),
			 -1);
	assert_string_equal(err, "cannot read tls_key '/nonexistent/k.pem': "
				 "No such file or directory");
	assert_null(t.cert);
	assert_int_equal(tlscert_load(key, key, NULL, &t, err, sizeof(err)),
			 -1);
	/* a key where the certificate should be: that file is named */
	assert_non_null(strstr(err, "tls_cert '"));
	assert_non_null(strstr(err, "/k.pem' holds no PEM certificate"));
	unlink(cert);
	unlink(key);
	rmdir(dir);
	unmake(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matching_pair),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_load),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
