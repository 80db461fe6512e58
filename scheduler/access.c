/* access.c - roles from the config's grants and the caller's credentials. */
#include "access.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "parse.h"

const char *role_name(enum role r)
{
	static const char *const names[] = { "admin", "operator", "viewer",
					     "no role" };
	return r <= ROLE_NONE ? names[r] : "?";
}

/* One entry of a spec, "kind:NAME[@T1,T2]", split. */
struct entry {
	char kind[8], name[64], scope[ACCESS_SCOPE_LEN];
	bool has_scope;
};

static int split_entry(const char *word, size_t len, struct entry *e,
		       char *err, size_t errlen)
{
	const char *colon = memchr(word, ':', len), *at;
	size_t klen, nlen;

	memset(e, 0, sizeof(*e));
	if (!colon) {
		snprintf(err, errlen,
			 "'%.*s' is not user:NAME, group:NAME or uid:N",
			 (int)len, word);
		return -1;
	}
	klen = (size_t)(colon - word);
	at = memchr(colon, '@', len - klen);
	nlen = (size_t)((at ? at : word + len) - colon - 1);
	if (klen >= sizeof(e->kind) || nlen == 0 || nlen >= sizeof(e->name) ||
	    (at && (size_t)(word + len - at - 1) >= sizeof(e->scope))) {
		snprintf(err, errlen, "'%.*s' is too long or has no name",
			 (int)len, word);
		return -1;
	}
	memcpy(e->kind, word, klen);
	memcpy(e->name, colon + 1, nlen);
	if (at) {
		e->has_scope = true;
		memcpy(e->scope, at + 1, (size_t)(word + len - at - 1));
	}
	return 0;
}

/* The tenant names of a scope must be names a tenant can have. */
static int check_scope(const struct entry *e, char *err, size_t errlen)
{
	const char *p = e->scope;

	if (!*p) {
		snprintf(err, errlen, "'%s:%s@' names no tenant", e->kind,
			 e->name);
		return -1;
	}
	while (*p) {
		char t[NAME_MAX_LEN + 1];
		size_t n = strcspn(p, ",");
		snprintf(t, sizeof(t), "%.*s", (int)n, p);
		if (n == 0 || n >= NAME_MAX_LEN || !name_valid(t)) {
			snprintf(err, errlen, "'%.*s' in '%s:%s@%s' is not a "
				 "tenant name", (int)n, p, e->kind, e->name,
				 e->scope);
			return -1;
		}
		p += n + (p[n] == ',');
	}
	return 0;
}

/* Resolves e to a uid or gid. -1 with a reason if it names nobody. */
static int resolve(const struct entry *e, bool *is_group, uint32_t *id,
		   char *err, size_t errlen)
{
	char *end;

	*is_group = false;
	if (!strcmp(e->kind, "uid")) {
		unsigned long v;
		errno = 0;
		v = strtoul(e->name, &end, 10);
		if (errno || *end || v > UINT32_MAX - 1) {
			snprintf(err, errlen, "'uid:%s' is not a uid", e->name);
			return -1;
		}
		*id = (uint32_t)v;
	} else if (!strcmp(e->kind, "user")) {
		struct passwd *pw = getpwnam(e->name);
		if (!pw) {
			snprintf(err, errlen, "no user '%s' on this system",
				 e->name);
			return -1;
		}
		*id = (uint32_t)pw->pw_uid;
	} else if (!strcmp(e->kind, "group")) {
		struct group *gr = getgrnam(e->name);
		if (!gr) {
			snprintf(err, errlen, "no group '%s' on this system",
				 e->name);
			return -1;
		}
		*id = (uint32_t)gr->gr_gid;
		*is_group = true;
	} else {
		snprintf(err, errlen,
			 "'%s:%s': the kind is user, group or uid", e->kind,
			 e->name);
		return -1;
	}
	return 0;
}

