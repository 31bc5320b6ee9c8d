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
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "backend/klp/klp.h"
#include "gate/gate_run.h"
#include "view/output.h"

/* Add "OBJECT is not loaded" to g->note once per object. */
static void note_unloaded(struct gr *g, const char *object)
{
	size_t l = strlen(g->note);
	char what[96];

	snprintf(what, sizeof(what), "%s is not loaded", object);
	if (strstr(g->note, what))
		return;
	snprintf(g->note + l, sizeof(g->note) - l, "%s%s", l ? ", " : "", what);
}

static int klp_where(struct gr *g)
{
	struct klp_info *info = NULL;
	unsigned int n = 0;
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

		if (strcmp(obj, "vmlinux") && !klp_module_loaded(obj)) {
			note_unloaded(g, obj);
			continue;
		}
		/* ",SYMPOS" only when there is one: %.0lu prints nothing for 0 */
		if (asprintf(&g->fspec[n], "%s:%s%s%.0lu", obj, f->name, f->sympos ? "," : "",
			     f->sympos) < 0) {
			g->fspec[n] = NULL;
			goto cleanup;
		}
		if (n != i)
			memcpy(g->fname[n], g->fname[i], sizeof(g->fname[n]));
		n++;
	}
	if (g->note[0]) {
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
