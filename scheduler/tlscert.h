/*
 * tlscert.h - the agent port's TLS files read and checked before nng is
 * handed them: the certificate chain parses, the private key parses and
 * belongs to the first certificate, the optional client CA parses. A start
 * or a reload that would serve a key that does not match, or a file cut
 * short by a copy in progress, is refused here with the file named rather
 * than failing every agent's handshake later.
 *
 * OpenSSL does the parsing (nng's TLS engine says only "crypto error"),
 * and gives what an operator needs to know about the certificate: its
 * subject, its SHA-256 fingerprint (to tell a renewed one from the old)
 * and when it expires (a metric and an alert watch that date).
 */
#ifndef SP_TLSCERT_H
#define SP_TLSCERT_H

#include <stddef.h>
#include <stdint.h>

#define TLSCERT_MAX_FILE (1 << 20) /* bytes of a PEM file */

struct tlscert {
	char *cert, *key, *ca; /* the PEM texts (ca NULL without one) */
	char subject[256];     /* of the first certificate, one line */
	char sha256[65];       /* its DER's SHA-256, hex */
	int64_t not_before, not_after; /* Unix seconds */
};

/*
 * Reads and checks cert_path, key_path and ca_path (NULL or "" for none)
 * into *out. Returns 0, or -1 with a one-line reason naming the file in err
 * (cannot read, not PEM, no certificate, the key does not match the
 * certificate); *out then holds nothing to free.
 */
int tlscert_load(const char *cert_path, const char *key_path,
		 const char *ca_path, struct tlscert *out, char *err,
		 size_t errlen);
/* The same checks on PEM texts already in memory (each NUL-terminated). */
int tlscert_check(const char *cert, const char *key, const char *ca,
		  struct tlscert *out, char *err, size_t errlen);
/* Frees the PEM texts (the key is wiped first). */
void tlscert_release(struct tlscert *t);

#endif
