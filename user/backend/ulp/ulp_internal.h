/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the phase files of the ulp backend share (not part of ulp.h):
 * recording a failure in the result, describing a patch in it, naming a
 * thread, opening a process's memory.
 */
#ifndef PG_BACKEND_ULP_INTERNAL_H
#define PG_BACKEND_ULP_INTERNAL_H

#include <stddef.h>
#include "backend/ulp/ulp.h"

/*
 * Record a failure of @kind in @res (res->msg from @fmt).  Returns @err
 * when it is a negative errno, else -EINVAL, so that a caller can
 * "return ulp_res_fail(...)" and never fail with 0.
 */
int ulp_res_fail(struct ulp_result *res, enum ulp_fail kind, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

struct ulp_jpatch;

/* res->funcs: "old@addr -> new@addr (rel32|abs64)" for each function of @jp. */
void ulp_describe(struct ulp_result *res, const struct ulp_jpatch *jp);

/* /proc/@pid/mem opened with @flags (O_CLOEXEC added); -1 with errno. */
int ulp_open_mem(int pid, int flags);

/* /proc/@pid/task/@tid/comm into @buf ("?" when unreadable). */
void ulp_read_comm(int pid, int tid, char *buf, size_t len);

#endif
