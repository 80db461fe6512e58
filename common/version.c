/* version.c - the build's version, and the --version flag every binary
 * takes. SP_VERSION comes from the Makefile, on this file only, so that a
 * new commit rebuilds one object. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "version.h"

#ifndef SP_VERSION
#define SP_VERSION "unknown"
#endif

const char *sp_version(void)
{
	return SP_VERSION;
}

void version_flag(int argc, char **argv, const char *prog,
		  const char *detail)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--version"))
			continue;
		printf("%s %s (%s)\n", prog, sp_version(), detail);
		exit(0);
	}
}
