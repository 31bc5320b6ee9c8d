/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Printers of `patchgate --version` and `patchgate doctor`: plain text, or
 * the "version", "check" and "doctor" JSON records (docs/json.md).
 */
#ifndef PG_VIEW_DOCTOR_H
#define PG_VIEW_DOCTOR_H

#include <stdbool.h>
#include "view/output.h"

#define PG_VIEW_MAX_FEATURES 16

/* One kernel feature as found at run time. */
struct pg_view_feature {
	const char *name;	/* JSON key */
	int state;		/* 1 yes, 0 no, -1 unknown (JSON null) */
	const char *how;	/* how it was told */
};

struct pg_view_version {
	const char *version;		/* git describe, or the package's version */
	const char *libbpf;		/* built with */
	const char *libbpf_runtime;	/* runs with */
	const char *kernel;		/* uname -r */
	unsigned int nfeat;
	struct pg_view_feature feat[PG_VIEW_MAX_FEATURES];
};

void view_version(const struct pg_ctx *ctx, const struct pg_view_version *v);

/* One thing a command needs, checked on this machine. */
struct pg_view_check {
	const char *name;	/* "cap_sys_ptrace", "btf", "livepatch", ... */
	const char *needed_by;	/* commands, separated by ", " */
	bool required;		/* false: advisory, never fails the run */
	bool ok;
	char detail[512];	/* what was found */
	char fix[512];		/* how to get it ("" when ok) */
};

void view_check(const struct pg_ctx *ctx, const struct pg_view_check *c);
/* The closing line or {"type":"doctor"} record. */
void view_doctor_summary(const struct pg_ctx *ctx, const char *scope, unsigned int checks,
			 unsigned int missing, unsigned int advisories);

#endif
