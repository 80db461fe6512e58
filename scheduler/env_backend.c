/* env_backend.c - an environment's backend and its settings. */
#include "env_backend.h"

#include <stdio.h>
#include <string.h>

#include "backend_keys.h"
#include "json.h"
#include "model.h"
#include "mp.h"
#include "strbuf.h"

const char *env_backend_name(const struct env *e)
{
	return e && e->backend[0] ? e->backend : BACKEND_DEFAULT;
}

/* Calls fn for each "key=value" line of the settings text. */
static void each_setting(const char *text,
			 void (*fn)(void *ctx, const char *k, size_t kl,
				    const char *v, size_t vl),
			 void *ctx)
{
	for (const char *p = text; *p;) {
		size_t n = strcspn(p, "\n");
		const char *eq = memchr(p, '=', n);
		if (eq)
			fn(ctx, p, (size_t)(eq - p), eq + 1,
			   n - (size_t)(eq - p) - 1);
		p += n + (p[n] == '\n');
	}
}

/* A rebuilt settings text: set key to value (or drop it when value is
 * NULL), and drop every key the backend does not take. */
struct rebuild {
	struct strbuf out;
	const char *backend, *key, *value;
	bool done;
};

static void rebuild_one(void *ctx, const char *k, size_t kl, const char *v,
			size_t vl)
{
	struct rebuild *rb = ctx;
	char key[BACKEND_KEY_MAX + 1], err[256];

	snprintf(key, sizeof(key), "%.*s", (int)kl, k);
	if (backend_check_setting(rb->backend, key, err, sizeof(err)))
		return;
	if (rb->key && !strcmp(key, rb->key)) {
		rb->done = true;
		if (rb->value)
			strbuf_addf(&rb->out, "%s=%s\n", key, rb->value);
		return;
	}
	strbuf_addf(&rb->out, "%s=%.*s\n", key, (int)vl, v);
}

static void rebuild(const struct env *e, const char *backend,
		    const char *key, const char *value, struct strbuf *out)
{
	struct rebuild rb = { STRBUF_INIT, backend, key, value, false };

	each_setting(e->backend_settings, rebuild_one, &rb);
	if (key && value && !rb.done)
		strbuf_addf(&rb.out, "%s=%s\n", key, value);
	*out = rb.out;
}

/* Settings that name a file on the agent host: an absolute path, so that
 * nobody mistakes them for the place to put the secret itself. */
static bool is_path_key(const char *key)
{
	size_t n = strlen(key);
	return (n > 5 && !strcmp(key + n - 5, "_file")) ||
	       !strcmp(key, "livy_ca");
}

int env_backend_mode_check(enum env_mode mode, const char *backend,
			   char *err, size_t errlen)
{
	if (mode != ENV_BYOC_LITE || !strcmp(backend, "emr-eks"))
		return 0;
	snprintf(err, errlen, "--backend: a byoc_lite environment runs on "
		 "emr-eks only (its agent holds only the BYOC-Lite role's "
		 "permissions: docs/iam.md), not '%.64s'", backend);
	return -1;
}

