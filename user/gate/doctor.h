/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * `patchgate --version` and `patchgate doctor`: what this binary was built
 * with, what the running kernel offers, and whether this machine has what
 * each command needs (capabilities, kernel features, the state directory).
 */
#ifndef PG_GATE_DOCTOR_H
#define PG_GATE_DOCTOR_H

#include "view/output.h"

/* Which commands doctor checks for. */
enum gate_doctor_scope {
	GATE_DOCTOR_ALL,	/* both kinds */
	GATE_DOCTOR_PROCESS,	/* --pid: userspace patches of processes */
	GATE_DOCTOR_KERNEL,	/* --kernel, --klp: kernel functions and livepatches */
};

/* Print the version, the libbpf versions and the kernel features.  PG_EXIT_OK. */
int gate_version(struct pg_ctx *ctx, const char *version);

/*
 * Check this machine for @scope and print one check per need, then a
 * summary.  PG_EXIT_OK when every required check passed, PG_EXIT_USAGE
 * when one did not (the checks say what and how to get it).
 */
int gate_doctor(struct pg_ctx *ctx, enum gate_doctor_scope scope);

#endif
