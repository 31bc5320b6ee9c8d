/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Inside the probe engine (probe.h): the per-kind implementations.  A
 * target picks its engine _impl and its residency _impl when it opens;
 * everything above goes through these tables.
 */
#ifndef PG_PROBE_IMPL_H
#define PG_PROBE_IMPL_H

#include "probe/probe.h"
#include "probe/pgmaps.h"

struct probe_impl {
	/*
	 * Load the programs, point p->maps at the skeleton's maps and attach
	 * every function of @o; on failure leave nothing behind.
	 */
	int (*open)(struct probe *p, const struct probe_opts *o, char *err, size_t errlen);
	int (*attach)(struct probe *p, int fn, const struct probe_func *f, char *err, size_t errlen);
	void (*detach)(struct probe *p, int fn);
	const char *(*how)(const struct probe *p, int fn);
	void (*close)(struct probe *p);
};

struct probe {
	const struct probe_impl *impl;
	struct probe_target *target;
	struct pg_maps maps;		/* the shared counter maps: pgmaps.c */
	int nfuncs;
	bool empty;
	char note[1024];		/* probe__note() */
	void *priv;			/* the _impl's state */
};

struct probe_resid_impl {
	int (*open)(struct probe_resid *r, const struct probe_func *funcs, int n, char *err,
		    size_t errlen);
	int (*scan)(struct probe_resid *r, struct pg_inside *out, int max, uint64_t *walked,
		    char *err, size_t errlen);
	void (*close)(struct probe_resid *r);
	unsigned int confirm_sleeping, confirm_running;
};

struct probe_resid {
	const struct probe_resid_impl *impl;
	struct probe_target *target;
	int n;
	struct probe_func *funcs;	/* a copy, n entries */
	void *priv;
};

struct probe_target_impl {
	int (*open)(struct probe_target *t, char *err, size_t errlen);
	int (*resolve)(struct probe_target *t, const char *spec, struct probe_func *out, char *err,
		       size_t errlen);
	int (*object_code)(struct probe_target *t, const char *object, struct probe_func *out,
			   int max, char *err, size_t errlen);
	void (*rescan)(struct probe_target *t);
	void (*close)(struct probe_target *t);
	const struct probe_impl *engine;
	const struct probe_resid_impl *resid;
};

struct probe_target {
	const struct probe_target_impl *impl;
	int pid;		/* 0: the kernel */
	int exit_fd;		/* pidfd, or -1 */
	void *priv;
};

extern const struct probe_target_impl probe_process_target, probe_kernel_target;
extern const struct probe_impl probe_uprobe_impl, probe_kernel_impl;
extern const struct probe_resid_impl probe_ustack_resid, probe_kresid_resid;

/* libbpf's warnings only under PATCHGATE_DEBUG. */
void probe_quiet_libbpf(void);

#endif