int env_backend_check(const struct env *e, const char *backend,
		      const char *setting, char *err, size_t errlen)
{
	const char *b = backend ? backend : env_backend_name(e);
	char key[BACKEND_KEY_MAX + 1];
	const char *eq, *value;
	struct strbuf sb;
	size_t klen;
	int rc = 0;

	if (!backend_name_valid(b)) {
		snprintf(err, errlen, "--backend: unknown backend '%.64s' "
			 "(known: %s)", b, backend_names());
		return -1;
	}
	if (env_backend_mode_check(e->mode, b, err, errlen))
		return -1;
	if (!setting)
		return 0;
	eq = strchr(setting, '=');
	klen = eq ? (size_t)(eq - setting) : 0;
	if (!eq || !klen || klen > BACKEND_KEY_MAX) {
		snprintf(err, errlen, "--backend-setting: '%.64s' must be "
			 "KEY=VALUE", setting);
		return -1;
	}
	snprintf(key, sizeof(key), "%.*s", (int)klen, setting);
	value = eq + 1;
	if (backend_check_setting(b, key, err, errlen))
		return -1;
	if (strlen(value) > BACKEND_VALUE_MAX || strpbrk(value, "\n\r")) {
		snprintf(err, errlen, "--backend-setting %s: the value must be "
			 "one line of at most %d bytes", key, BACKEND_VALUE_MAX);
		return -1;
	}
	if (*value && is_path_key(key) && value[0] != '/') {
		snprintf(err, errlen, "--backend-setting %s: must be an "
			 "absolute path on the agent host (the secret itself "
			 "never goes through the scheduler)", key);
		return -1;
	}
	rebuild(e, b, key, *value ? value : NULL, &sb);
	if (sb.len >= sizeof(e->backend_settings)) {
		snprintf(err, errlen, "--backend-setting %s: the settings "
			 "would exceed %zu bytes", key,
			 sizeof(e->backend_settings) - 1);
		rc = -1;
	}
	strbuf_release(&sb);
	return rc;
}

void env_backend_apply(struct env *e, const char *backend,
		       const char *setting, struct strbuf *changes)
{
	const char *b = backend ? backend : env_backend_name(e);
	char key[BACKEND_KEY_MAX + 1] = "";
	const char *value = NULL;
	struct strbuf sb;

	if (backend && strcmp(backend, env_backend_name(e)))
		strbuf_addf(changes, " backend %s -> %s,", env_backend_name(e),
			    backend);
	if (setting) {
		const char *eq = strchr(setting, '=');
		snprintf(key, sizeof(key), "%.*s", (int)(eq - setting),
			 setting);
		value = eq[1] ? eq + 1 : NULL;
		/* the value is not echoed: it is no secret, but it is long */
		strbuf_addf(changes, " backend setting %s %s,", key,
			    value ? "set" : "removed");
	}
	rebuild(e, b, setting ? key : NULL, value, &sb);
	snprintf(e->backend_settings, sizeof(e->backend_settings), "%s",
		 sb.len ? sb.buf : "");
	/* b may be e->backend itself: no copy onto itself */
	if (backend)
		snprintf(e->backend, sizeof(e->backend), "%s", backend);
	strbuf_release(&sb);
}

static void write_one(void *ctx, const char *k, size_t kl, const char *v,
		      size_t vl)
{
	char key[BACKEND_KEY_MAX + 1];
	snprintf(key, sizeof(key), "%.*s", (int)kl, k);
	jw_strn(ctx, key, v, vl);
}

void env_backend_write(struct jw *w, const struct env *e)
{
	jw_str(w, "backend", env_backend_name(e));
	jw_obj_open(w, "backend_settings");
	each_setting(e->backend_settings, write_one, w);
	jw_obj_close(w);
}

static void count_one(void *ctx, const char *k, size_t kl, const char *v,
		      size_t vl)
{
	(void)k, (void)kl, (void)v, (void)vl;
	(*(size_t *)ctx)++;
}

static void pack_one(void *ctx, const char *k, size_t kl, const char *v,
		     size_t vl)
{
	msgpack_packer *pk = ctx;
	msgpack_pack_str(pk, kl);
	msgpack_pack_str_body(pk, k, kl);
	msgpack_pack_str(pk, vl);
	msgpack_pack_str_body(pk, v, vl);
}

void env_backend_pack(msgpack_packer *pk, const struct env *e)
{
	size_t n = 0;

	mp_kv_str(pk, "backend", env_backend_name(e));
	mp_pack_cstr(pk, "backend_settings");
	if (e)
		each_setting(e->backend_settings, count_one, &n);
	msgpack_pack_map(pk, n);
	if (e)
		each_setting(e->backend_settings, pack_one, pk);
}
