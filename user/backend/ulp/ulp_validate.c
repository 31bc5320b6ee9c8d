// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include "backend/ulp/ulp_internal.h"
#include "backend/ulp/ulp_map.h"
#include "backend/ulp/ulp_patch.h"
#include "backend/ulp/ulp_validate.h"
#include "backend/ulp/ulp_x86.h"
#include "lib/digest.h"
#include "lib/procmaps.h"
#include "lib/symbols.h"
#include "lib/trust.h"

int ulp_traced_thread(int pid, int *tid, int *tracer)
{
	char fn[64];
	struct dirent *de;
	DIR *d;

	*tid = *tracer = 0;
	snprintf(fn, sizeof(fn), "/proc/%d/task", pid);
	d = opendir(fn);
	if (!d)
		return 0;
	while ((de = readdir(d)) && !*tracer) {
		int t = atoi(de->d_name), tr;

		if (t <= 0)
			continue;
		tr = pg_proc_tracer(pid, t);
		if (tr > 0 && tr != getpid()) {
			*tid = t;
			*tracer = tr;
		}
	}
	closedir(d);
	return *tracer ? -EBUSY : 0;
}

int ulp_validate_target(int pid, struct ulp_result *res)
{
	char fn[64];
	struct stat a, b;
	int tracer = 0, tid = 0;

	snprintf(fn, sizeof(fn), "/proc/%d/status", pid);
	if (access(fn, F_OK))
		return ulp_res_fail(res, ULP_FAIL_INPUT, -ESRCH, "no process with pid %d", pid);
	snprintf(fn, sizeof(fn), "/proc/%d/exe", procmaps__view_pid(pid));
	if (pid == getpid() || (!stat(fn, &a) && !stat("/proc/self/exe", &b) && a.st_dev == b.st_dev &&
				 a.st_ino == b.st_ino))
		return ulp_res_fail(res, ULP_FAIL_INPUT, -EINVAL, "pid %d is patchgate itself: refusing to patch it",
				    pid);
	/* any thread: a tracer may hold one thread alone */
	if (ulp_traced_thread(pid, &tid, &tracer)) {
		char comm[32], tcomm[32];

		ulp_read_comm(tracer, tracer, comm, sizeof(comm));
		if (tid == pid)
			return ulp_res_fail(res, ULP_FAIL_INPUT, -EBUSY,
					    "pid %d is already traced by pid %d (%s) -- detach that debugger or tracer "
					    "first", pid, tracer, comm);
		ulp_read_comm(pid, tid, tcomm, sizeof(tcomm));
		return ulp_res_fail(res, ULP_FAIL_INPUT, -EBUSY,
				    "thread %d (%s) of pid %d is already traced by pid %d (%s) -- detach that debugger "
				    "or tracer first", tid, tcomm, pid, tracer, comm);
	}
	return 0;
}

int ulp_validate_trust(const char *path, const struct ulp_opts *o, char sha256[65], struct ulp_result *res)
{
	char real[PATH_MAX], why[1024];
	struct pg_trust t;
	int err;

	if (!realpath(path, real))
		return ulp_res_fail(res, ULP_FAIL_INPUT, -errno, "%s: %s", path, strerror(errno));
	err = pg_trust_file(real, &o->trust, &t, why, sizeof(why));
	if (err)
		return ulp_res_fail(res, err == -ENOMEM ? ULP_FAIL_SYSTEM : ULP_FAIL_INPUT, err, "%s", why);
	snprintf(sha256, 65, "%s", t.sha256);
	return 0;
}

bool ulp_file_changed(const struct ulp_jpatch *jp, char now[65])
{
	now[0] = '\0';
	if (!jp->sha256[0])
		return false;	/* a journal from before the digest was recorded */
	return pg_sha256_file(jp->patch, now) || strcmp(now, jp->sha256);
}

void ulp_validate_recorded(const struct ulp_jpatch *jp, struct ulp_result *res)
{
	char now[65];

	snprintf(res->sha256, sizeof(res->sha256), "%s", jp->sha256);
	snprintf(res->build_id, sizeof(res->build_id), "%s", jp->build_id);
	res->file_changed = ulp_file_changed(jp, now);
	if (!res->file_changed)
		return;
	if (now[0])
		snprintf(res->note, sizeof(res->note), "the patch file %.200s changed since apply (sha256 %.16s... "
			 "then, %.16s... now): reverting from the journal's record of what was written",
			 jp->patch, jp->sha256, now);
	else
		snprintf(res->note, sizeof(res->note), "the patch file %.200s is gone or unreadable since apply "
			 "(sha256 %.16s... then): reverting from the journal's record of what was written",
			 jp->patch, jp->sha256);
}

