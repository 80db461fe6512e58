/* runlist.c - spctl run list: asks page after page until it has --limit
 * rows or the scheduler's scan is complete (one request examines a
 * bounded number of runs, so the core serves other events in between),
 * and --watch, which asks again every --interval seconds and prints only
 * the rows that are new or whose state changed. */
#include "runlist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "cmdline.h"
#include "format.h"
#include "hmap.h"
#include "json.h"
#include "parse.h"
#include "ptrvec.h"
#include "strbuf.h"
#include "util.h"

#define MAX_WORDS 64

struct rl {
	int fd;
	const struct runlist_opts *o;
	char *words[MAX_WORDS + 4]; /* the filters, borrowed from argv */
	int n;
	uint64_t limit, after;
	bool watch, watch_flags; /* --watch; --interval or --watch-count */
	uint64_t interval_s, watch_count;
};

/* One row each for id -> state, for --watch. */
struct seen {
	char id[24];
	char state[32];
};

static int rl_fail(int code, const char *msg)
{
	fprintf(stderr, "spctl: error: %s\n", msg);
	return code;
}

/* Splits off the client's flags (--watch, --interval, --watch-count) and
 * the paging ones it sets itself per request (--limit, --after-id). */
static int parse_words(struct rl *rl, int argc, char **argv)
{
	char err[256];

	rl->limit = 100;
	rl->interval_s = 2;
	for (int i = 0; i < argc; i++) {
		const char *w = argv[i];
		uint64_t *num = NULL, min = 0, max = 0;
		if (!strcmp(w, "--watch")) {
			rl->watch = true;
			continue;
		}
		if (!strcmp(w, "--limit"))
			num = &rl->limit, min = 1, max = 10000;
		else if (!strcmp(w, "--after-id"))
			num = &rl->after, min = 0, max = INT64_MAX;
		else if (!strcmp(w, "--interval"))
			num = &rl->interval_s, min = 1, max = 3600;
		else if (!strcmp(w, "--watch-count"))
			num = &rl->watch_count, min = 1, max = 1000000;
		rl->watch_flags |= num == &rl->interval_s ||
				   num == &rl->watch_count;
		if (num) {
			char msg[320];
			if (++i == argc) {
				snprintf(msg, sizeof(msg), "%s needs a value", w);
				return rl_fail(2, msg);
			}
			if (parse_u64(argv[i], min, max, num, err, sizeof(err))) {
				snprintf(msg, sizeof(msg), "%s: %s", w, err);
				return rl_fail(2, msg);
			}
			continue;
		}
		if (rl->n == MAX_WORDS)
			return rl_fail(2, "run list: too many words");
		rl->words[rl->n++] = argv[i];
	}
	return 0;
}

/* One request: the filters, --limit want, --after-id after (if set).
 * The reply, or NULL after printing why (*rc the exit status). */
static struct json *ask(struct rl *rl, uint64_t want, uint64_t after,
			int *rc)
{
	struct strbuf line = STRBUF_INIT, raw = STRBUF_INIT;
	char lim[32], cur[32], err[512], *w[MAX_WORDS + 4];
	struct json *reply = NULL;
	int n = rl->n;

	memcpy(w, rl->words, sizeof(*w) * (size_t)n);
	snprintf(lim, sizeof(lim), "%llu", (unsigned long long)want);
	w[n++] = (char *)"--limit";
	w[n++] = lim;
	if (after) {
		snprintf(cur, sizeof(cur), "%llu", (unsigned long long)after);
		w[n++] = (char *)"--after-id";
		w[n++] = cur;
	}
	cmdline_join(&line, n, w);
	if (admin_call(rl->fd, line.buf, line.len, &raw, rl->o->timeout_ms,
		       err, sizeof(err))) {
		*rc = rl_fail(2, err);
		goto out;
	}
	reply = json_parse(raw.buf, raw.len, err, sizeof(err));
	if (!reply || reply->type != JSON_OBJECT) {
		json_free(reply);
		reply = NULL;
		*rc = rl_fail(2, "the scheduler sent a malformed reply");
		goto out;
	}
	if (!json_get_bool(reply, "ok")) {
		const char *msg = json_get_str(reply, "message");
		const char *code = json_get_str(reply, "error");
		if (rl->o->json)
			printf("%s\n", raw.buf);
		*rc = rl_fail(code && !strcmp(code, "forbidden") ? 77 : 1,
			      msg ? msg : "unknown error");
		json_free(reply);
		reply = NULL;
	}
out:
	strbuf_release(&line);
	strbuf_release(&raw);
	return reply;
}

/* Every page up to --limit rows, merged into one reply in out (compact
 * JSON: ok, items, complete, next_after_id, pages). 0 or the exit status. */
