/* fuzz_json.c - the JSON parser and writer (common/json.c), which read the
 * admin socket's replies in spctl. Any bytes: the parser either refuses
 * them with a reason or returns a tree; a tree written back must parse
 * again, and writing that second tree must give the same bytes (the writer
 * is a fixed point after one round). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "json.h"

static struct json *parse(const char *text, size_t len, char *err,
			  size_t errlen)
{
	err[0] = '\0';
	return json_parse(text, len, err, errlen);
}

static void write_json(const struct json *j, struct strbuf *out)
{
	struct jw w;
	strbuf_reset(out);
	jw_init(&w, out);
	json_write(&w, NULL, j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf once = STRBUF_INIT, twice = STRBUF_INIT;
	struct json *j, *again;
	char err[256];

	j = parse((const char *)data, size, err, sizeof(err));
	if (!j) {
		fz_check_refusal(err, "");
		return 0;
	}
	if (j->type == JSON_OBJECT)
		for (size_t i = 0; i < j->n; i++)
			(void)json_get_str(j, j->keys[i]);
	write_json(j, &once);
	/* The admin socket's framing is one object per line. */
	if (memchr(once.buf, '\n', once.len))
		fz_fail("written JSON has a newline: %s", once.buf);
	again = parse(once.buf, once.len, err, sizeof(err));
	if (!again) {
		fz_fail("written JSON does not parse: %s\n%s", err,
			once.buf);
	}
	write_json(again, &twice);
	if (once.len != twice.len || memcmp(once.buf, twice.buf, once.len)) {
		fz_fail("round trip differs:\n%s\n%s", once.buf, twice.buf);
	}
	json_free(again);
	json_free(j);
	strbuf_release(&once);
	strbuf_release(&twice);
	return 0;
}
