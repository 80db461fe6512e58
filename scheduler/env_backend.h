/*
 * env_backend.h - an environment's Spark backend and its settings
 * (`env add --backend`, `env set --backend / --backend-setting KEY=VALUE`):
 * checked against common/backend_keys.h, shown by `env show`, and sent to
 * the agent in each lease (docs/protocol.md, lease). Settings are plain
 * strings, never secrets: a secret is named by a path on the agent host.
 */
#ifndef SP_ENV_BACKEND_H
#define SP_ENV_BACKEND_H

#include <msgpack.h>
#include <stddef.h>

#include "model.h"

struct jw;
struct strbuf;

/* The backend of e: its field, or spark-submit when empty (records
 * written before the field). */
const char *env_backend_name(const struct env *e);
/* BYOC-Lite: a byoc_lite environment runs on emr-eks only. 0, or -1
 * with err naming the backend refused. */
int env_backend_mode_check(enum env_mode mode, const char *backend,
			   char *err, size_t errlen);
/* Checks an optional new backend name (NULL: keep e's) and an optional
 * "KEY=VALUE" setting (NULL: none) against e without changing it.
 * 0, or -1 with a one-line reason in err naming the bad key or value. */
int env_backend_check(const struct env *e, const char *backend,
		      const char *setting, char *err, size_t errlen);
/* Applies what env_backend_check accepted. A new backend drops the
 * settings it does not take; "KEY=" removes KEY. Appends " what,"
 * phrases for each change to changes. */
void env_backend_apply(struct env *e, const char *backend,
		       const char *setting, struct strbuf *changes);
/* Writes "backend" and "backend_settings": {key: value} members. */
void env_backend_write(struct jw *w, const struct env *e);
/* Packs the two lease members, "backend" and "backend_settings" (a map
 * of strings): the caller counts 2 in its map size. e may be NULL
 * (spark-submit, no settings). */
void env_backend_pack(msgpack_packer *pk, const struct env *e);

#endif
