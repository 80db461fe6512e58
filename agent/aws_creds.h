/*
 * aws_creds.h - AWS credentials for the agent's EMR on EKS backend, found
 * in the order the AWS CLI documents ("Configuration and credential file
 * settings", precedence):
 *   1. environment: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY
 *      (+ AWS_SESSION_TOKEN);
 *   2. web identity (IRSA on EKS): AWS_WEB_IDENTITY_TOKEN_FILE +
 *      AWS_ROLE_ARN (+ AWS_ROLE_SESSION_NAME), exchanged with STS
 *      AssumeRoleWithWebIdentity (an unsigned query POST, XML answer);
 *   3. the shared credentials file (AWS_SHARED_CREDENTIALS_FILE, else
 *      ~/.aws/credentials), section [NAME];
 *   4. the shared config file (AWS_CONFIG_FILE, else ~/.aws/config),
 *      section [profile NAME] ([default] for the default profile);
 *      NAME is AWS_PROFILE, else "default";
 *   5. the instance metadata service, IMDSv2 (a session token by PUT,
 *      then the role's credentials by GET).
 * Web identity before the files, as the CLI and boto3 do: on EKS a pod
 * with IRSA must use its role even if an image ships a credentials file.
 * A profile named by AWS_PROFILE that neither file holds is an error (no
 * silent fall-through to the instance's role).
 *
 * Temporary credentials are cached and fetched again once they are within
 * refresh_margin_ms (5 minutes) of their expiry. Credentials are never
 * logged; errors never quote a key, a token or a file's contents.
 */
#ifndef SP_AWS_CREDS_H
#define SP_AWS_CREDS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aws_http.h"

struct aws_creds {
	char access_key[128];
	char secret_key[128];
	char token[4096];	/* "" for long-term keys */
	int64_t expires_ms;	/* wall clock ms; 0 = does not expire */
	char source[64];	/* "env", "web-identity", "profile NAME", "imds" */
};

struct aws_provider {
	/* set by the caller before the first aws_creds_get */
	const char *(*getenv)(const char *name); /* default: getenv */
	int64_t (*now_ms)(void);		  /* default: time_now_ms */
	aws_http_fn http;			  /* default: aws_http_do */
	char sts_endpoint[512];	 /* "" = https://sts.REGION.amazonaws.com */
	char imds_endpoint[512]; /* "" = http://169.254.169.254 */
	char region[64];
	long timeout_ms;	  /* per STS / IMDS request */
	int64_t refresh_margin_ms;
	/* private */
	pthread_mutex_t lock;
	bool have;
	struct aws_creds cached;
	uint64_t fetches; /* temporary credentials obtained (for tests) */
};

/* Defaults: real getenv and clock, aws_http_do, 3 s timeouts, 5 minutes
 * of margin, nothing cached. Release with aws_provider_release. */
void aws_provider_init(struct aws_provider *p);
void aws_provider_release(struct aws_provider *p);

/* Copies usable credentials into out: the cached ones if they are not
 * within the margin of their expiry, else the chain is walked again.
 * Thread-safe. 0, or -1 with a one-line reason naming the source that
 * failed (never a secret). */
int aws_creds_get(struct aws_provider *p, struct aws_creds *out, char *err,
		  size_t errlen);
/* Forgets the cache (the server said the token expired). */
void aws_creds_invalidate(struct aws_provider *p);

/* ---- parsers, pure (fuzzed) ---- */

/* Looks up key in [section] of an INI text (the shared files' format:
 * '#' and ';' comments, "key = value", keys case-sensitive, indented
 * lines continue a sub-section and are skipped). The last occurrence of
 * the section wins for each key, as in botocore. 0 and the trimmed value
 * in out, or -1 if absent or longer than outlen - 1 (never cut: a cut key
 * would fail later as a bad signature). */
int aws_ini_get(const char *text, size_t len, const char *section,
		const char *key, char *out, size_t outlen);
/* Whether [section] appears in the text. */
bool aws_ini_has_section(const char *text, size_t len, const char *section);

/* The first <tag>...</tag> element's text with the five XML entities
 * decoded, into out. 0, or -1 if absent or longer than outlen - 1. */
int aws_xml_text(const char *xml, size_t len, const char *tag, char *out,
		 size_t outlen);
/* Parses an STS AssumeRoleWithWebIdentity answer (or its ErrorResponse:
 * -1 with "Code: Message"). 0 and *out filled (source untouched). */
int aws_sts_parse(const char *xml, size_t len, struct aws_creds *out,
		  char *err, size_t errlen);
/* Parses IMDS security-credentials JSON ({Code, AccessKeyId,
 * SecretAccessKey, Token, Expiration}). 0 / -1 with a reason. */
int aws_imds_parse(const char *json, size_t len, struct aws_creds *out,
		   char *err, size_t errlen);
/* "2026-12-05T00:10:00Z" (fractional seconds allowed) to ms. 0 / -1. */
int aws_parse_time(const char *s, int64_t *ms);

#endif
