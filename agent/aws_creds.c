/* aws_creds.c - the AWS credential chain (aws_creds.h). */
#include "aws_creds.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws_http.h"
#include "json.h"
#include "strbuf.h"
#include "util.h"

#define DEFAULT_IMDS "http://169.254.169.254"
#define MAX_FILE (1u << 20)

static const char *real_getenv(const char *name)
{
	return getenv(name);
}

void aws_provider_init(struct aws_provider *p)
{
	memset(p, 0, sizeof(*p));
	p->getenv = real_getenv;
	p->now_ms = time_now_ms;
	p->http = aws_http_do;
	p->timeout_ms = 3000;
	p->refresh_margin_ms = 5 * 60 * 1000;
	pthread_mutex_init(&p->lock, NULL);
}

void aws_provider_release(struct aws_provider *p)
{
	/* the secret does not outlive the provider in freed memory */
	memset(&p->cached, 0, sizeof(p->cached));
	pthread_mutex_destroy(&p->lock);
}

/* ---- parsers ---- */

static const char *skip_ws(const char *s, const char *end)
{
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	return s;
}

static const char *trim_end(const char *s, const char *end)
{
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' ||
			   end[-1] == '\r'))
		end--;
	return end;
}

/* Whether line [s, e) is the header of section (whitespace inside the
 * brackets is trimmed: "[ profile x ]" is "profile x"). */
static int is_header(const char *s, const char *e, const char *section,
		     bool *any)
{
	const char *a, *b;
	size_t n = strlen(section);

	*any = false;
	if (s == e || *s != '[')
		return 0;
	b = memchr(s, ']', (size_t)(e - s));
	if (!b)
		return 0;
	*any = true;
	a = skip_ws(s + 1, b);
	b = trim_end(a, b);
	return (size_t)(b - a) == n && memcmp(a, section, n) == 0;
}

int aws_ini_get(const char *text, size_t len, const char *section,
		const char *key, char *out, size_t outlen)
{
	const char *p = text, *end = text + len;
	size_t klen = strlen(key);
	bool in = false, any, found = false, indented;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *s, *e, *eq;

		s = skip_ws(p, le);
		e = trim_end(s, le);
		indented = s != p;
		p = nl ? nl + 1 : end;
		if (s == e || *s == '#' || *s == ';')
			continue;
		if (!indented && (is_header(s, e, section, &any) || any)) {
			in = any && is_header(s, e, section, &any);
			continue;
		}
		/* indented: a sub-section's line ("s3 =" then
		 * "  addressing_style = path"), not a key of the profile */
		if (!in || indented)
			continue;
		eq = memchr(s, '=', (size_t)(e - s));
		if (!eq)
			continue;
		if ((size_t)(trim_end(s, eq) - s) != klen ||
		    memcmp(s, key, klen) != 0)
			continue;
		s = skip_ws(eq + 1, e);
		/* never cut (nor holding a NUL, which cuts it as
		 * well): a cut key would only fail later, as a bad
		 * signature */
		found = outlen > (size_t)(e - s) &&
			!memchr(s, '\0', (size_t)(e - s));
		if (found) {
			memcpy(out, s, (size_t)(e - s));
			out[e - s] = '\0';
		}
	}
	return found ? 0 : -1;
}

bool aws_ini_has_section(const char *text, size_t len, const char *section)
{
	const char *p = text, *end = text + len;
	bool any;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *s = skip_ws(p, le);

		if (is_header(s, trim_end(s, le), section, &any))
			return true;
		p = nl ? nl + 1 : end;
	}
	return false;
}

static const char *find(const char *h, size_t hlen, const char *n)
{
	size_t nlen = strlen(n);

	if (nlen > hlen)
		return NULL;
	for (size_t i = 0; i + nlen <= hlen; i++)
		if (memcmp(h + i, n, nlen) == 0)
			return h + i;
	return NULL;
}

