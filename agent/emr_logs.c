/* emr_logs.c - the driver's logs of an EMR on EKS job run, from the S3
 * monitoring prefix (emr.h). EMR writes them as
 *   LOGURI/VIRTUAL_CLUSTER_ID/jobs/JOB_RUN_ID/containers/SPARK_APP_ID/
 *     SPARK_APP_ID-driver/{stdout,stderr}.gz  (the driver pod's name)
 * and the Spark application id is not in DescribeJobRun's answer, so the
 * keys are found with ListObjectsV2 under .../containers/ (s3:ListBucket
 * on the prefix), then read with GetObject. */
#include "emr.h"

#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "aws_creds.h"
#include "util.h"

#define MAX_KEYS 8
#define MAX_LOG (64u << 20) /* bytes of a gunzipped log */
/* SHA-256 of nothing: S3 wants the payload's hash in a header */
#define EMPTY_SHA256 \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

int emr_gunzip(const char *in, size_t len, size_t max, struct strbuf *out,
	       char *err, size_t errlen)
{
	z_stream z;
	char buf[16384];
	int zr = Z_OK;

	memset(&z, 0, sizeof(z));
	/* 32 + MAX_WBITS: gzip or zlib header, detected */
	if (inflateInit2(&z, 32 + MAX_WBITS) != Z_OK) {
		snprintf(err, errlen, "gunzip: cannot start zlib");
		return -1;
	}
	z.next_in = (unsigned char *)(uintptr_t)in;
	z.avail_in = (uInt)len;
	while (zr != Z_STREAM_END) {
		z.next_out = (unsigned char *)buf;
		z.avail_out = sizeof(buf);
		zr = inflate(&z, Z_NO_FLUSH);
		if (zr != Z_OK && zr != Z_STREAM_END) {
			snprintf(err, errlen, "gunzip: %s",
				 z.msg ? z.msg : "truncated or corrupt data");
			inflateEnd(&z);
			return -1;
		}
		if (out->len + (sizeof(buf) - z.avail_out) > max) {
			snprintf(err, errlen, "gunzip: more than %zu bytes",
				 max);
			inflateEnd(&z);
			return -1;
		}
		strbuf_add(out, buf, sizeof(buf) - z.avail_out);
		if (zr == Z_OK && z.avail_in == 0 && z.avail_out != 0) {
			snprintf(err, errlen, "gunzip: truncated data");
			inflateEnd(&z);
			return -1;
		}
	}
	inflateEnd(&z);
	return 0;
}

static bool ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);
	return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

size_t emr_driver_keys(const char *xml, size_t len, char keys[][1024],
		       size_t max)
{
	const char *p = xml, *end = xml + len;
	size_t n = 0;

	while (n < max && p < end) {
		char key[1024];
		const char *a = memmem(p, (size_t)(end - p), "<Key>", 5);
		if (!a)
			break;
		if (aws_xml_text(a, (size_t)(end - a), "Key", key,
				 sizeof(key)) == 0 &&
		    (ends_with(key, strlen(key), "-driver/stderr.gz") ||
		     ends_with(key, strlen(key), "-driver/stdout.gz")))
			memcpy(keys[n++], key, strlen(key) + 1);
		p = a + 5;
	}
	return n;
}

/* Bucket and key prefix of s3://BUCKET/PREFIX (the prefix without its
 * trailing '/'). */
static void split_uri(const char *uri, char *bucket, size_t blen,
		      const char **prefix, size_t *plen)
{
	const char *b = uri + 5, *slash = strchr(b, '/');
	size_t n = slash ? (size_t)(slash - b) : strlen(b);

	snprintf(bucket, blen, "%.*s", (int)n, b);
	*prefix = slash ? slash + 1 : "";
	*plen = strlen(*prefix);
	while (*plen && (*prefix)[*plen - 1] == '/')
		(*plen)--;
}

/* https://BUCKET.s3.REGION.amazonaws.com, or ENDPOINT/BUCKET (path style,
 * for a fake or a VPC endpoint). */
static void s3_base(const struct emr *e, const char *bucket,
		    struct strbuf *url)
{
	size_t n = strlen(e->cfg.s3_endpoint);

	if (n) {
		while (n && e->cfg.s3_endpoint[n - 1] == '/')
			n--;
		strbuf_add(url, e->cfg.s3_endpoint, n);
		strbuf_addch(url, '/');
		aws_uri_encode(url, bucket, false);
	} else {
		strbuf_addf(url, "https://%s.s3.%s.amazonaws.com", bucket,
			    e->cfg.region);
	}
}

