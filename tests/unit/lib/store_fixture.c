/* store_fixture.c - see store_fixture.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_fixture.h"

char store_fx_dir[64];

int store_fx_setup(void **s)
{
	(void)s;
	strcpy(store_fx_dir, "/tmp/sp-store.XXXXXX");
	return mkdtemp(store_fx_dir) ? 0 : -1;
}

int store_fx_teardown(void **s)
{
	char cmd[128];
	(void)s;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", store_fx_dir);
	return system(cmd);
}

struct store *store_fx_open(const char *name)
{
	char path[128], err[256];
	struct store *st;
	snprintf(path, sizeof(path), "%s/%s", store_fx_dir, name);
	st = store_open(path, err, sizeof(err));
	if (!st)
		fail_msg("store_open: %s", err);
	return st;
}

void store_fx_put(struct store *st, enum store_cf cf, const char *k,
		  const char *v)
{
	struct store_batch *b = store_batch_new();
	char err[128];
	store_batch_put(b, st, cf, k, strlen(k), v, strlen(v));
	assert_int_equal(store_write(st, b, true, err, sizeof(err)), 0);
	store_batch_free(b);
}

