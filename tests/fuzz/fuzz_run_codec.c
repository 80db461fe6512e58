/* fuzz_run_codec.c - the stored run record (scheduler/run_codec.c), both
 * the positional format and the older map form: any bytes are decoded
 * against a state that holds job acme/prod/j. A record that decodes must
 * encode and decode again to the same encoding (a restart after a restart
 * reads what the first one wrote), the general decoder alone must
 * give the same answer as run_decode's fast path, the job key
 * run_peek_job reads must be the decoded run's, and so must what
 * run_summary_read reads (any bytes: no crash). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "run_codec.h"

static struct sched_state st;
static msgpack_zone zone;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct job *j = xcalloc(1, sizeof(*j));

	(void)argc;
	(void)argv;
	state_init(&st);
	snprintf(j->key, sizeof(j->key), "acme/prod/j");
	snprintf(j->tenant, sizeof(j->tenant), "acme");
	snprintf(j->env, sizeof(j->env), "acme/prod");
	snprintf(j->name, sizeof(j->name), "j");
	j->max_attempts = 1;
	state_add_job(&st, j);
	if (!msgpack_zone_init(&zone, 4096))
		die("out of memory");
	return 0;
}

/* A report counts a run kept in the store by its summary: it must read
 * what the decode reads (the failure class cut to its buffer). */
static void check_summary(const struct run *r, int rc,
			  const struct run_summary *s)
{
	const char *fc = str_or_empty(run_detail(r)->failure_class);
	size_t n = strlen(fc);

	if (n >= sizeof(s->failure_class))
		n = sizeof(s->failure_class) - 1;
	if (rc || s->id != r->id || strcmp(s->job, r->job->key) ||
	    s->state != r->state || s->attempt != r->attempt ||
	    s->log_lines != r->log_lines || s->created_ms != r->created_ms ||
	    strlen(s->failure_class) != n || memcmp(s->failure_class, fc, n))
		fz_fail("run %llu: its summary (%d) is not what the decode "
			"reads", (unsigned long long)r->id, rc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run r, again, general;
	msgpack_sbuffer once, twice;
	char job[JOB_KEY_LEN];
	struct run_summary sum;
	int rc, grc, peeked, summed;

	memset(&r, 0, sizeof(r));
	memset(&general, 0, sizeof(general));
	rc = run_decode(data, size, &st, &zone, &r);
	grc = run_decode_general(data, size, &st, NULL, NULL, &zone,
				 &general);
	if (rc != grc)
		fz_fail("run_decode says %d, the general decoder %d", rc, grc);
	/* a scan skips the records whose peeked job is another's: a peek
	 * must never name a job other than the one the decode reads */
	peeked = run_peek_job(data, size, job, sizeof(job));
	if (!rc && !peeked && strcmp(job, r.job->key))
		fz_fail("run %llu: peeked job %s, decoded %s",
			(unsigned long long)r.id, job, r.job->key);
	summed = run_summary_read(data, size, &sum);
	if (rc)
		return 0;
	check_summary(&r, summed, &sum);
	msgpack_sbuffer_init(&once);
	msgpack_sbuffer_init(&twice);
	run_encode(&general, &twice);
	run_encode(&r, &once);
	if (once.size != twice.size || memcmp(once.data, twice.data, once.size))
		fz_fail("run %llu decodes differently on the fast path",
			(unsigned long long)r.id);
	msgpack_sbuffer_clear(&twice);
	run_clear(&general);
	memset(&again, 0, sizeof(again));
	if (run_decode(once.data, once.size, &st, &zone, &again))
		fz_fail("a decoded run, encoded, does not decode (id %llu)",
			(unsigned long long)r.id);
	run_encode(&again, &twice);
	if (once.size != twice.size || memcmp(once.data, twice.data, once.size))
		fz_fail("run %llu encodes differently after a round trip",
			(unsigned long long)r.id);
	run_clear(&r);
	run_clear(&again);
	msgpack_sbuffer_destroy(&once);
	msgpack_sbuffer_destroy(&twice);
	return 0;
}
