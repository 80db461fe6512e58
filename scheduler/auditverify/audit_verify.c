/* audit_verify.c - sparkpilot-audit-verify: checks an `spctl audit export`
 * file offline, trusting only the checkpoint key given with --key. The
 * rules are the scheduler's own (common/auditlog.c): each record line
 * must be exactly what its bytes render to, the chain of hashes must run
 * unbroken from the header's signed start to the end line's signed head,
 * and every checkpoint's signature must hold. Exit 0 when intact, 1 at
 * the first altered, removed or reordered record (named by line and
 * seq), 2 when the file cannot be read or the arguments are wrong. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auditlog.h"
#include "json.h"
#include "parse.h"
#include "util.h"
#include "version.h"

#define MAX_FILE (4LL << 30)

static const char usage[] =
	"usage: sparkpilot-audit-verify [--key HEX] FILE\n"
	"Checks an audit log export (spctl audit export > FILE). --key is the\n"
	"scheduler's checkpoint key (spctl audit key), obtained from a source\n"
	"you trust; without it the key written in FILE is used, which proves\n"
	"nothing against whoever could write FILE.\n"
	"Exit 0: intact; 1: altered, removed or reordered records (the first\n"
	"is named by line and seq); 2: FILE unreadable or bad arguments.\n";

static int die2(const char *fmt, ...) SP_PRINTF(1, 2);
static int die2(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "sparkpilot-audit-verify: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 2;
}

static int broken(size_t line, const char *fmt, ...) SP_PRINTF(2, 3);
static int broken(size_t line, const char *fmt, ...)
{
	va_list ap;
	printf("line %zu", line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	return 1;
}

struct lines {
	char **v;
	size_t n, alloc;
};

/* Splits text (NUL-terminated, modified) into lines. */
static void split_lines(char *text, size_t len, struct lines *l)
{
	char *p = text, *end = text + len;

	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		if (nl)
			*nl = '\0';
		l->v = xgrow(l->v, &l->alloc, l->n + 1, sizeof(*l->v));
		l->v[l->n++] = p;
		p = nl ? nl + 1 : end;
	}
}

static int get_u64(const struct json *j, const char *key, uint64_t *out)
{
	const struct json *v = json_get(j, key);
	return v && v->type == JSON_NUMBER ? parse_u64(v->str, 0, UINT64_MAX,
						       out, NULL, 0)
					   : -1;
}

static int get_hex(const struct json *j, const char *key, uint8_t *out,
		   size_t n)
{
	const char *s = json_get_str(j, key);
	return s ? hex_decode(s, out, n) : -1;
}

/* The line after `from` whose record has seq, or 0. */
static size_t find_seq(const struct lines *l, size_t from, uint64_t seq)
{
	char needle[48];
	snprintf(needle, sizeof(needle), ",\"seq\":%llu,",
		 (unsigned long long)seq);
	for (size_t i = from; i < l->n; i++)
		if (strstr(l->v[i], needle))
			return i + 1;
	return 0;
}

struct check {
	uint8_t key[SIGN_PUB_LEN];
	struct audit_walk w;
	uint64_t first;
	bool ended;
};

/* The header line: the trusted key's signature on where the export
 * starts. */
static int check_header(struct check *ck, const struct json *h, bool pinned)
{
	uint8_t key[SIGN_PUB_LEN], prev[AUDIT_HASH_LEN], sig[SIGN_SIG_LEN];
	uint64_t v, first, ms;
	const char *fmt = json_get_str(h, "format");

	if (!fmt || strcmp(fmt, "sparkpilot-audit-export") ||
	    get_u64(h, "v", &v) || get_hex(h, "key", key, sizeof(key)) ||
	    get_u64(h, "first_seq", &first) || first == 0 ||
	    get_hex(h, "first_prev", prev, sizeof(prev)) ||
	    get_u64(h, "ms", &ms) || get_hex(h, "sig", sig, sizeof(sig)))
		return broken(1, ": not an audit export header: altered");
	if (v != AUDIT_FORMAT)
		return broken(1, ": export format %llu is unknown to this build",
			      (unsigned long long)v);
	if (!pinned) {
		memcpy(ck->key, key, sizeof(key));
		fprintf(stderr,
			"sparkpilot-audit-verify: warning: no --key: checking "
			"with the key the file names (%s), which proves "
			"nothing against whoever could write the file; pin the "
			"key from 'spctl audit key' with --key\n",
			json_get_str(h, "key"));
	} else if (memcmp(key, ck->key, sizeof(key))) {
		return broken(1, ": the export names key %s, not the trusted key",
			      json_get_str(h, "key"));
	}
	if (audit_mark_verify(ck->key, "export-start", first - 1, prev,
			      (int64_t)ms, sig))
		return broken(1, ": the header's signature does not verify with "
			      "the trusted key: altered");
	audit_walk_init(&ck->w, ck->key, first - 1, prev);
	ck->first = first;
	return 0;
}

