/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Backend for kernel livepatches (klp): what a livepatch module file
 * patches, the checks before loading it, and the operations on the
 * kernel's livepatch interface (/sys/kernel/livepatch).  Used by the CLI
 * (klp_cmd.c) and by the gate.  Functions return 0 or a negative errno
 * and, where noted, write a one-line reason to @err.
 */
#ifndef PG_BACKEND_KLP_H
#define PG_BACKEND_KLP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define KLP_SYSFS "/sys/kernel/livepatch"

/* One function a patch replaces: its object ("vmlinux" or a module), name, sympos. */
struct klp_func_info {
	char *object;
	char *name;
	unsigned long sympos;
};

/* What a livepatch module file says about itself. */
struct klp_info {
	char *path;
	char *name;		/* module (and patch) name, '-' folded to '_' */
	char *vermagic;		/* .modinfo vermagic, NULL when absent */
	bool livepatch;		/* .modinfo livepatch=Y */
	bool replace;		/* klp_patch.replace */
	int nfuncs;
	struct klp_func_info *funcs;
};

/*
 * Read @path (a .ko) with libelf: .modinfo, and the klp_patch ->
 * klp_object[] -> klp_func[] records, following the relocations of the
 * static arrays to the old_name strings.  The struct layouts come from the
 * running kernel's BTF.  -ENOEXEC (with @err) when the file is not a
 * livepatch module or its records cannot be read.
 */
int klp_inspect(const char *path, struct klp_info **out, char *err, size_t errlen);
void klp_info__free(struct klp_info *info);

/*
 * Everything that must hold before loading: livepatch=Y, vermagic matches
 * the running kernel, not already loaded, every function in kallsyms (a
 * function of a module that is not loaded is not an error: the kernel
 * patches it when the module loads; it is reported through @note).
 * -EINVAL with @err on the first failure.
 */
int klp_check(const struct klp_info *info, char *err, size_t errlen, char *note, size_t notelen);

/* True when the kernel has a livepatch interface. */
bool klp_supported(void);
/* Load the module (finit_module); its init enables the patch. */
int klp_load(const char *path);
/* Unload module @name (delete_module, non-blocking). */
int klp_unload(const char *name);
/* Write 0 to enabled: disables, or reverses a transition in progress. */
int klp_disable(const char *name);
/* Write 1 to force: marks every task switched.  The module can never be unloaded after. */
int klp_force(const char *name);

/* A patch's state in sysfs; -ENOENT when there is no such patch. */
struct klp_state {
	bool enabled;
	bool transition;
};
int klp_transition_state(const char *name, struct klp_state *st);
/* True when /sys/module/@name exists. */
bool klp_module_loaded(const char *name);

/*
 * The functions sysfs lists under /sys/kernel/livepatch/@name: same
 * struct as klp_info's, object and name and sympos from "<func>,<sympos>".
 */
int klp_sysfs_funcs(const char *name, struct klp_func_info **funcs, int *n);
void klp_funcs__free(struct klp_func_info *funcs, int n);
/* 0 when the two lists hold the same (object, name, sympos) triples, else -EMSGSIZE with @err. */
int klp_funcs_compare(const struct klp_func_info *a, int na, const struct klp_func_info *b,
		      int nb, char *err, size_t errlen);

/* A task that has not switched to the transition's target state. */
struct klp_straggler {
	int pid;
	int tid;
	char comm[32];
	char where[160];	/* patched function on its stack, else wchan, else "running" */
	char state;		/* 'R', 'S', 'D', ... */
};

/*
 * Tasks whose /proc/.../patch_state is neither -1 nor @target (1 while
 * patching, 0 while unpatching).  For each, @where is the first frame of
 * /proc/TID/stack that is one of @funcs (the functions being patched),
 * otherwise its wchan.  Returns the count (up to @max filled) or -errno.
 */
int klp_stragglers(int target, const struct klp_func_info *funcs, int nfuncs,
		   struct klp_straggler *out, int max);

/* Names of the patches in /sys/kernel/livepatch; returns the count or -errno. */
int klp_list(char ***names);
void klp_list__free(char **names, int n);

#endif
