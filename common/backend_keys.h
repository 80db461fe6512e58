/*
 * backend_keys.h - the Spark backends' names and the settings each one
 * takes (`spctl env add --backend`, `spctl env set --backend-setting`),
 * shared by the scheduler, which checks them, and the agent, which uses
 * them (agent/backend.h). Pure tables: no I/O.
 */
#ifndef SP_BACKEND_KEYS_H
#define SP_BACKEND_KEYS_H

#include <stdbool.h>
#include <stddef.h>

/* The default, and what an environment record without the field means. */
#define BACKEND_DEFAULT "spark-submit"
#define BACKEND_NAME_MAX 32
#define BACKEND_KEY_MAX 64
#define BACKEND_VALUE_MAX 1024
#define BACKEND_MAX_SETTINGS 16

/* true if name is a backend the scheduler accepts (spark-submit, livy,
 * emr-eks). */
bool backend_name_valid(const char *name);
/* 0 if backend takes key, -1 with "unknown setting 'K' for backend B
 * (known: a, b, ...)" in err. An unknown backend name is refused too. */
int backend_check_setting(const char *backend, const char *key, char *err,
			  size_t errlen);
/* The list of backend names, "a|b|c", for usage lines and errors. */
const char *backend_names(void);

#endif