static int fetch(struct rl *rl, struct strbuf *out)
{
	uint64_t have = 0, after = rl->after, pages = 0;
	struct json *last = NULL;
	const struct json *nx = NULL;
	struct jw w;
	int rc = 0;

	jw_init(&w, out);
	jw_obj_open(&w, NULL);
	jw_bool(&w, "ok", true);
	jw_arr_open(&w, "items");
	for (;;) {
		struct json *reply = ask(rl, rl->limit - have, after, &rc);
		const struct json *items;
		if (!reply)
			break;
		json_free(last);
		last = reply;
		pages++;
		items = json_get(reply, "items");
		for (size_t i = 0; items && i < items->n; i++)
			json_write(&w, NULL, items->items[i]);
		have += items ? items->n : 0;
		nx = json_get(reply, "next_after_id");
		if (json_get_bool(reply, "complete") || have >= rl->limit ||
		    !nx || nx->type != JSON_NUMBER ||
		    parse_u64(nx->str, 1, UINT64_MAX, &after, NULL, 0))
			break;
	}
	jw_arr_close(&w);
	jw_bool(&w, "complete", !rc);
	if (!rc && nx && nx->type == JSON_NUMBER)
		json_write(&w, "next_after_id", nx);
	else
		jw_null(&w, "next_after_id");
	jw_uint(&w, "pages", pages);
	jw_obj_close(&w);
	json_free(last);
	return rc;
}

static void print_table(const struct json *items, const struct json *next)
{
	struct strbuf out = STRBUF_INIT;

	if (items && items->n)
		format_table(&out, items, 0);
	else
		strbuf_addstr(&out, "no runs\n");
	if (next && next->type == JSON_NUMBER)
		strbuf_addf(&out, "more: --after-id %s\n", next->str);
	fwrite(out.buf, 1, out.len, stdout);
	strbuf_release(&out);
}

static int list_once(struct rl *rl)
{
	struct strbuf out = STRBUF_INIT;
	struct json *all;
	int rc = fetch(rl, &out);

	if (!rc && rl->o->json) {
		printf("%s\n", out.buf);
	} else if (!rc) {
		all = json_parse(out.buf, out.len, NULL, 0);
		print_table(json_get(all, "items"),
			    json_get(all, "next_after_id"));
		json_free(all);
	}
	fflush(stdout);
	strbuf_release(&out);
	return rc;
}

/* The rows of items new or with another state than last time, recorded. */
static void changed_rows(struct hmap *seen, struct ptrvec *mem,
			 const struct json *items, struct json *changed)
{
	for (size_t i = 0; items && i < items->n; i++) {
		const struct json *it = items->items[i], *id = json_get(it, "id");
		const char *state = json_get_str(it, "state");
		struct seen *s;
		if (!id || id->type != JSON_NUMBER || !state)
			continue;
		s = hmap_gets(seen, id->str);
		if (s && !strcmp(s->state, state))
			continue;
		if (!s) {
			s = xcalloc(1, sizeof(*s));
			snprintf(s->id, sizeof(s->id), "%s", id->str);
			ptrvec_push(mem, s);
			hmap_puts(seen, s->id, s);
		}
		snprintf(s->state, sizeof(s->state), "%s", state);
		changed->items[changed->n++] = items->items[i];
	}
}

static void print_changes(const struct rl *rl, const struct json *changed)
{
	struct strbuf sb = STRBUF_INIT;
	struct jw w;

	if (!changed->n)
		return;
	if (!rl->o->json) {
		format_table(&sb, changed, 0);
	} else {
		for (size_t i = 0; i < changed->n; i++) {
			jw_init(&w, &sb);
			json_write(&w, NULL, changed->items[i]);
			strbuf_addch(&sb, '\n');
		}
	}
	fwrite(sb.buf, 1, sb.len, stdout);
	fflush(stdout);
	strbuf_release(&sb);
}

static int watch(struct rl *rl)
{
	struct hmap seen = { 0 };
	struct ptrvec mem = { 0 };
	int rc = 0;

	for (uint64_t poll = 1;; poll++) {
		struct strbuf out = STRBUF_INIT;
		struct json *all, changed = { .type = JSON_ARRAY };
		const struct json *items;
		rc = fetch(rl, &out);
		all = rc ? NULL : json_parse(out.buf, out.len, NULL, 0);
		strbuf_release(&out);
		if (!all)
			break;
		items = json_get(all, "items");
		changed.items = xcalloc(items ? items->n + 1 : 1,
					sizeof(*changed.items));
		changed_rows(&seen, &mem, items, &changed);
		print_changes(rl, &changed);
		free(changed.items);
		json_free(all);
		if (rl->watch_count && poll >= rl->watch_count)
			break;
		sleep((unsigned)rl->interval_s);
	}
	for (size_t i = 0; i < mem.n; i++)
		free(mem.v[i]);
	ptrvec_release(&mem);
	hmap_release(&seen);
	return rc;
}

int runlist_run(int fd, const struct runlist_opts *o, int argc, char **argv)
{
	struct rl rl = { .fd = fd, .o = o };
	int rc = parse_words(&rl, argc, argv);

	if (rc)
		return rc;
	if (!rl.watch && rl.watch_flags)
		return rl_fail(2, "--interval and --watch-count go with --watch");
	return rl.watch ? watch(&rl) : list_once(&rl);
}
