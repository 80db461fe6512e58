/* fuzz_backup_meta.c - a backup's meta file (scheduler/backup_meta.c),
 * which `backup verify` reads from a directory anyone with access to it
 * may damage. Any bytes: the parser refuses them on one line and leaves
 * nothing, or returns exactly the files it announced, each a path below
 * the backup dir (never absolute, never through ".."). */
#include <string.h>

#include "backup_meta.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct backup_meta m;
	char err[256] = "";

	if (backup_meta_parse((const char *)data, size, &m, err,
			      sizeof(err))) {
		fz_check_refusal(err, "");
		if (m.nfiles || m.files)
			fz_fail("a refused meta file left %zu files", m.nfiles);
		backup_meta_release(&m);
		return 0;
	}
	for (size_t i = 0; i < m.nfiles; i++) {
		const char *p = m.files[i].path;
		if (!p[0] || p[0] == '/' || strstr(p, "..") ||
		    strchr(p, ' ') || strchr(p, '\n'))
			fz_fail("a file path escapes or is malformed: '%s'", p);
	}
	backup_meta_release(&m);
	return 0;
}
