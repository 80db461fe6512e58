/* replay_main.c - runs a fuzz target without libFuzzer: each file named on
 * the command line, and each file in each directory named (not recursing),
 * is read and passed once to LLVMFuzzerTestOneInput, in name order. Linked
 * with one target under ASan+UBSan, this is how `make check` replays the
 * corpora and the past crash inputs, and how a crash file is reproduced
 * without clang. Prints one line per run; exits non-zero if an argument
 * cannot be read (a sanitizer report aborts it on its own). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "util.h"

/* Defined only by targets that need set-up. */
extern int LLVMFuzzerInitialize(int *argc, char ***argv)
	__attribute__((weak));

static int run_file(const char *path, bool verbose)
{
	size_t len;
	char *data = read_file(path, 64u << 20, &len);
	uint8_t *copy;

	if (!data) {
		fprintf(stderr, "replay: cannot read '%s': %s\n", path,
			strerror(errno));
		return -1;
	}
	/* An exact-size copy, so that ASan sees a read past the end. */
	copy = xmalloc(len ? len : 1);
	memcpy(copy, data, len);
	free(data);
	if (verbose)
		fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
	LLVMFuzzerTestOneInput(copy, len);
	free(copy);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs every regular file in dir, in name order; *n counts them. */
static int run_dir(const char *dir, bool verbose, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t count = 0, alloc = 0;
	int rc = 0;

	if (!d) {
		fprintf(stderr, "replay: cannot open '%s': %s\n", dir,
			strerror(errno));
		return -1;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		names = xgrow(names, &alloc, count + 1, sizeof(*names));
		names[count++] = xstrdup(de->d_name);
	}
	closedir(d);
	qsort(names, count, sizeof(*names), by_name);
	for (size_t i = 0; i < count; i++) {
		char path[4096];
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (!rc && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			rc = run_file(path, verbose);
			++*n;
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

int main(int argc, char **argv)
{
	bool verbose = getenv("SP_FUZZ_VERBOSE") != NULL;
	size_t n = 0;
	int rc = 0;

	/* Each input starts from the same state (see fz_replaying). */
	setenv("SP_FUZZ_REPLAY", "1", 1);
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc && !rc; i++) {
		struct stat st;
		if (stat(argv[i], &st) == -1) {
			fprintf(stderr, "replay: cannot read '%s': %s\n",
				argv[i], strerror(errno));
			rc = -1;
		} else if (S_ISDIR(st.st_mode)) {
			rc = run_dir(argv[i], verbose, &n);
		} else {
			rc = run_file(argv[i], verbose);
			n++;
		}
	}
	printf("%s: %zu inputs replayed%s\n", program_invocation_short_name,
	       n, rc ? ", stopped at an unreadable one" : "");
	return rc ? 1 : 0;
}
