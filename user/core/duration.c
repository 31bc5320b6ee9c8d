// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "duration.h"

static const struct {
	const char *suffix;
	double ns;
} units[] = {
	{ "", 1e9 },		/* a bare number is seconds */
	{ "us", 1e3 },
	{ "ms", 1e6 },
	{ "s", 1e9 },
	{ "m", 60e9 },
	{ "h", 3600e9 },
};

int pg_duration_parse(const char *s, uint64_t *ns)
{
	double v;
	char *end;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || v < 0)
		return -EINVAL;
	/* decimal only: strtod would also take hex ("0x10"), "inf" and "nan" */
	if (strspn(s, "0123456789.eE+-") != (size_t)(end - s))
		return -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix))
			continue;
		v *= units[i].ns;
		if (v > (double)PG_DURATION_MAX_NS)
			return -ERANGE;
		*ns = (uint64_t)llround(v);
		return 0;
	}
	return -EINVAL;
}

int pg_duration_parse_s(const char *s, double *seconds)
{
	uint64_t ns;
	int e = pg_duration_parse(s, &ns);

	if (!e)
		*seconds = (double)ns / 1e9;
	return e;
}

int pg_duration_format(uint64_t ns, char *buf, size_t len)
{
	if (ns % 1000000000ULL == 0)
		return snprintf(buf, len, "%llus", (unsigned long long)(ns / 1000000000ULL));
	if (ns % 1000000ULL == 0)
		return snprintf(buf, len, "%llums", (unsigned long long)(ns / 1000000ULL));
	return snprintf(buf, len, "%gus", (double)ns / 1e3);
}
