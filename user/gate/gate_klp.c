// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Where a kernel livepatch's functions are, for the gate's observation
 * (gate_observe.c): each replaced function as [MODULE:]NAME[,SYMPOS], and
 * the patch module, whose own functions a hung call runs.  fentry on the
 * old symbol keeps working across the livepatch and then times the new
 * code, so the probes stay where they are (no new_fspec); the generation
 * is bumped when the transition completes.  Apply, transition and revert
 * go through pg_klp_ops (gate_patch.c).
 *
 * A function of a module that is not loaded cannot be observed: the kernel
 * patches it when the module loads.  Such functions are left out of the
 * gate (g->nfuncs shrinks, g->note says which), and a patch left with none
 * (or a patch of no function at all) is gated on the kernel's health.
 *
 * The probes are fentry/fexit only (PROBE_FENTRY_ONLY).  A function that
 * cannot take fentry (no BTF: a syscall wrapper; a module function; one a
 * livepatch already redirects) is not timed: a kretprobe on it would sit
 * on task stacks through the transition, which Debian's 6.1 does not
 * survive (docs/kernel.md).  Its stacks are still scanned (g->scan_only),
 * so the window and the transition's stragglers see it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "backend/klp/klp.h"
#include "gate/gate_run.h"
#include "probe/probe.h"
#include "view/output.h"

/* Append ", TEXT" (or TEXT) to g->note unless it is there already. */
static void note_add(struct gr *g, const char *text)
{
	size_t l = strlen(g->note);

	if (strstr(g->note, text))
		return;
	snprintf(g->note + l, sizeof(g->note) - l, "%s%s", l ? ", " : "", text);
}

static int klp_where(struct gr *g)
{
	struct klp_info *info = NULL;
	unsigned int n = 0, unloaded = 0;
	char err[1024];
	int ret = PG_EXIT_SYSTEM;

	if (klp_inspect(g->o->patch_path, &info, err, sizeof(err))) {
		pg_err(g->ctx, PG_EXIT_USAGE, "apply: %s", err);
		return PG_EXIT_USAGE;
	}
	g->note[0] = '\0';
	for (unsigned int i = 0; i < g->nfuncs && i < (unsigned int)info->nfuncs; i++) {
		const struct klp_func_info *f = &info->funcs[i];
		const char *obj = f->object ? f->object : "vmlinux";
		char *spec, why[256], what[96];

		if (strcmp(obj, "vmlinux") && !klp_module_loaded(obj)) {
			snprintf(what, sizeof(what), "%s is not loaded", obj);
			note_add(g, what);
			unloaded++;
			continue;
		}
		/* ",SYMPOS" only when there is one: %.0lu prints nothing for 0 */
		if (asprintf(&spec, "%s:%s%s%.0lu", obj, f->name, f->sympos ? "," : "",
			     f->sympos) < 0)
			goto cleanup;
		if (probe__kernel_fentry_check(obj, f->name, f->sympos, why, sizeof(why))) {
			pg_warn(g->ctx, "apply: %s is not timed (fentry cannot go there: %s; a "
				"kprobe is not safe across a livepatch transition); its stacks are "
				"still scanned for the window and the transition", f->name, why);
			snprintf(what, sizeof(what), "%s not timed (%.40s)", f->name, why);
			note_add(g, what);
			g->scan_only[g->nscan_only++] = spec;
			continue;
		}
		g->fspec[n] = spec;
		if (n != i)
			memcpy(g->fname[n], g->fname[i], sizeof(g->fname[n]));
		n++;
	}
	if (unloaded) {
		size_t l = strlen(g->note);

		snprintf(g->note + l, sizeof(g->note) - l, ": %u of %u function(s) observed "
			 "(the kernel patches a module's functions when it loads)", n, g->nfuncs);
	}
	g->nfuncs = n;
	g->new_code = strdup(info->name);
	if (g->new_code)
		ret = 0;
cleanup:
	if (ret)
		pg_err(g->ctx, ret, "apply: out of memory");
	klp_info__free(info);
	return ret;
}

const struct gr_backend gr_klp_backend = {
	.name = "klp",
	.kind = GATE_BACKEND_KLP,
	.ops = &pg_klp_ops,
	.where = klp_where,
};
