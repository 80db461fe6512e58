/* version.h - what a binary says to --version: the build's version (git
 * describe at build time) and the formats it speaks. */
#ifndef SP_VERSION_H
#define SP_VERSION_H

/* SP_STR(X): the macro X's value as a string literal. */
#define SP_STR_(x) #x
#define SP_STR(x) SP_STR_(x)

/* The build's version: `git describe --always --dirty --tags` when the
 * binary was built, "unknown" outside a git checkout. */
const char *sp_version(void);

/* If argv holds "--version": prints "PROG VERSION (DETAIL)" on stdout and
 * exits 0. DETAIL names the formats the binary reads and writes. */
void version_flag(int argc, char **argv, const char *prog,
		  const char *detail);

#endif
