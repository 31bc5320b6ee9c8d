// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "cli/cmds.h"

int kwatch_main(struct pg_cli *cli, const struct pg_watch_opts *o)
{
	(void)o;
	return pg_cli_not_implemented(cli, "watch --kernel");
}

int kresidency_main(struct pg_cli *cli, const struct pg_residency_opts *o)
{
	(void)o;
	return pg_cli_not_implemented(cli, "residency --kernel");
}
