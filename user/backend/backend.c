// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* What every backend shares: the one way to report a failure (backend.h). */
#include <stdarg.h>
#include <stdio.h>
#include "backend/backend.h"

int pg_be_fail(struct pg_be_result *r, enum pg_be_fail f, int err, const char *fmt, ...)
{
	va_list ap;

	r->fail = f;
	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
	va_end(ap);
	return err;
}
