// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The kernel as a probe target: functions resolved through kallsyms
 * (lib/kallsyms.c), probes by the kernel engine _impl (probe_kernel.c),
 * residency by the iter/task walk (kresid.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lib/kallsyms.h"
#include "probe/kresid.h"
#include "probe/probe_impl.h"

#define KERNEL_BTF "/sys/kernel/btf/vmlinux"

/* The probes (CO-RE, task storage, fentry) and the iterator need BTF. */
static int ktarget_open(struct probe_target *t, char *err, size_t errlen)
{
	(void)t;
	if (access(KERNEL_BTF, R_OK)) {
		int e = -errno;

		snprintf(err, errlen, "this kernel has no BTF (%s: %s) -- CONFIG_DEBUG_INFO_BTF=y is "
			 "needed", KERNEL_BTF, strerror(-e));
		return -ENOTSUP;
	}
	return 0;
}

static void ktarget_close(struct probe_target *t)
{
	ksyms__free(t->priv);
	t->priv = NULL;
}

/* kallsyms, read at the first use and again after probe_target__rescan(). */
static struct ksyms *ktarget_syms(struct probe_target *t, char *err, size_t errlen)
{
	if (!t->priv) {
		t->priv = ksyms__load(NULL);
		if (!t->priv)
			snprintf(err, errlen, "cannot read /proc/kallsyms: %s", strerror(errno));
	}
	return t->priv;
}

static int ktarget_resolve(struct probe_target *t, const char *spec, struct probe_func *f,
			   char *err, size_t errlen)
{
	struct ksyms *ks = ktarget_syms(t, err, errlen);
	const char *mod;
	int cnt;

	if (!ks)
		return -errno ? -errno : -EIO;
	if (ksyms_parse_spec(spec, f->sym.name, sizeof(f->sym.name), f->module, sizeof(f->module),
			     &f->sympos)) {
		snprintf(err, errlen, "bad function '%s' (want [MODULE:]NAME[,SYMPOS])", spec);
		return -EINVAL;
	}
	if (!strcmp(f->module, "vmlinux"))
		f->module[0] = '\0';
	mod = f->module[0] ? f->module : "vmlinux";
	cnt = ksyms__count(ks, f->sym.name, mod);
	if (!cnt && !f->module[0]) {
		/* not in vmlinux: a module's, if exactly one module has it */
		int nm = ksyms__module_of(ks, f->sym.name, f->module, sizeof(f->module));

		if (nm > 1) {
			snprintf(err, errlen, "%s is in %d modules: give MODULE:%s", f->sym.name, nm,
				 f->sym.name);
			return -ENOTUNIQ;
		}
		if (nm == 1) {
			mod = f->module;
			cnt = ksyms__count(ks, f->sym.name, mod);
		} else {
			f->module[0] = '\0';
		}
	}
	if (!cnt) {
		snprintf(err, errlen, "no function %s in %s (kallsyms)%s", f->sym.name, mod,
			 f->module[0] ? " -- is the module loaded?" : "");
		return -ENOENT;
	}
	if (f->sympos > (unsigned long)cnt) {
		snprintf(err, errlen, "%s,%lu: only %d functions by that name in %s", f->sym.name,
			 f->sympos, cnt, mod);
		return -ENOENT;
	}
	snprintf(f->sym.object, sizeof(f->sym.object), "%s", mod);
	return 0;
}

static int ktarget_object_code(struct probe_target *t, const char *object, struct probe_func *out,
			       int max, char *err, size_t errlen)
{
	struct ksyms *ks = ktarget_syms(t, err, errlen);
	struct ksyms_func *kf;
	int n;

	if (!ks)
		return -errno ? -errno : -EIO;
	kf = calloc(max > 0 ? max : 1, sizeof(*kf));
	if (!kf) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	n = ksyms__module_funcs(ks, object, kf, max);
	if (n == 0) {
		snprintf(err, errlen, "no functions of %s in /proc/kallsyms", object);
		n = -ENOENT;
	} else if (n < 0) {
		snprintf(err, errlen, "no functions of %s in /proc/kallsyms: %s", object, strerror(-n));
	}
	for (int i = 0; i < n; i++) {
		struct probe_func *f = &out[i];

		snprintf(f->sym.name, sizeof(f->sym.name), "%s", kf[i].name);
		snprintf(f->sym.object, sizeof(f->sym.object), "%s", object);
		snprintf(f->module, sizeof(f->module), "%s", object);
		/* a name the module has once needs no position (and shows none) */
		f->sympos = ksyms__count(ks, kf[i].name, object) > 1 ? kf[i].sympos : 0;
	}
	free(kf);
	return n;
}

static void ktarget_rescan(struct probe_target *t)
{
	ktarget_close(t);
}

const struct probe_target_impl probe_kernel_target = {
	.open = ktarget_open,
	.resolve = ktarget_resolve,
	.object_code = ktarget_object_code,
	.rescan = ktarget_rescan,
	.close = ktarget_close,
	.engine = &probe_kernel_impl,
	.resid = &probe_kresid_resid,
};

/* ---- residency: the iter/task walk ---------------------------------------- */

static int kresid_open_impl(struct probe_resid *r, const struct probe_func *funcs, int n, char *err,
			    size_t errlen)
{
	struct kresid_target kt[PG_MAX_FUNCS];

	for (int i = 0; i < n; i++) {
		memset(&kt[i], 0, sizeof(kt[i]));
		snprintf(kt[i].name, sizeof(kt[i].name), "%s", funcs[i].sym.name);
		snprintf(kt[i].module, sizeof(kt[i].module), "%s", funcs[i].module);
		kt[i].sympos = funcs[i].sympos;
	}
	r->priv = kresid__open(kt, n, err, errlen);
	return r->priv ? 0 : -errno;
}

static int kresid_scan_impl(struct probe_resid *r, struct pg_inside *out, int max, uint64_t *walked,
			    char *err, size_t errlen)
{
	struct pg_resident *recs;
	int n, k = 0;

	recs = calloc(max > 0 ? max : 1, sizeof(*recs));
	if (!recs) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	n = kresid__scan(r->priv, recs, max, walked);
	if (n < 0) {
		snprintf(err, errlen, "reading the task iterator: %s", strerror(-n));
		free(recs);
		return n;
	}
	for (int i = 0; i < n && i < max; i++) {
		const struct pg_resident *rec = &recs[i];
		const struct probe_func *f;
		struct pg_inside *b = &out[k];
		char name[160];

		if (rec->func >= (uint32_t)r->n)
			continue;
		f = &r->funcs[rec->func];
		memset(b, 0, sizeof(*b));
		b->pid = (int32_t)rec->pid;
		b->tid = (int32_t)rec->tid;
		snprintf(b->comm, sizeof(b->comm), "%.*s", PG_INSIDE_COMM_LEN - 1, rec->comm);
		snprintf(name, sizeof(name), "%s%s%.0lu", f->sym.name, f->sympos ? "," : "", f->sympos);
		snprintf(b->func, sizeof(b->func), "%.*s", PG_INSIDE_FUNC_LEN - 1, name);
		snprintf(b->state, sizeof(b->state), "%s", kresid_state_str(rec->state));
		b->flags = (rec->flags & PG_RES_KTHREAD ? PG_INSIDE_KTHREAD : 0) |
			   (rec->flags & PG_RES_RUNNING ? PG_INSIDE_BEST_EFFORT : 0);
		k++;
	}
	free(recs);
	/* records beyond @max are counted, not kept; ones for no function are dropped */
	return n > max ? n : k;
}

static void kresid_close_impl(struct probe_resid *r)
{
	kresid__free(r->priv);
	r->priv = NULL;
}

const struct probe_resid_impl probe_kresid_resid = {
	.open = kresid_open_impl,
	.scan = kresid_scan_impl,
	.close = kresid_close_impl,
	/* the transition has no stack check of its own: any task inside blocks */
	.confirm_sleeping = 1,
	.confirm_running = 1,
};