/* Calls fn for each entry of spec; stops at the first error. */
static int each_entry(const char *spec, bool scoped,
		      int (*fn)(const struct entry *, bool, uint32_t, void *),
		      void *arg, char *err, size_t errlen)
{
	const char *p = spec;

	for (;;) {
		struct entry e;
		bool is_group;
		uint32_t id;
		size_t n;

		p += strspn(p, " \t");
		if (!*p)
			return 0;
		n = strcspn(p, " \t");
		if (split_entry(p, n, &e, err, errlen))
			return -1;
		if (e.has_scope && !scoped) {
			snprintf(err, errlen,
				 "'%.*s': admin is never limited to tenants",
				 (int)n, p);
			return -1;
		}
		if ((e.has_scope && check_scope(&e, err, errlen)) ||
		    resolve(&e, &is_group, &id, err, errlen))
			return -1;
		if (fn && fn(&e, is_group, id, arg)) {
			snprintf(err, errlen, "more than %d role grants",
				 ACCESS_MAX_GRANTS);
			return -1;
		}
		p += n;
	}
}

int access_check_spec(const char *spec, bool scoped, char *err,
		      size_t errlen)
{
	return each_entry(spec, scoped, NULL, NULL, err, errlen);
}

struct add_ctx {
	struct access_grants *g;
	enum role role;
};

static int add_one(const struct entry *e, bool is_group, uint32_t id,
		   void *arg)
{
	struct add_ctx *x = arg;
	struct access_grant *gr;

	if (x->g->n >= ACCESS_MAX_GRANTS)
		return -1;
	gr = &x->g->g[x->g->n++];
	gr->role = (uint8_t)x->role;
	gr->is_group = is_group;
	gr->id = id;
	snprintf(gr->scope, sizeof(gr->scope), "%s", e->scope);
	return 0;
}

int access_add_grants(struct access_grants *g, enum role role,
		      const char *spec, char *err, size_t errlen)
{
	struct add_ctx x = { g, role };

	if (spec[strspn(spec, " \t")])
		g->configured = true;
	return each_entry(spec, role != ROLE_ADMIN, add_one, &x, err, errlen);
}

static bool grant_matches(const struct access_grant *g,
			  const struct access_peer *p)
{
	if (!g->is_group)
		return g->id == p->uid;
	if (g->id == p->gid)
		return true;
	for (size_t i = 0; i < p->ngroups; i++)
		if (p->groups[i] == g->id)
			return true;
	return false;
}

static bool scope_has(const char *scope, const char *tenant)
{
	size_t tl = strlen(tenant);

	for (const char *p = scope; *p;) {
		size_t n = strcspn(p, ",");
		if (n == tl && !memcmp(p, tenant, n))
			return true;
		p += n + (p[n] == ',');
	}
	return false;
}

void access_of(const struct access_grants *g, const struct access_peer *p,
	       struct access *out)
{
	memset(out, 0, sizeof(*out));
	out->uid = p->uid;
	out->global = out->best = ROLE_NONE;
	if (p->uid == 0 || p->uid == g->self_uid || !g->configured) {
		out->global = out->best = ROLE_ADMIN;
		return;
	}
	for (size_t i = 0; i < g->n; i++) {
		const struct access_grant *gr = &g->g[i];
		if (!grant_matches(gr, p))
			continue;
		out->match[out->n++] = gr;
		if (gr->role < out->best)
			out->best = (enum role)gr->role;
		if (!gr->scope[0] && gr->role < out->global)
			out->global = (enum role)gr->role;
	}
}

enum role access_role(const struct access *a, const char *tenant)
{
	enum role r = a->global;

	for (size_t i = 0; i < a->n; i++)
		if (a->match[i]->role < r && scope_has(a->match[i]->scope, tenant))
			r = (enum role)a->match[i]->role;
	return r;
}

bool access_sees(const struct access *a, const char *tenant)
{
	return access_role(a, tenant) <= ROLE_VIEWER;
}

bool access_sees_all(const struct access *a)
{
	return a->global <= ROLE_VIEWER;
}