bool ulp_obj_name_matches(const char *path, const char *want)
{
	const char *base = strrchr(path, '/');
	size_t n = strlen(want);

	base = base ? base + 1 : path;
	return !strcmp(path, want) || !strcmp(base, want) ||
	       (!strncmp(base, want, n) && (base[n] == '.' || base[n] == '-'));
}

static int find_obj(struct sym_proc *sp, const char *want)
{
	if (!want[0])
		return 0;	/* main executable first */
	for (int i = 0; i < sym_proc__nobjs(sp); i++)
		if (ulp_obj_name_matches(sym_proc__obj_path(sp, i), want))
			return i;
	return -1;
}

/* The object the patch is for: mapped by @pid, with the build-id it names. */
static int validate_object(struct ulp_plan *pl, int pid, struct ulp_result *res)
{
	const struct ulp_patch *p = pl->p;
	char hex[128] = "";

	pl->sp = sym_proc__new(pid);
	if (!pl->sp)
		return ulp_res_fail(res, ULP_FAIL_INPUT, -errno, "cannot read the mappings of pid %d: %s", pid,
				    strerror(errno));
	pl->obj = find_obj(pl->sp, p->object);
	if (pl->obj < 0)
		return ulp_res_fail(res, ULP_FAIL_INPUT, -ENOENT, "the patch is for %s, which pid %d does not map",
				    p->object, pid);
	pl->objpath = sym_proc__obj_path(pl->sp, pl->obj);
	if (!p->target_build_id[0])
		return 0;
	sym_elf_build_id(sym_proc__obj_open_path(pl->sp, pl->obj), hex, sizeof(hex));
	if (strcasecmp(hex, p->target_build_id))
		return ulp_res_fail(res, ULP_FAIL_INPUT, -ESTALE,
				    "build-id mismatch: the patch is for %s build-id %s, pid %d maps build-id %s",
				    pl->objpath, p->target_build_id, pid, hex[0] ? hex : "(none)");
	return 0;
}

/*
 * Open the journal and memory; what the journal already says about this
 * patch: applied (1: nothing to do), not applied (an interrupted try:
 * forgotten, start afresh) or anything else (refused).
 */
static int validate_journal(struct ulp_plan *pl, int pid, const struct ulp_opts *o, struct ulp_result *res)
{
	const struct ulp_patch *p = pl->p;
	struct ulp_journal *j;
	enum ulp_actual act;
	int err, ji;

	err = ulp_journal__open(o->state_dir, pid, true, &pl->j);
	if (err)
		return ulp_res_fail(res, err == -ESRCH ? ULP_FAIL_INPUT : ULP_FAIL_SYSTEM, err,
				    "cannot open the journal in %s: %s", o->state_dir, strerror(-err));
	j = pl->j;
	pl->memfd = ulp_open_mem(pid, O_RDONLY);
	if (pl->memfd < 0)
		return ulp_res_fail(res, ULP_FAIL_INPUT, -errno, "cannot read pid %d memory: %s", pid,
				    strerror(errno));
	ji = ulp_journal__find(j, p->path);
	if (ji < 0)
		return 0;
	act = ulp_actual_of(pl->memfd, &j->p[ji]);
	if (act == ULP_ACT_APPLIED) {
		snprintf(res->sha256, sizeof(res->sha256), "%s", j->p[ji].sha256);
		snprintf(res->build_id, sizeof(res->build_id), "%s", j->p[ji].build_id);
		if (j->p[ji].state != ULP_J_APPLIED) {
			j->p[ji].state = ULP_J_APPLIED;
			ulp_journal__save(j);
		}
		res->already = true;
		res->map_lo = j->p[ji].map_lo;
		res->map_hi = j->p[ji].map_hi;
		ulp_describe(res, &j->p[ji]);
		return 1;
	}
	if (act != ULP_ACT_NOT_APPLIED)
		return ulp_res_fail(res, ULP_FAIL_INPUT, -EIO,
				    "%s is %s in pid %d (journal: %s): run 'patchgate revert --pid %d %s' first",
				    p->path, ulp_actual_name(act), pid, ulp_jstate_name(j->p[ji].state), pid,
				    p->path);
	ulp_journal__del(j, ji);	/* interrupted earlier: start afresh */
	ulp_journal__save(j);
	return 0;
}

