/* seqfile.c - crash-safe sequence numbers, reserved on disk by blocks. */
#include "seqfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"
#include "util.h"

static int reserve(struct seqfile *s)
{
	char buf[32];
	uint64_t limit = s->limit + s->block;
	int n = snprintf(buf, sizeof(buf), "%llu\n", (unsigned long long)limit);

	if (write_file_atomic(s->path, buf, (size_t)n, 0600))
		return error("cannot write '%s': %s", s->path, strerror(errno));
	s->limit = limit;
	return 0;
}

int seqfile_open(struct seqfile *s, const char *path, uint64_t block,
		 char *err, size_t errlen)
{
	char *text;
	uint64_t v;

	memset(s, 0, sizeof(*s));
	snprintf(s->path, sizeof(s->path), "%s", path);
	s->block = block;
	text = read_file(path, 64, NULL);
	if (text) {
		text[strcspn(text, "\r\n")] = '\0';
		if (parse_u64(text, 1, UINT64_MAX / 2, &v, NULL, 0)) {
			snprintf(err, errlen, "corrupt sequence file '%s'", path);
			free(text);
			return -1;
		}
		s->limit = v;
		free(text);
	}
	s->next = s->limit + 1;
	if (reserve(s)) {
		snprintf(err, errlen, "cannot reserve sequence numbers in '%s'",
			 path);
		return -1;
	}
	return 0;
}

int seqfile_next(struct seqfile *s, uint64_t *seq)
{
	if (s->next >= s->limit && reserve(s))
		return -1;
	*seq = s->next++;
	return 0;
}
