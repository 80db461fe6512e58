/* store_fixture.h - a temporary directory of stores for the store's unit
 * tests. */
#ifndef SP_STORE_FIXTURE_H
#define SP_STORE_FIXTURE_H

#include "store.h"

/* The test group's directory, made by store_fx_setup. */
extern char store_fx_dir[64];
/* cmocka group setup and teardown: make and remove store_fx_dir. */
int store_fx_setup(void **s);
int store_fx_teardown(void **s);
/* The store in store_fx_dir/name, opened (fails the test if it cannot). */
struct store *store_fx_open(const char *name);
/* Writes k = v in cf, synced. */
void store_fx_put(struct store *st, enum store_cf cf, const char *k,
		  const char *v);

#endif