int aws_xml_text(const char *xml, size_t len, const char *tag, char *out,
		 size_t outlen)
{
	char open[72], close[72];
	const char *a, *b, *end = xml + len;
	size_t n = 0;

	if (outlen == 0 || strlen(tag) > 64)
		return -1;
	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	a = find(xml, len, open);
	if (!a)
		return -1;
	a += strlen(open);
	b = find(a, (size_t)(end - a), close);
	if (!b)
		return -1;
	static const struct { const char *ent; char c; } ents[] = {
		{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'},
		{"&quot;", '"'}, {"&apos;", '\''},
	};
	while (a < b) {
		char c = *a++;
		if (c == '&') {
			size_t i;
			for (i = 0; i < ARRAY_SIZE(ents); i++) {
				size_t el = strlen(ents[i].ent) - 1;
				if ((size_t)(b - a) >= el &&
				    !memcmp(a, ents[i].ent + 1, el)) {
					c = ents[i].c;
					a += el;
					break;
				}
			}
		}
		if (n + 1 >= outlen)
			return -1;
		out[n++] = c;
	}
	out[n] = '\0';
	return 0;
}

static bool all_digits(const char *s, int n)
{
	for (int i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

int aws_parse_time(const char *s, int64_t *ms)
{
	struct tm tm = {0};
	size_t n = strlen(s);
	const char *z;
	time_t t;

	if (n < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
	    s[13] != ':' || s[16] != ':' || !all_digits(s, 4) ||
	    !all_digits(s + 5, 2) || !all_digits(s + 8, 2) ||
	    !all_digits(s + 11, 2) || !all_digits(s + 14, 2) ||
	    !all_digits(s + 17, 2))
		return -1;
	z = s + 19;
	if (*z == '.') {
		z++;
		while (isdigit((unsigned char)*z))
			z++;
	}
	if (strcmp(z, "Z") != 0 && strcmp(z, "+00:00") != 0)
		return -1;
	tm.tm_year = atoi(s) - 1900;
	tm.tm_mon = atoi(s + 5) - 1;
	tm.tm_mday = atoi(s + 8);
	tm.tm_hour = atoi(s + 11);
	tm.tm_min = atoi(s + 14);
	tm.tm_sec = atoi(s + 17);
	if (tm.tm_year < 70 || tm.tm_mon > 11 || tm.tm_mday < 1 ||
	    tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
	    tm.tm_sec > 60)
		return -1;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	*ms = (int64_t)t * 1000;
	return 0;
}

/* Printable ASCII only, so a hostile answer cannot forge log lines. */
static void clean(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			*s = '?';
}

int aws_sts_parse(const char *xml, size_t len, struct aws_creds *out,
		  char *err, size_t errlen)
{
	char code[128], msg[256], exp[64];
	struct aws_creds c;

	if (aws_xml_text(xml, len, "Code", code, sizeof(code)) == 0) {
		if (aws_xml_text(xml, len, "Message", msg, sizeof(msg)))
			msg[0] = '\0';
		clean(code);
		clean(msg);
		snprintf(err, errlen, "%s: %s", code, msg);
		return -1;
	}
	memset(&c, 0, sizeof(c));
	if (aws_xml_text(xml, len, "AccessKeyId", c.access_key,
			 sizeof(c.access_key)) ||
	    aws_xml_text(xml, len, "SecretAccessKey", c.secret_key,
			 sizeof(c.secret_key)) ||
	    aws_xml_text(xml, len, "SessionToken", c.token,
			 sizeof(c.token)) ||
	    aws_xml_text(xml, len, "Expiration", exp, sizeof(exp)) ||
	    !c.access_key[0] || !c.secret_key[0]) {
		snprintf(err, errlen,
			 "answer lacks Credentials (AccessKeyId, "
			 "SecretAccessKey, SessionToken, Expiration)");
		return -1;
	}
	if (aws_parse_time(exp, &c.expires_ms)) {
		snprintf(err, errlen, "bad Expiration in the answer");
		return -1;
	}
	memcpy(out->access_key, c.access_key, sizeof(c.access_key));
	memcpy(out->secret_key, c.secret_key, sizeof(c.secret_key));
	memcpy(out->token, c.token, sizeof(c.token));
	out->expires_ms = c.expires_ms;
	return 0;
}

static int copy_field(const struct json *j, const char *key, char *out,
		      size_t outlen)
{
	const char *v = json_get_str(j, key);

	if (!v || !v[0] || strlen(v) >= outlen)
		return -1;
	memcpy(out, v, strlen(v) + 1);
	return 0;
}

int aws_imds_parse(const char *text, size_t len, struct aws_creds *out,
		   char *err, size_t errlen)
{
	char why[128], exp[64];
	struct aws_creds c;
	const char *code;
	struct json *j = json_parse(text, len, why, sizeof(why));
	int rc = -1;

	if (!j || j->type != JSON_OBJECT) {
		snprintf(err, errlen, "credentials answer is not a JSON object");
		goto out;
	}
	code = json_get_str(j, "Code");
	if (code && strcmp(code, "Success") != 0) {
		snprintf(err, errlen, "credentials answer says Code is not "
			 "Success");
		goto out;
	}
	memset(&c, 0, sizeof(c));
	if (copy_field(j, "AccessKeyId", c.access_key, sizeof(c.access_key)) ||
	    copy_field(j, "SecretAccessKey", c.secret_key,
		       sizeof(c.secret_key)) ||
	    copy_field(j, "Token", c.token, sizeof(c.token)) ||
	    copy_field(j, "Expiration", exp, sizeof(exp)) ||
	    aws_parse_time(exp, &c.expires_ms)) {
		snprintf(err, errlen,
			 "credentials answer lacks AccessKeyId, "
			 "SecretAccessKey, Token or a valid Expiration");
		goto out;
	}
	memcpy(out->access_key, c.access_key, sizeof(c.access_key));
	memcpy(out->secret_key, c.secret_key, sizeof(c.secret_key));
	memcpy(out->token, c.token, sizeof(c.token));
	out->expires_ms = c.expires_ms;
	rc = 0;
out:
	memset(&c, 0, sizeof(c));
	json_free(j);
	return rc;
}

/* ---- sources ---- */

static const char *env(struct aws_provider *p, const char *name)
{
	const char *v = p->getenv(name);
	return v && v[0] ? v : NULL;
}

static int from_env(struct aws_provider *p, struct aws_creds *c)
{
	const char *id = env(p, "AWS_ACCESS_KEY_ID");
	const char *secret = env(p, "AWS_SECRET_ACCESS_KEY");
	const char *token = env(p, "AWS_SESSION_TOKEN");

	if (!id || !secret)
		return 1;
	snprintf(c->access_key, sizeof(c->access_key), "%s", id);
	snprintf(c->secret_key, sizeof(c->secret_key), "%s", secret);
	snprintf(c->token, sizeof(c->token), "%s", token ? token : "");
	c->expires_ms = 0;
	snprintf(c->source, sizeof(c->source), "env");
	return 0;
}

/* The file named by var, else ~/.aws/NAME; NULL if it cannot be read. */
static char *read_shared(struct aws_provider *p, const char *var,
			 const char *name, size_t *len)
{
	const char *path = env(p, var), *home = env(p, "HOME");
	char buf[1024];

	if (!path) {
		if (!home)
			return NULL;
		snprintf(buf, sizeof(buf), "%s/.aws/%s", home, name);
		path = buf;
	}
	return read_file(path, MAX_FILE, len);
}

/* Keys of section in text: 0 found, 1 no such section, -1 a section
 * without both keys. */
static int keys_from(const char *text, size_t len, const char *section,
		     struct aws_creds *c)
{
	if (!aws_ini_has_section(text, len, section))
		return 1;
	if (aws_ini_get(text, len, section, "aws_access_key_id", c->access_key,
			sizeof(c->access_key)) ||
	    aws_ini_get(text, len, section, "aws_secret_access_key",
			c->secret_key, sizeof(c->secret_key)) ||
	    !c->access_key[0] || !c->secret_key[0])
		return -1;
	if (aws_ini_get(text, len, section, "aws_session_token", c->token,
			sizeof(c->token)))
		c->token[0] = '\0';
	c->expires_ms = 0;
	return 0;
}

/* 0 found, 1 nothing for this profile, -1 error. */
static int from_files(struct aws_provider *p, struct aws_creds *c, char *err,
		      size_t errlen)
{
	const char *profile = env(p, "AWS_PROFILE");
	const char *name = profile ? profile : "default";
	char section[300];
	size_t len = 0;
	char *text;
	int rc = 1, r;

	text = read_shared(p, "AWS_SHARED_CREDENTIALS_FILE", "credentials",
			   &len);
	if (text) {
		r = keys_from(text, len, name, c);
		free(text);
		if (r < 0) {
			snprintf(err, errlen,
				 "credentials file: profile '%s' lacks "
				 "aws_access_key_id or aws_secret_access_key",
				 name);
			return -1;
		}
		if (r == 0) {
			snprintf(c->source, sizeof(c->source), "profile %.50s",
				 name);
			return 0;
		}
	}
	/* the config file names profiles "[profile x]", except default */
	if (strcmp(name, "default") == 0)
		snprintf(section, sizeof(section), "default");
	else
		snprintf(section, sizeof(section), "profile %.250s", name);
	text = read_shared(p, "AWS_CONFIG_FILE", "config", &len);
	if (text) {
		r = keys_from(text, len, section, c);
		free(text);
		if (r == 0) {
			snprintf(c->source, sizeof(c->source), "profile %.50s",
				 name);
			return 0;
		}
		if (r < 0 && profile) {
			snprintf(err, errlen,
				 "config file: profile '%s' has no static keys "
				 "(only aws_access_key_id/aws_secret_access_key"
				 " are supported)",
				 name);
			return -1;
		}
	}
	if (profile) {
		snprintf(err, errlen,
			 "AWS_PROFILE '%s' is in neither the credentials nor "
			 "the config file",
			 name);
		rc = -1;
	}
	return rc;
}

static void form_add(struct strbuf *sb, const char *k, const char *v)
{
	if (sb->len)
		strbuf_addch(sb, '&');
	strbuf_addstr(sb, k);
	strbuf_addch(sb, '=');
	aws_uri_encode(sb, v, false);
}

static int from_web_identity(struct aws_provider *p, struct aws_creds *c,
			     char *err, size_t errlen)
{
	const char *file = env(p, "AWS_WEB_IDENTITY_TOKEN_FILE");
	const char *role = env(p, "AWS_ROLE_ARN");
	const char *session = env(p, "AWS_ROLE_SESSION_NAME");
	struct strbuf url = STRBUF_INIT, body = STRBUF_INIT;
	struct aws_resp resp;
	char why[256], *tok;
	size_t len;
	int rc = -1;

	if (!file || !role)
		return 1;
	tok = read_file(file, 64 * 1024, &len);
	if (!tok) {
		snprintf(err, errlen,
			 "web identity: cannot read AWS_WEB_IDENTITY_TOKEN_FILE");
		return -1;
	}
	while (len && (tok[len - 1] == '\n' || tok[len - 1] == '\r'))
		tok[--len] = '\0';
	form_add(&body, "Action", "AssumeRoleWithWebIdentity");
	form_add(&body, "Version", "2011-06-15");
	form_add(&body, "RoleArn", role);
	form_add(&body, "RoleSessionName",
		 session ? session : "sparkpilot-agent");
	form_add(&body, "WebIdentityToken", tok);
	memset(tok, 0, len);
	free(tok);
	if (p->sts_endpoint[0])
		strbuf_addstr(&url, p->sts_endpoint);
	else if (p->region[0])
		strbuf_addf(&url, "https://sts.%s.amazonaws.com", p->region);
	else
		strbuf_addstr(&url, "https://sts.amazonaws.com");
	strbuf_addch(&url, '/');
	aws_resp_init(&resp);
	/* unsigned: the web identity token is the proof */
	struct aws_req req = {
		.method = "POST", .url = url.buf, .body = body.buf,
		.body_len = body.len,
		.content_type = "application/x-www-form-urlencoded",
		.timeout_ms = p->timeout_ms,
	};
	if (p->http(&req, &resp, why, sizeof(why))) {
		snprintf(err, errlen, "web identity: STS: %s", why);
		goto out;
	}
	if (aws_sts_parse(resp.body.buf, resp.body.len, c, why, sizeof(why))) {
		snprintf(err, errlen, "web identity: STS HTTP %ld: %s",
			 resp.status, why);
		goto out;
	}
	snprintf(c->source, sizeof(c->source), "web-identity");
	rc = 0;
out:
	memset(body.buf, 0, body.len);
	strbuf_release(&body);
	strbuf_release(&url);
	aws_resp_release(&resp);
	return rc;
}

/* One IMDS request; 0 with the body in resp on HTTP 200. */
static int imds(struct aws_provider *p, const char *method, const char *path,
		const char *hdr, struct aws_resp *resp, char *err,
		size_t errlen)
{
	const char *hdrs[] = { hdr, NULL };
	char url[700];

	snprintf(url, sizeof(url), "%s%s",
		 p->imds_endpoint[0] ? p->imds_endpoint : DEFAULT_IMDS, path);
	struct aws_req req = { .method = method, .url = url,
			       .headers = hdrs, .timeout_ms = p->timeout_ms };
	strbuf_reset(&resp->body);
	if (p->http(&req, resp, err, errlen))
		return -1;
	if (resp->status != 200) {
		snprintf(err, errlen, "HTTP %ld", resp->status);
		return -1;
	}
	return 0;
}

static int from_imds(struct aws_provider *p, struct aws_creds *c, char *err,
		     size_t errlen)
{
	char why[200], hdr[200], tok[128], path[300], role[128];
	struct aws_resp resp;
	int rc = -1;
	size_t n;

	aws_resp_init(&resp);
	if (imds(p, "PUT", "/latest/api/token",
		 "X-aws-ec2-metadata-token-ttl-seconds: 21600", &resp, why,
		 sizeof(why)) ||
	    resp.body.len == 0 || resp.body.len >= sizeof(tok)) {
		snprintf(err, errlen, "imds: session token: %s",
			 resp.status == 200 ? "bad answer" : why);
		goto out;
	}
	memcpy(tok, resp.body.buf, resp.body.len + 1);
	snprintf(hdr, sizeof(hdr), "X-aws-ec2-metadata-token: %s", tok);
	if (imds(p, "GET", "/latest/meta-data/iam/security-credentials/", hdr,
		 &resp, why, sizeof(why))) {
		snprintf(err, errlen, "imds: role name: %s", why);
		goto out;
	}
	n = strcspn(resp.body.buf, "\r\n");
	if (n == 0 || n >= sizeof(role) || memchr(resp.body.buf, '/', n)) {
		snprintf(err, errlen, "imds: no instance role");
		goto out;
	}
	memcpy(role, resp.body.buf, n);
	role[n] = '\0';
	snprintf(path, sizeof(path),
		 "/latest/meta-data/iam/security-credentials/%s", role);
	if (imds(p, "GET", path, hdr, &resp, why, sizeof(why))) {
		snprintf(err, errlen, "imds: credentials: %s", why);
		goto out;
	}
	if (aws_imds_parse(resp.body.buf, resp.body.len, c, why, sizeof(why))) {
		snprintf(err, errlen, "imds: %s", why);
		goto out;
	}
	snprintf(c->source, sizeof(c->source), "imds");
	rc = 0;
out:
	memset(tok, 0, sizeof(tok));
	if (resp.body.alloc)
		memset(resp.body.buf, 0, resp.body.len);
	aws_resp_release(&resp);
	return rc;
}

/* Walks the chain. 0 found, -1 with err. */
static int resolve(struct aws_provider *p, struct aws_creds *c, char *err,
		   size_t errlen)
{
	char imds_err[256];
	int r;

	memset(c, 0, sizeof(*c));
	if (from_env(p, c) == 0)
		return 0;
	r = from_web_identity(p, c, err, errlen);
	if (r <= 0)
		return r;
	r = from_files(p, c, err, errlen);
	if (r <= 0)
		return r;
	if (from_imds(p, c, imds_err, sizeof(imds_err)) == 0)
		return 0;
	snprintf(err, errlen,
		 "no AWS credentials: none in the environment, no web "
		 "identity, no profile, and %s",
		 imds_err);
	return -1;
}

static bool fresh(struct aws_provider *p)
{
	return p->have && (p->cached.expires_ms == 0 ||
			   p->now_ms() < p->cached.expires_ms -
						 p->refresh_margin_ms);
}

int aws_creds_get(struct aws_provider *p, struct aws_creds *out, char *err,
		  size_t errlen)
{
	struct aws_creds c;
	int rc = 0;

	pthread_mutex_lock(&p->lock);
	if (!fresh(p)) {
		rc = resolve(p, &c, err, errlen);
		if (rc == 0) {
			p->cached = c;
			p->have = true;
			if (c.expires_ms)
				p->fetches++;
		} else if (p->have && p->cached.expires_ms &&
			   p->now_ms() < p->cached.expires_ms) {
			/* refresh failed but the old ones still work */
			rc = 0;
		}
		memset(&c, 0, sizeof(c));
	}
	if (rc == 0)
		*out = p->cached;
	pthread_mutex_unlock(&p->lock);
	return rc;
}

void aws_creds_invalidate(struct aws_provider *p)
{
	pthread_mutex_lock(&p->lock);
	p->have = false;
	memset(&p->cached, 0, sizeof(p->cached));
	pthread_mutex_unlock(&p->lock);
}
