/* tlscert.c - the agent port's TLS files, parsed and matched with OpenSSL
 * before nng is given them. */
#include "tlscert.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

/* PEM_read_bio_PrivateKey asks on the terminal for the pass phrase of an
 * encrypted key unless a callback answers: this one has none to give. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag, (void)u;
	return -1;
}

/* The certificates in pem: the first into *first (the caller frees it),
 * how many in all. 0 when the text holds none or one does not parse. */
static int read_certs(const char *pem, X509 **first)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x;
	int n = 0;
	unsigned long e;

	*first = NULL;
	while (b && (x = PEM_read_bio_X509(b, NULL, no_passphrase, NULL))) {
		if (!n++)
			*first = x;
		else
			X509_free(x);
	}
	/* the loop ends at the end of the text, or at a block that does not
	 * parse: only the first is fine */
	e = ERR_peek_last_error();
	if (n && !(ERR_GET_LIB(e) == ERR_LIB_PEM &&
		   ERR_GET_REASON(e) == PEM_R_NO_START_LINE) && e) {
		X509_free(*first);
		*first = NULL;
		n = 0;
	}
	ERR_clear_error();
	BIO_free(b);
	return n;
}

static int64_t asn1_seconds(const ASN1_TIME *t)
{
	struct tm tm;
	if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return (int64_t)timegm(&tm);
}

static void describe(X509 *x, struct tlscert *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;

	X509_NAME_oneline(X509_get_subject_name(x), out->subject,
			  (int)sizeof(out->subject));
	out->sha256[0] = 0;
	if (X509_digest(x, EVP_sha256(), md, &n) == 1)
		for (unsigned i = 0; i < n && i < 32; i++)
			snprintf(out->sha256 + 2 * i, 3, "%02x", md[i]);
	out->not_before = asn1_seconds(X509_get0_notBefore(x));
	out->not_after = asn1_seconds(X509_get0_notAfter(x));
}

/* The checks, with names[] saying which file each text came from. */
static int check(const char *cert, const char *key, const char *ca,
		 const char *const names[3], struct tlscert *out, char *err,
		 size_t errlen)
{
	X509 *x = NULL, *cax = NULL;
	EVP_PKEY *pk = NULL;
	BIO *b = NULL;
	int rc = -1;

	if (!read_certs(cert, &x)) {
		snprintf(err, errlen, "%s holds no PEM certificate that parses",
			 names[0]);
		goto out;
	}
	b = BIO_new_mem_buf(key, -1);
	pk = b ? PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL) : NULL;
	if (!pk) {
		snprintf(err, errlen,
			 "%s holds no PEM private key that parses (an "
			 "encrypted key is not supported)",
			 names[1]);
		goto out;
	}
	if (X509_check_private_key(x, pk) != 1) {
		snprintf(err, errlen,
			 "%s is not the key of the certificate in %s",
			 names[1], names[0]);
		goto out;
	}
	if (ca && !read_certs(ca, &cax)) {
		snprintf(err, errlen, "%s holds no PEM certificate that parses",
			 names[2]);
		goto out;
	}
	describe(x, out);
	rc = 0;
out:
	ERR_clear_error();
	BIO_free(b);
	EVP_PKEY_free(pk);
	X509_free(x);
	X509_free(cax);
	return rc;
}

int tlscert_check(const char *cert, const char *key, const char *ca,
		  struct tlscert *out, char *err, size_t errlen)
{
	static const char *const names[3] = { "tls_cert", "tls_key",
					       "tls_ca" };
	memset(out, 0, sizeof(*out));
	return check(cert, key, ca, names, out, err, errlen);
}

int tlscert_load(const char *cert_path, const char *key_path,
		 const char *ca_path, struct tlscert *out, char *err,
		 size_t errlen)
{
	const char *paths[3] = { cert_path, key_path,
				 ca_path && ca_path[0] ? ca_path : NULL };
	char *text[3] = { NULL, NULL, NULL };
	char names[3][600];
	const char *np[3] = { names[0], names[1], names[2] };
	static const char *const keys[3] = { "tls_cert", "tls_key", "tls_ca" };

	memset(out, 0, sizeof(*out));
	for (int i = 0; i < 3; i++) {
		snprintf(names[i], sizeof(names[i]), "%s '%s'", keys[i],
			 paths[i] ? paths[i] : "");
		if (!paths[i])
			continue;
		text[i] = read_file(paths[i], TLSCERT_MAX_FILE, NULL);
		if (!text[i]) {
			snprintf(err, errlen, "cannot read %s: %s", names[i],
				 strerror(errno));
			goto fail;
		}
	}
	if (check(text[0], text[1], text[2], np, out, err, errlen))
		goto fail;
	out->cert = text[0];
	out->key = text[1];
	out->ca = text[2];
	return 0;
fail:
	for (int i = 0; i < 3; i++)
		if (text[i]) {
			OPENSSL_cleanse(text[i], strlen(text[i]));
			free(text[i]);
		}
	return -1;
}

void tlscert_release(struct tlscert *t)
{
	if (t->key)
		OPENSSL_cleanse(t->key, strlen(t->key));
	free(t->cert);
	free(t->key);
	free(t->ca);
	t->cert = t->key = t->ca = NULL;
}
