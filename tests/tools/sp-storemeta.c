/*
 * sp-storemeta - reads or sets the format version of a scheduler store, so
 * that integration tests can present the scheduler with a store from an
 * older or a newer build. Test tooling only: it goes through store.c like
 * the scheduler, and the scheduler must be stopped.
 *
 *   sp-storemeta DIR                  prints "format_version N"
 *   sp-storemeta DIR --set-version N  writes N (1..4294967295)
 *
 * Opening the store upgrades an older one first, so reading prints what
 * the scheduler would see after its own open.
 */
#include <errno.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"
#include "store.h"
#include "util.h"

static const char usage[] =
	"usage: sp-storemeta DIR [--set-version N]\n";

static int show(struct store *s)
{
	char *val = NULL, err[256];
	size_t len = 0;
	int found = store_get(s, CF_META, "format_version", 14, &val, &len,
			      err, sizeof(err));

	if (found < 0 || (found && len != 4)) {
		fprintf(stderr, "sp-storemeta: error: %s\n",
			found < 0 ? err : "malformed format_version");
		free(val);
		return 1;
	}
	printf("format_version %u\n",
	       found ? store_get_u32be((uint8_t *)val) : 0);
	free(val);
	return 0;
}

static int set(struct store *s, const char *arg)
{
	struct store_batch *b;
	uint64_t v;
	uint8_t raw[4];
	char err[256];
	int rc;

	if (parse_u64(arg, 1, UINT32_MAX, &v, err, sizeof(err))) {
		fprintf(stderr, "sp-storemeta: error: --set-version: %s\n", err);
		return 2;
	}
	b = store_batch_new();
	store_put_u32be(raw, (uint32_t)v);
	store_batch_put(b, s, CF_META, "format_version", 14, raw, 4);
	rc = store_write(s, b, true, err, sizeof(err));
	store_batch_free(b);
	if (rc) {
		fprintf(stderr, "sp-storemeta: error: %s\n", err);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct store *s;
	char err[512];
	int rc;

	if (argc != 2 && !(argc == 4 && !strcmp(argv[2], "--set-version"))) {
		fputs(usage, stderr);
		return 2;
	}
	log_setup("sp-storemeta", LOG_WARN);
	s = store_open(argv[1], err, sizeof(err));
	if (!s) {
		fprintf(stderr, "sp-storemeta: error: %s\n", err);
		return 1;
	}
	rc = argc == 4 ? set(s, argv[3]) : show(s);
	store_close(s);
	if (argc == 4 && rc == 0) {
		/* as an older or newer build left it: no FORMAT file of ours,
		 * so the next open reads the version from the meta key */
		char path[4200];
		snprintf(path, sizeof(path), "%s/%s", argv[1], STORE_FORMAT_FILE);
		if (unlink(path) && errno != ENOENT) {
			fprintf(stderr, "sp-storemeta: error: cannot remove '%s'\n",
				path);
			return 1;
		}
	}
	return rc;
}
