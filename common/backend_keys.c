/* backend_keys.c - which backends exist and which settings each takes. */
#include "backend_keys.h"

#include <stdio.h>
#include <string.h>

struct backend_keys {
	const char *name;
	const char *const keys[BACKEND_MAX_SETTINGS];
};

/* One row per backend; a key added here is accepted by env set and must
 * be read by the backend (agent/backend_*.c). */
static const struct backend_keys table[] = {
	{ "spark-submit", { NULL } },
	{ "livy",
	  { "livy_url", "livy_user", "livy_password_file", "livy_ca",
	    "livy_proxy_user", "livy_queue", "livy_poll_ms", NULL } },
	{ "emr-eks",
	  { "virtual_cluster_id", "execution_role_arn", "release_label",
	    "region", "log_uri", "log_group", "endpoint", NULL } },
};

static const struct backend_keys *find(const char *name)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (name && !strcmp(table[i].name, name))
			return &table[i];
	return NULL;
}

bool backend_name_valid(const char *name)
{
	return find(name) != NULL;
}

const char *backend_names(void)
{
	return "spark-submit|livy|emr-eks";
}

int backend_check_setting(const char *backend, const char *key, char *err,
			  size_t errlen)
{
	const struct backend_keys *b = find(backend);
	size_t used = 0;

	if (!b) {
		snprintf(err, errlen, "unknown backend '%s' (known: %s)",
			 backend ? backend : "", backend_names());
		return -1;
	}
	for (size_t i = 0; b->keys[i]; i++)
		if (!strcmp(b->keys[i], key))
			return 0;
	used = (size_t)snprintf(err, errlen,
				"unknown setting '%s' for backend %s", key,
				b->name);
	if (!b->keys[0]) {
		snprintf(err + (used < errlen ? used : errlen - 1),
			 errlen - (used < errlen ? used : errlen - 1),
			 " (it takes none)");
		return -1;
	}
	for (size_t i = 0; b->keys[i] && used < errlen; i++)
		used += (size_t)snprintf(err + used, errlen - used, "%s%s",
					 i ? ", " : " (known: ", b->keys[i]);
	if (used < errlen)
		snprintf(err + used, errlen - used, ")");
	return -1;
}
