/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The running kernel's build configuration, as Debian ships it in
 * /boot/config-RELEASE, or as a kernel built with IKCONFIG_PROC exposes it
 * in /proc/config.gz.  Read once; looked up by option name.
 */
#ifndef PG_LIB_KCONFIG_H
#define PG_LIB_KCONFIG_H

struct pg_kconfig;

/*
 * Load the configuration of kernel @release (uname -r): /boot/config-@release
 * first, then /proc/config.gz.  0 with *@out set, -ENOENT when neither is
 * there, or another -errno.
 */
int pg_kconfig__load(const char *release, struct pg_kconfig **out);
void pg_kconfig__free(struct pg_kconfig *k);

/* The file it came from. */
const char *pg_kconfig_source(const struct pg_kconfig *k);

/*
 * The value of @opt ("CONFIG_LIVEPATCH"): "y", "m", a string or number as
 * written, or NULL when it is not set ("# ... is not set" or absent).  The
 * string lives until the next lookup or pg_kconfig__free().
 */
const char *pg_kconfig_value(struct pg_kconfig *k, const char *opt);

#endif