/* Old function @k: exists, long enough, unmodified, not replaced already; its entry saved. */
static int validate_func(struct ulp_plan *pl, int k, struct ulp_result *res)
{
	const struct ulp_journal *j = pl->j;
	struct ulp_jfunc *f = &pl->jp.f[k];
	char spec[4400], e[512] = "";
	uint8_t filebytes[ULP_JMAX];
	struct sym_func sf;
	int err;

	snprintf(spec, sizeof(spec), "%s:%s", pl->objpath, pl->p->funcs[k].old_sym);
	err = sym_proc__resolve(pl->sp, spec, &sf, e, sizeof(e));
	if (err)
		return ulp_res_fail(res, ULP_FAIL_INPUT, err, "cannot find '%s' in %s: %s", pl->p->funcs[k].old_sym,
				    pl->objpath, e);
	if (sf.size < ULP_JMP_REL32_LEN)
		return ulp_res_fail(res, ULP_FAIL_INPUT, -ERANGE,
				    "'%s' is %llu bytes long, shorter than a 5-byte jump: it cannot be replaced",
				    sf.name, (unsigned long long)sf.size);
	snprintf(f->old_sym, sizeof(f->old_sym), "%s", pl->p->funcs[k].old_sym);
	snprintf(f->new_sym, sizeof(f->new_sym), "%s", pl->p->funcs[k].new_sym);
	f->old_addr = sf.addr;
	f->old_size = sf.size;
	if (sf.addr < pl->lo)
		pl->lo = sf.addr;
	if (sf.addr + sf.size > pl->hi)
		pl->hi = sf.addr + sf.size;
	if (ulp_entry_read(pl->memfd, sf.open_path, sf.file_off, sf.addr, filebytes, f->old_bytes, ULP_JMAX))
		return ulp_res_fail(res, ULP_FAIL_INPUT, -EIO, "cannot read the entry of '%s'", sf.name);
	for (int i = 0; i < j->np; i++)
		for (int m = 0; m < j->p[i].nf; m++)
			if (j->p[i].f[m].old_addr == sf.addr && j->p[i].state != ULP_J_REVERTED_MAPPED)
				return ulp_res_fail(res, ULP_FAIL_INPUT, -EEXIST,
						    "'%s' is already replaced by %s: stacking is refused, revert that "
						    "patch first", sf.name, j->p[i].patch);
	if (memcmp(filebytes, f->old_bytes, sf.size < ULP_JMAX ? sf.size : ULP_JMAX))
		return ulp_res_fail(res, ULP_FAIL_INPUT, -EBUSY,
				    "the entry of '%s' in memory differs from %s%s -- a probe, or another live "
				    "patcher?", sf.name, pl->objpath, ulp_entry_hint(f->old_bytes));
	return 0;
}

int ulp_validate(struct ulp_plan *pl, int pid, const char *patch_path, const struct ulp_opts *o,
		 struct ulp_result *res)
{
	char msg[512];
	int err;

	pl->lo = UINT64_MAX;
	pl->hi = 0;
	err = ulp_validate_target(pid, res);
	if (err)
		return err;
	/* who can change the file, and what it is: before anything reads it */
	err = ulp_validate_trust(patch_path, o, pl->jp.sha256, res);
	if (err)
		return err;
	err = ulp_patch__open(patch_path, &pl->p, msg, sizeof(msg));
	if (err)
		return ulp_res_fail(res, ULP_FAIL_INPUT, err, "%s", msg);
	snprintf(res->sha256, sizeof(res->sha256), "%s", pl->jp.sha256);
	snprintf(res->build_id, sizeof(res->build_id), "%s", pl->p->build_id);
	err = validate_object(pl, pid, res);
	if (!err)
		err = validate_journal(pl, pid, o, res);
	if (err)
		return err;
	pl->jp.f = calloc(pl->p->nfuncs, sizeof(*pl->jp.f));	/* jp.sha256 set above */
	if (!pl->jp.f)
		return -ENOMEM;
	pl->jp.nf = pl->p->nfuncs;
	for (int k = 0; k < pl->p->nfuncs && !err; k++)
		err = validate_func(pl, k, res);
	if (!err)
		err = ulp_resolve_relocs(pl->sp, pl->obj, pl->objpath, pl->p, &pl->rel_vals, res);
	if (!err)
		err = ulp_place(pl->sp, pl->p, &pl->jp, pl->lo, pl->hi, &pl->hint, &pl->tramp, res);
	return err;
}

void ulp_plan_release(struct ulp_plan *pl)
{
	if (pl->memfd >= 0)
		close(pl->memfd);
	pl->memfd = -1;
	free(pl->jp.f);
	pl->jp.f = NULL;
	free(pl->rel_vals);
	pl->rel_vals = NULL;
	ulp_journal__free(pl->j);
	pl->j = NULL;
	sym_proc__free(pl->sp);
	pl->sp = NULL;
	ulp_patch__free(pl->p);
	pl->p = NULL;
}
