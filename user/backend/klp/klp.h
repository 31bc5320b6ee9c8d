/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Backend for kernel livepatches (klp): what a livepatch module file
 * patches, the checks before loading it, and the operations on the
 * kernel's livepatch interface (/sys/kernel/livepatch).  Wrapped for the
 * gate and the CLI by pg_klp_ops (klp_ops.c, backend.h).  Functions
 * return 0 or a negative errno and, where noted, write a one-line reason
 * to @err.
 */
#ifndef PG_BACKEND_KLP_H
#define PG_BACKEND_KLP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "core/inside.h"

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
	char *srcversion;	/* .modinfo srcversion, NULL when absent */
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
/* Load the module (finit_module) with @params (NULL: none); its init enables the patch. */
int klp_load(const char *path, const char *params);
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
/* /sys/module/@name/@attr, trailing blanks cut; -errno when unreadable. */
int klp_module_attr(const char *name, const char *attr, char *buf, size_t len);

/*
 * The module file (absolute path) and parameters patchgate loaded patch
 * @name from, kept in @dir (klp-NAME.module) so that a later atomic-replace
 * patch can be taken back by reloading this one.  write: 0 or -errno;
 * read: 0, or -ENOENT when nothing is recorded.
 */
int klp_record_write(const char *dir, const char *name, const char *path, const char *params);
int klp_record_read(const char *dir, const char *name, char *path, size_t plen, char *params,
		    size_t parlen);
void klp_record_remove(const char *dir, const char *name);

/*
 * The functions sysfs lists under /sys/kernel/livepatch/@name: same
 * struct as klp_info's, object and name and sympos from "<func>,<sympos>".
 */
int klp_sysfs_funcs(const char *name, struct klp_func_info **funcs, int *n);
void klp_funcs__free(struct klp_func_info *funcs, int n);
/* True when @f's (object, name, sympos) is in @l (sympos 0 and 1 are the same). */
bool klp_funcs_has(const struct klp_func_info *l, int n, const struct klp_func_info *f);
/* 0 when the two lists hold the same (object, name, sympos) triples, else -EMSGSIZE with @err. */
int klp_funcs_compare(const struct klp_func_info *a, int na, const struct klp_func_info *b,
		      int nb, char *err, size_t errlen);

/*
 * Tasks whose /proc/.../patch_state is neither -1 nor @target (1 while
 * patching, 0 while unpatching).  For each, where it is: the first frame of
 * /proc/TID/stack that is one of @funcs (the functions being patched),
 * otherwise its wchan ("running" when it runs): in .func; its state
 * letter in .state.  Returns the count (up to @max filled) or -errno.
 */
int klp_stragglers(int target, const struct klp_func_info *funcs, int nfuncs,
		   struct pg_inside *out, int max);

/* Names of the patches in /sys/kernel/livepatch; returns the count or -errno. */
int klp_list(char ***names);
void klp_list__free(char **names, int n);

#endif
