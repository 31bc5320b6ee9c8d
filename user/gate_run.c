// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "cli/cmds.h"

int gate_apply_main(struct pg_cli *cli, const struct pg_apply_opts *o)
{
	(void)o;
	return pg_cli_not_implemented(cli, "gated apply (use --no-gate)");
}
