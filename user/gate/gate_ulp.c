// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Where a process patch's functions are, for the gate's observation
 * (gate_observe.c): each old function in the patched object, and its new
 * function in the patch's mapping (the memfd it is mapped from, named
 * after its path), to which the probes move at apply (a probe and a jump
 * never share bytes).  Apply and revert go through pg_ulp_ops
 * (gate_patch.c).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "backend/ulp/ulp_map.h"
#include "backend/ulp/ulp_patch.h"
#include "gate/gate_run.h"
#include "view/output.h"

static int ulp_where(struct gr *g)
{
	struct ulp_patch *p = NULL;
	char real[PATH_MAX], err[1024], mapped[PATH_MAX];
	int ret = PG_EXIT_SYSTEM;

	if (!realpath(g->o->patch_path, real)) {
		pg_err(g->ctx, PG_EXIT_USAGE, "apply: %s: %s", g->o->patch_path, strerror(errno));
		return PG_EXIT_USAGE;
	}
	if (ulp_patch__open(real, &p, err, sizeof(err))) {
		pg_err(g->ctx, PG_EXIT_USAGE, "apply: %s", err);
		return PG_EXIT_USAGE;
	}
	ulp_map_maps_path(real, mapped, sizeof(mapped));
	for (unsigned int i = 0; i < g->nfuncs && i < (unsigned int)p->nfuncs; i++) {
		const struct ulp_pfunc *f = &p->funcs[i];

		if (asprintf(&g->fspec[i], "%s%s%s", p->object, p->object[0] ? ":" : "", f->old_sym) < 0)
			g->fspec[i] = NULL;
		if (asprintf(&g->new_fspec[i], "%s:%s", mapped, f->new_sym) < 0)
			g->new_fspec[i] = NULL;
		if (!g->fspec[i] || !g->new_fspec[i])
			goto cleanup;
	}
	/* the maps line as it stands: a memfd is always " (deleted)" */
	if (asprintf(&g->new_code, "%s (deleted)", mapped) < 0)
		g->new_code = NULL;
	if (g->new_code)
		ret = 0;
cleanup:
	if (ret)
		pg_err(g->ctx, ret, "apply: out of memory");
	ulp_patch__free(p);
	return ret;
}

const struct gr_backend gr_ulp_backend = {
	.name = "ulp",
	.kind = GATE_BACKEND_ULP,
	.ops = &pg_ulp_ops,
	.where = ulp_where,
};
