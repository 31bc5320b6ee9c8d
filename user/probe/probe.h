/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The probe engine: one interface over the three ways patchgate probes a
 * function (uprobes in a process, fentry/fexit or kprobes in the kernel)
 * and over the two ways it finds who is inside one (a libdw unwind of a
 * process's threads, an iter/task walk of the kernel's tasks).
 *
 * A target (a process, or the kernel) resolves function specs and says
 * when it exits; an engine counts calls of up to PG_MAX_FUNCS functions
 * of one target; a residency source lists the threads or tasks inside
 * some functions right now.  Each kind has an _impl of its own behind
 * these calls; callers never branch on the kind.
 */
#ifndef PG_PROBE_PROBE_H
#define PG_PROBE_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <patchgate/abi.h>
#include "core/inside.h"
#include "lib/symbols.h"

/* ---- targets -------------------------------------------------------------- */

struct probe_target;

/* One function of a target, resolved. */
struct probe_func {
	/*
	 * name; object (the file as the process maps it, or the module,
	 * "vmlinux" for the core kernel); addr and size (0 when unknown);
	 * for a process also where the uprobe goes (open_path, probe_off,
	 * nop5).
	 */
	struct sym_func sym;
	char module[64];	/* kernel: "" for vmlinux */
	unsigned long sympos;	/* kernel: livepatch's sympos, 0 = the name is unique */
	bool whole_object;	/* [addr, addr+size) is an object's code: name residents by symbol */
};

/*
 * Open the target @pid (0: the kernel) after checking that it can be
 * probed: a live process that is not patchgate itself, or a kernel with
 * BTF.  NULL with errno set and a message in @err: ESRCH, EINVAL (bad
 * input) or ENOTSUP (the kernel has no BTF).
 */
struct probe_target *probe_target__open(int pid, char *err, size_t errlen);
void probe_target__free(struct probe_target *t);
int probe_target__pid(const struct probe_target *t);

/*
 * Resolve @spec: SYMBOL or OBJECT:SYMBOL in a process, [MODULE:]NAME[,SYMPOS]
 * in the kernel.  0, or -ENOENT / -ENOTUNIQ / -EINVAL (bad input) or
 * another negative errno, with a message in @err.
 */
int probe_target__resolve(struct probe_target *t, const char *spec, struct probe_func *out,
			  char *err, size_t errlen);

/*
 * The code of a whole @object (a file mapped in the process, a kernel
 * module) as up to @max functions: what a patch brought, where a hung call
 * runs.  Returns the count, or a negative errno with a message in @err.
 */
int probe_target__object_code(struct probe_target *t, const char *object, struct probe_func *out,
			      int max, char *err, size_t errlen);

/*
 * Forget what was read of the target's code (a process's mappings,
 * kallsyms): resolve again after a patch brought new code.
 */
void probe_target__rescan(struct probe_target *t);

/* A descriptor that polls readable when the target exits; -1 when it cannot (the kernel). */
int probe_target__exit_fd(const struct probe_target *t);

/* ---- the engine ----------------------------------------------------------- */

struct probe;

enum probe_mode {
	PROBE_AUTO = 0,		/* the kernel: fentry/fexit, else kprobes */
	PROBE_KPROBE_ONLY,	/* the kernel: kprobe/kretprobe only */
	PROBE_FENTRY_ONLY,	/* the kernel: fentry/fexit or nothing (a klp gate) */
};

struct probe_opts {
	struct probe_target *target;
	int nfuncs;				/* 1 .. PG_MAX_FUNCS */
	const struct probe_func *funcs;		/* index = function id */
	const int *err_modes;			/* enum pg_err_mode per function, or NULL */
	bool empty;				/* empty programs: the benchmark floor */
	enum probe_mode mode;
};

/*
 * Load the programs and attach every function.  NULL with errno set and a
 * message in @err (EINVAL, ENOENT, EOPNOTSUPP: this input cannot be
 * probed; anything else: the system).
 */
struct probe *probe__open(const struct probe_opts *o, char *err, size_t errlen);

/*
 * Can the kernel function @object:@name (object NULL or "vmlinux" for the
 * core kernel; @sympos as livepatch counts it) take fentry/fexit?  0, or
 * -EOPNOTSUPP with the reason in @why: a module function, a name that is
 * not unique (sympos), no BTF for it (a syscall wrapper), or a function a
 * livepatch already redirects.  A kernel livepatch gate probes only such
 * functions: kprobes fall back where fentry cannot go, and a kretprobe on
 * a task's stack is not safe across a livepatch transition.
 */
int probe__kernel_fentry_check(const char *object, const char *name, unsigned long sympos,
			       char *why, size_t whylen);
void probe__free(struct probe *p);

/*
 * Detach one function's probes / attach them at @at (e.g. a patch's new
 * function: a probe and a jump never share bytes).  Counts keep going to
 * function id @fn.
 */
int probe__detach(struct probe *p, int fn);
int probe__attach(struct probe *p, int fn, const struct probe_func *at, char *err, size_t errlen);

/* One function's counters: cumulative over the current generation. */
struct probe_snap {
	struct pg_func_stats st;
	struct pg_inflight inf;		/* not per generation */
	struct pg_hist hist;
};

/* Read function @fn.  0, or the negative errno of the map read that failed. */
int probe__snapshot(struct probe *p, int fn, struct probe_snap *s);

/*
 * Start a new generation: clear its slot for every function, then switch.
 * A slot that cannot be cleared is an error, and the generation stays.
 */
int probe__bump_generation(struct probe *p);

/* How function @fn is probed: "nop5", "trap", "fentry" or "kprobe". */
const char *probe__how(const struct probe *p, int fn);
/* Why the preferred kind of probe was not used ("" when it was). */
const char *probe__note(const struct probe *p);
/* Bytes of kernel memory held by the maps. */
size_t probe__map_bytes(const struct probe *p);

/* ---- residency ------------------------------------------------------------ */

struct probe_resid;

/*
 * Prepare to list who is inside @funcs (n <= PG_MAX_FUNCS) of target @t.
 * NULL with errno set and a message in @err (ENOENT, ENOTUNIQ: bad input).
 */
struct probe_resid *probe_resid__open(struct probe_target *t, const struct probe_func *funcs,
				      int n, char *err, size_t errlen);
void probe_resid__free(struct probe_resid *r);

/*
 * One scan: each (thread or task, function) found, the first @max into
 * @out.  Returns how many were found (may exceed @max), or a negative
 * errno (-ESRCH: the process is gone) with a message in @err.  @walked,
 * when not NULL, gets the number of tasks looked at (0 when unknown).
 */
int probe_resid__scan(struct probe_resid *r, struct pg_inside *out, int max, uint64_t *walked,
		      char *err, size_t errlen);

/*
 * In how many consecutive scans a resident must be seen before it holds
 * a window shut, when it sleeps (state not "R") and when it runs.  A
 * process's apply stops every thread and checks their stacks itself, so a
 * thread merely passing through a busy function need not block (2 and 5
 * scans); the kernel's transition has no such check, so any task inside
 * blocks (1 and 1).
 */
void probe_resid__confirm_scans(const struct probe_resid *r, unsigned int *sleeping,
				unsigned int *running);

#endif
