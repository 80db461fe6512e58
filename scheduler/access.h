/*
 * access.h - who may do what on the admin socket. The kernel tells who is
 * calling (SO_PEERCRED: uid and gid; SO_PEERGROUPS: the supplementary
 * groups); the config's role_admin, role_operator and role_viewer grant
 * roles to users, groups and uids, operator and viewer optionally for some
 * tenants only (`group:etl@acme,globex`). Root is always admin, and so
 * is the scheduler's own user (it can read the data dir anyway; the
 * backup timer's spctl runs as it). With no
 * role_* set at all, whoever can open the socket is admin (the socket's
 * mode and group are then the only gate).
 *
 * Roles are ordered: admin can do all an operator can, an operator all a
 * viewer can. A caller's role for a tenant is the best of its grants that
 * cover the tenant (unscoped grants cover every tenant); its global role,
 * for commands about no tenant, the best of its unscoped grants.
 */
#ifndef SP_ACCESS_H
#define SP_ACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Best first: a lower value may do what a higher one may. */
enum role { ROLE_ADMIN, ROLE_OPERATOR, ROLE_VIEWER, ROLE_NONE };

#define ACCESS_MAX_GRANTS 64
#define ACCESS_MAX_GROUPS 64 /* supplementary groups of a caller looked at */
#define ACCESS_SCOPE_LEN 256 /* "acme,globex": tenants of a grant */

struct access_grant {
	uint8_t role;     /* enum role */
	bool is_group;    /* id is a gid, else a uid */
	uint32_t id;
	char scope[ACCESS_SCOPE_LEN]; /* "" : every tenant */
};

/* The grants of a configuration, names resolved. Flat (copied with the
 * settings it belongs to). */
struct access_grants {
	bool configured; /* some role_* is set */
	uint32_t self_uid; /* the scheduler's own user: always admin */
	size_t n;
	struct access_grant g[ACCESS_MAX_GRANTS];
};

/* Who calls, as the kernel says. */
struct access_peer {
	uint32_t uid, gid;
	size_t ngroups;
	uint32_t groups[ACCESS_MAX_GROUPS];
};

/* What one caller may do: worked out per command from the grants. */
struct access {
	uint32_t uid;
	enum role global;  /* for commands about no tenant */
	enum role best;    /* its best role for any tenant */
	size_t n;          /* grants that match the caller */
	const struct access_grant *match[ACCESS_MAX_GRANTS];
};

const char *role_name(enum role r);

/*
 * Checks one role_* value: space-separated `user:NAME`, `group:NAME` or
 * `uid:N`, each with an optional `@TENANT[,TENANT...]` unless scoped is
 * false (admin is never scoped). Users and groups must exist (looked up in
 * the system's databases). 0, or -1 with a reason naming the entry.
 */
int access_check_spec(const char *spec, bool scoped, char *err,
		      size_t errlen);
/* Appends spec's grants of role to g (the spec passed access_check_spec;
 * a name that no longer resolves is skipped). -1 with a reason if there
 * are more than ACCESS_MAX_GRANTS. */
int access_add_grants(struct access_grants *g, enum role role,
		      const char *spec, char *err, size_t errlen);

/* The caller's access under g. */
void access_of(const struct access_grants *g, const struct access_peer *p,
	       struct access *out);
/* The caller's role for tenant (a tenant name). */
enum role access_role(const struct access *a, const char *tenant);
/* Whether the caller sees tenant at all (viewer or better there). */
bool access_sees(const struct access *a, const char *tenant);
/* Whether the caller sees every tenant (an unscoped viewer or better):
 * fleet-wide totals are shown to it. */
bool access_sees_all(const struct access *a);

#endif
