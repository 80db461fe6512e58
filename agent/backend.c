/* backend.c - the registry of Spark backends and their shared helpers. */
#include "backend.h"

#include <stdio.h>
#include <string.h>

static const struct backend_ops *const registry[] = {
	&backend_submit_ops,
	&backend_livy_ops,
	&backend_emr_ops,
};

const struct backend_ops *backend_find(const char *name)
{
	if (!name || !*name)
		name = BACKEND_DEFAULT;
	for (size_t i = 0; i < sizeof(registry) / sizeof(registry[0]); i++)
		if (!strcmp(registry[i]->name, name))
			return registry[i];
	return NULL;
}

/* A backend not built in has nothing but a name and a submit that
 * refuses. */
bool backend_not_built_in(const struct backend_ops *b)
{
	return b && !b->poll;
}

struct backend_run *backend_unavailable_submit(const char *name, char *err,
					       size_t errlen)
{
	snprintf(err, errlen, "backend %s is not built into this agent",
		 name);
	return NULL;
}

const char *backend_setting(const struct backend_ctx *ctx, const char *key)
{
	for (size_t i = 0; i < ctx->nsettings; i++)
		if (!strcmp(ctx->settings[i].key, key))
			return ctx->settings[i].value;
	return NULL;
}
