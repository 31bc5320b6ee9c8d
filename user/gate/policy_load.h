/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Load a gate policy file: the only part of policy handling that does I/O. */
#ifndef PG_CLI_POLICY_LOAD_H
#define PG_CLI_POLICY_LOAD_H

#include <stddef.h>
#include "core/policy.h"
#include "gate/opts.h"
#include "lib/trust.h"

/*
 * Parse the INI file at @path on top of @p (set it to defaults first).
 * Returns 0, -errno when the file cannot be opened or read, or -EINVAL for
 * a bad file; @err then holds one lowercase message naming the file (and
 * line and key where it applies).  @p is unchanged on error.
 */
int policy_load_file(struct pg_policy *p, const char *path, char *err, size_t errlen);

/*
 * Apply one "key=value" override (--set).  Returns 0 or a negative errno
 * with the message in @err.  Call policy_validate() after the last one.
 */
int policy_apply_override(struct pg_policy *p, const char *kv, char *err, size_t errlen);

/*
 * The policy of an apply: defaults, then --policy FILE, then each --set,
 * then --max-wait; validated.  0 or -errno with @err ("--set k=v: ..."
 * for an override).
 */
int policy_load_apply(struct pg_policy *p, const struct pg_apply_opts *o, char *err, size_t errlen);

/* What the backends check a patch file's signature with (lib/trust.h). */
struct pg_trust_opts policy_trust_opts(const struct pg_policy *p);

#endif
