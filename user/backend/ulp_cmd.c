// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "cli/cmds.h"

int ulp_apply_main(struct pg_cli *cli, const struct pg_apply_opts *o)
{
	(void)o;
	return pg_cli_not_implemented(cli, "apply --pid");
}

int ulp_revert_main(struct pg_cli *cli, const struct pg_revert_opts *o)
{
	(void)o;
	return pg_cli_not_implemented(cli, "revert --pid");
}

int ulp_status_main(struct pg_cli *cli, const struct pg_status_opts *o)
{
	(void)o;
	return pg_cli_not_implemented(cli, "status --pid");
}
