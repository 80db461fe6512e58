#include "backend.h"
static struct backend_run *livy_submit(const struct backend_ctx *ctx,
				       char *err, size_t errlen)
{
	(void)ctx;
	return backend_unavailable_submit("livy", err, errlen);
}
const struct backend_ops backend_livy_ops = {
	.name = "livy",
	.submit = livy_submit,
};
