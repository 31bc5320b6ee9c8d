// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Loaded and unloaded in a loop by ulp-target: churns the process's mappings. */
int ulpchurn_value = 42;

int ulpchurn_get(void)
{
	return ulpchurn_value;
}
