/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Parsed options of each subcommand, handed from user/ctx/cmd_*.c (which
 * only parses) to the code that does the work.  One entry point per
 * (command, target kind): the process side (--pid) and the kernel side
 * (--kernel / --klp) are implemented in separate files.
 */
#ifndef PG_CLI_CMDS_H
#define PG_CLI_CMDS_H

#include <stdbool.h>
#include "core/outcome.h"
#include "view/output.h"

struct pg_watch_opts {
	int pid;		/* 0 with kernel */
	bool kernel;
	double interval_s;	/* > 0 */
	double duration_s;	/* 0: until Ctrl-C or target exit */
	int err_mode;		/* enum pg_err_mode */
	bool empty_probes;	/* attach empty programs: the benchmark floor */
	int nfuncs;
	char **funcs;		/* SYMBOL or OBJECT:SYMBOL */
};

struct pg_residency_opts {
	int pid;
	bool kernel;
	int nfuncs;
	char **funcs;
};

#define PG_CONTROL_PID_AUTO (-1)

struct pg_apply_opts {
	int pid;		/* process patch: pid and patch_path */
	const char *patch_path;	/* PATCH.so or MODULE.ko */
	bool klp;		/* kernel livepatch module */
	const char *klp_params;	/* klp: module parameters ("" for none), as insmod passes them */
	const char *previous;	/* klp: the module file of the patch a replace patch replaces */
	const char *policy_path;	/* NULL: defaults */
	bool no_gate;
	bool dry_run;
	double max_wait_s;	/* < 0: from policy */
	int err_mode;		/* enum pg_err_mode for the replaced functions */
	int control_pid;	/* 0, an unpatched process of the same binary (the control),
				 * or PG_CONTROL_PID_AUTO: find one by build-id */
	int nsets;		/* --set key=value policy overrides */
	const char *sets[32];
};

/* `patchgate rollout` (user/gate/rollout.c) */
struct pg_rollout_opts {
	const char *patch_path;	/* PATCH.so (not with resume or status) */
	const char *exe;	/* --exe PATH: its processes, by build-id */
	int npids;		/* or --pids LIST */
	int *pids;
	const char *rings;	/* --rings, NULL: the policy's [rollout] rings */
	const char *policy_path;	/* NULL: defaults */
	int nsets;		/* --set key=value gate policy overrides */
	const char *sets[32];
	bool resume;		/* --resume: go on with the journal's rollout */
	bool status;		/* --status: report the journal's rollout */
};

struct pg_revert_opts {
	int pid;
	const char *patch_path;	/* optional, process only */
	const char *klp_name;	/* kernel only */
	bool force_transition;
};

struct pg_status_opts {
	int pid;		/* 0: all */
	bool kernel;
};

struct pg_report_opts {
	const char *audit;	/* the audit log */
	const char *out;	/* FILE.png, FILE.svg or FILE.html */
	unsigned int gate;	/* 1-based; 0: the last */
};

/* watch and residency, --pid and --kernel alike (user/gate/watch.c) */
int watch_main(struct pg_ctx *ctx, const struct pg_watch_opts *o);
int residency_main(struct pg_ctx *ctx, const struct pg_residency_opts *o);

/* both kinds (user/gate/plain.c): apply --no-gate, revert, status */
int plain_apply_main(struct pg_ctx *ctx, const struct pg_apply_opts *o);
int plain_revert_main(struct pg_ctx *ctx, const struct pg_revert_opts *o);
int plain_status_main(struct pg_ctx *ctx, const struct pg_status_opts *o);

/* the gate (user/gate_run.c): wraps the backends unless --no-gate */
int gate_apply_main(struct pg_ctx *ctx, const struct pg_apply_opts *o);

/* a rollout over the processes of one binary, in rings of gates (user/gate/rollout.c) */
int rollout_main(struct pg_ctx *ctx, const struct pg_rollout_opts *o);

/* a picture of a gated apply from its audit log (user/gate/report_run.c) */
int report_main(struct pg_ctx *ctx, const struct pg_report_opts *o);

#endif
