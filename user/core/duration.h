/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one duration grammar, for command-line options and policy keys alike:
 * a non-negative decimal number with an optional unit, "us", "ms", "s", "m"
 * or "h"; a bare number is seconds.  "1.5", "250ms", "30s", "5m", "1h".
 */
#ifndef PG_CORE_DURATION_H
#define PG_CORE_DURATION_H

#include <stddef.h>
#include <stdint.h>

/* The longest duration accepted anywhere: one day. */
#define PG_DURATION_MAX_NS	(86400ULL * 1000000000ULL)

/*
 * Parse @s into nanoseconds.  Returns 0, -EINVAL when @s is not of the
 * grammar (empty, negative, NaN, unknown unit, trailing text), or -ERANGE
 * above PG_DURATION_MAX_NS.  *ns is untouched on error.
 */
int pg_duration_parse(const char *s, uint64_t *ns);

/* The same, in seconds. */
int pg_duration_parse_s(const char *s, double *seconds);

/* Format @ns back in the grammar ("30s", "250ms", "1.5us"); snprintf's result. */
int pg_duration_format(uint64_t ns, char *buf, size_t len);

#endif