/* A record or checkpoint line. */
static int check_record(struct check *ck, const struct lines *l, size_t i,
			const struct json *j)
{
	const char *hex = json_get_str(j, "raw");
	struct strbuf again = STRBUF_INIT;
	uint64_t seq = 0, want = ck->w.last_seq + 1;
	uint8_t *raw;
	size_t len = hex ? strlen(hex) / 2 : 0;
	char why[256];
	int rc = 0;

	get_u64(j, "seq", &seq);
	raw = xmalloc(len + 1);
	if (!hex || hex_decode(hex, raw, len) ||
	    audit_json_line(raw, len, &again, why, sizeof(why)) ||
	    strcmp(again.buf, l->v[i])) {
		rc = broken(i + 1, " (seq %llu): altered: the line is not what "
			    "its record's bytes say", (unsigned long long)seq);
	} else if (seq != want) {
		size_t at = find_seq(l, i + 1, want);
		rc = at ? broken(i + 1, " (seq %llu): reordered: seq %llu was "
				 "expected here and is at line %zu",
				 (unsigned long long)seq,
				 (unsigned long long)want, at)
			: broken(i + 1, " (seq %llu): removed: seq %llu was "
				 "expected here and is not in the file",
				 (unsigned long long)seq,
				 (unsigned long long)want);
	} else if (audit_walk_next(&ck->w, raw, len, &seq, why, sizeof(why))) {
		rc = broken(i + 1, " (seq %llu): %s", (unsigned long long)seq,
			    why);
	}
	strbuf_release(&again);
	free(raw);
	return rc;
}

/* The end line: the trusted key's signature on the last record. */
static int check_end(struct check *ck, size_t i, const struct json *j)
{
	uint8_t hash[AUDIT_HASH_LEN], sig[SIGN_SIG_LEN];
	uint64_t last, ms;

	if (get_u64(j, "last_seq", &last) ||
	    get_hex(j, "last_hash", hash, sizeof(hash)) ||
	    get_u64(j, "ms", &ms) || get_hex(j, "sig", sig, sizeof(sig)) ||
	    audit_mark_verify(ck->key, "export-end", last, hash, (int64_t)ms,
			      sig))
		return broken(i + 1, ": the end line's signature does not verify "
			      "with the trusted key: altered");
	if (last != ck->w.last_seq ||
	    memcmp(hash, ck->w.last_hash, AUDIT_HASH_LEN))
		return broken(i + 1, ": the export was signed ending at seq %llu "
			      "but its records end at seq %llu: %s",
			      (unsigned long long)last,
			      (unsigned long long)ck->w.last_seq,
			      last > ck->w.last_seq ? "records removed"
						    : "records added");
	ck->ended = true;
	return 0;
}

static int check_lines(struct check *ck, const struct lines *l, bool pinned)
{
	int rc = 0;

	if (!l->n)
		return broken(1, ": the file is empty");
	for (size_t i = 0; i < l->n && !rc; i++) {
		char err[160];
		struct json *j = json_parse(l->v[i], strlen(l->v[i]), err,
					    sizeof(err));
		const char *type = j ? json_get_str(j, "type") : NULL;

		if (!type)
			rc = broken(i + 1, ": not an export line (%s): altered",
				    j ? "no type" : err);
		else if (i == 0)
			rc = strcmp(type, "header")
				     ? broken(1, ": no header: altered")
				     : check_header(ck, j, pinned);
		else if (ck->ended)
			rc = broken(i + 1, ": a line after the end line: added");
		else if (!strcmp(type, "end"))
			rc = check_end(ck, i, j);
		else if (!strcmp(type, "record") ||
			 !strcmp(type, AUDIT_CHECKPOINT))
			rc = check_record(ck, l, i, j);
		else
			rc = broken(i + 1, ": unknown line type '%.32s': altered",
				    type);
		json_free(j);
	}
	if (!rc && !ck->ended)
		rc = broken(l->n, ": the export has no signed end line: "
			    "truncated (records after seq %llu may be missing)",
			    (unsigned long long)ck->w.last_seq);
	return rc;
}

int main(int argc, char **argv)
{
	struct check ck;
	struct lines l = { 0 };
	const char *path = NULL;
	bool pinned = false;
	size_t len;
	char *text;
	int rc;

	memset(&ck, 0, sizeof(ck));
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(usage, stdout);
			return 0;
		} else if (!strcmp(argv[i], "--version")) {
			printf("sparkpilot-audit-verify %s\n", sp_version());
			return 0;
		} else if (!strcmp(argv[i], "--key") && i + 1 < argc) {
			if (hex_decode(argv[++i], ck.key, sizeof(ck.key)))
				return die2("--key: '%.80s' is not 64 hex "
					    "digits", argv[i]);
			pinned = true;
		} else if (argv[i][0] == '-' || path) {
			fputs(usage, stderr);
			return 2;
		} else {
			path = argv[i];
		}
	}
	if (!path) {
		fputs(usage, stderr);
		return 2;
	}
	text = read_file(path, (size_t)MAX_FILE, &len);
	if (!text)
		return die2("cannot read '%s': %m", path);
	split_lines(text, len, &l);
	rc = check_lines(&ck, &l, pinned);
	if (!rc)
		printf("audit export intact: %llu records and %llu checkpoints, "
		       "seq %llu to %llu; the last checkpoint is seq %llu; the "
		       "export's end is signed\n",
		       (unsigned long long)ck.w.records,
		       (unsigned long long)ck.w.checkpoints,
		       (unsigned long long)ck.first,
		       (unsigned long long)ck.w.last_seq,
		       (unsigned long long)ck.w.last_checkpoint);
	free(l.v);
	free(text);
	return rc;
}
