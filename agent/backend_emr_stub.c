/*
 * backend_emr_stub.c - emr-eks as a registered name without the code:
 * a lease for an emr-eks environment fails its run with class
 * backend_unavailable instead of running spark-submit by mistake.
 * agent/backend_emr.c replaces this file (delete it in the same commit).
 */
#include "backend.h"

static struct backend_run *emr_submit(const struct backend_ctx *ctx,
				      char *err, size_t errlen)
{
	(void)ctx;
	return backend_unavailable_submit("emr-eks", err, errlen);
}

const struct backend_ops backend_emr_ops = {
	.name = "emr-eks",
	.submit = emr_submit,
};