static int s3_get(struct emr *e, const char *url, struct aws_resp *resp,
		  char *err, size_t errlen)
{
	static const char *const hdrs[] = {
		"x-amz-content-sha256: " EMPTY_SHA256, NULL
	};
	struct aws_creds creds;
	char why[300];
	int rc = -1;

	for (int attempt = 0; attempt < 2; attempt++) {
		if (aws_creds_get(e->client.creds, &creds, err, errlen))
			break;
		struct aws_req req = {
			.method = "GET", .url = url, .headers = hdrs,
			.region = e->cfg.region, .service = "s3",
			.creds = &creds, .timeout_ms = e->client.timeout_ms,
		};
		if (e->client.http(&req, resp, why, sizeof(why))) {
			snprintf(err, errlen, "s3: %s", why);
			break;
		}
		if (resp->status == 200) {
			rc = 0;
			break;
		}
		aws_error_format(resp->status, resp->error_type, resp->body.buf,
				 resp->body.len, why, sizeof(why));
		snprintf(err, errlen, "s3: %s", why);
		if (strncmp(why, "ExpiredToken", 12))
			break;
		aws_creds_invalidate(e->client.creds);
	}
	memset(&creds, 0, sizeof(creds));
	return rc;
}

static void each_line(const struct strbuf *sb, int stream, emr_line_fn fn,
		      void *ctx)
{
	const char *p = sb->buf, *end = sb->buf + sb->len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		fn(ctx, stream, p, n);
		p += n + (nl != NULL);
	}
}

/* Gets one key and feeds its lines. */
static int fetch_key(struct emr *e, const char *bucket, const char *key,
		     emr_line_fn fn, void *ctx, char *err, size_t errlen)
{
	struct strbuf url = STRBUF_INIT, text = STRBUF_INIT;
	struct aws_resp resp;
	int rc = -1;

	aws_resp_init(&resp);
	s3_base(e, bucket, &url);
	strbuf_addch(&url, '/');
	aws_uri_encode(&url, key, true);
	if (s3_get(e, url.buf, &resp, err, errlen))
		goto out;
	if (emr_gunzip(resp.body.buf, resp.body.len, MAX_LOG, &text, err,
		       errlen))
		goto out;
	each_line(&text, ends_with(key, strlen(key), "stdout.gz") ? 1 : 2, fn,
		  ctx);
	rc = 0;
out:
	strbuf_release(&url);
	strbuf_release(&text);
	aws_resp_release(&resp);
	return rc;
}

int emr_fetch_driver_logs(struct emr *e, const char *id, emr_line_fn fn,
			  void *ctx, int *found, char *err, size_t errlen)
{
	struct strbuf url = STRBUF_INIT, prefix = STRBUF_INIT;
	char bucket[128], keys[MAX_KEYS][1024];
	struct aws_resp resp;
	const char *pre;
	size_t plen, n;
	int rc = -1;

	*found = 0;
	if (!e->cfg.log_uri[0]) {
		snprintf(err, errlen, "no log_uri: the driver's logs are not "
			 "kept in S3");
		return -1;
	}
	aws_resp_init(&resp);
	split_uri(e->cfg.log_uri, bucket, sizeof(bucket), &pre, &plen);
	if (plen)
		strbuf_addf(&prefix, "%.*s/", (int)plen, pre);
	strbuf_addf(&prefix, "%s/jobs/%s/containers/",
		    e->cfg.virtual_cluster_id, id);
	s3_base(e, bucket, &url);
	/* the query sorted and encoded as SigV4's canonical form wants */
	strbuf_addstr(&url, "/?list-type=2&prefix=");
	aws_uri_encode(&url, prefix.buf, false);
	if (s3_get(e, url.buf, &resp, err, errlen))
		goto out;
	n = emr_driver_keys(resp.body.buf, resp.body.len, keys, MAX_KEYS);
	/* stderr first: Spark logs there, the diagnosis reads it */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < n; i++) {
			bool is_err = ends_with(keys[i], strlen(keys[i]),
						"stderr.gz");
			if (is_err != (pass == 0))
				continue;
			if (fetch_key(e, bucket, keys[i], fn, ctx, err,
				      errlen))
				goto out;
			(*found)++;
		}
	rc = 0;
out:
	strbuf_release(&url);
	strbuf_release(&prefix);
	aws_resp_release(&resp);
	return rc;
}
