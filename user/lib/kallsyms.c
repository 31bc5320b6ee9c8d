// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/kallsyms.h"

struct ksym {
	uint64_t addr;
	uint64_t end;
	char *name;
	char *module;		/* NULL: vmlinux */
	unsigned int order;	/* position in the file, for sympos */
	bool text;
};

struct ksyms {
	struct ksym *syms;	/* sorted by address */
	size_t n, cap;
	bool have_addrs;
};

static int ksym_cmp_addr(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static bool same_module(const struct ksym *s, const char *module)
{
	if (!module || !strcmp(module, "vmlinux"))
		return !s->module;
	return s->module && !strcmp(s->module, module);
}

void ksyms__free(struct ksyms *ks)
{
	if (!ks)
		return;
	for (size_t i = 0; i < ks->n; i++) {
		free(ks->syms[i].name);
		free(ks->syms[i].module);
	}
	free(ks->syms);
	free(ks);
}

struct ksyms *ksyms__load(const char *path)
{
	struct ksyms *ks = NULL;
	char line[1024], name[512], mod[256];
	unsigned long long addr;
	FILE *f = NULL;
	char type;
	int err = 0;

	ks = calloc(1, sizeof(*ks));
	f = fopen(path ? path : "/proc/kallsyms", "re");
	if (!ks || !f) {
		err = -errno;
		goto cleanup;
	}
	while (fgets(line, sizeof(line), f)) {
		struct ksym *s;
		int n;

		mod[0] = '\0';
		n = sscanf(line, "%llx %c %511s [%255[^]]]", &addr, &type, name, mod);
		if (n < 3)
			continue;
		if (ks->n == ks->cap) {
			size_t cap = ks->cap ? ks->cap * 2 : 65536;
			struct ksym *p = realloc(ks->syms, cap * sizeof(*p));

			if (!p) {
				err = -ENOMEM;
				goto cleanup;
			}
			ks->syms = p;
			ks->cap = cap;
		}
		s = &ks->syms[ks->n];
		memset(s, 0, sizeof(*s));
		s->addr = addr;
		s->text = type == 't' || type == 'T';
		s->order = ks->n;
		s->name = strdup(name);
		s->module = mod[0] ? strdup(mod) : NULL;
		if (!s->name || (mod[0] && !s->module)) {
			free(s->name);
			err = -ENOMEM;
			goto cleanup;
		}
		ks->n++;
		if (addr)
			ks->have_addrs = true;
	}
	qsort(ks->syms, ks->n, sizeof(*ks->syms), ksym_cmp_addr);
	for (size_t i = 0; i < ks->n; i++) {
		size_t j = i + 1;

		while (j < ks->n && ks->syms[j].addr == ks->syms[i].addr)
			j++;
		ks->syms[i].end = j < ks->n ? ks->syms[j].addr : ks->syms[i].addr + 1;
	}
cleanup:
	if (f)
		fclose(f);
	if (err) {
		ksyms__free(ks);
		errno = -err;
		return NULL;
	}
	return ks;
}

int ksyms__count(const struct ksyms *ks, const char *name, const char *module)
{
	int n = 0;

	for (size_t i = 0; i < ks->n; i++)
		if (ks->syms[i].text && !strcmp(ks->syms[i].name, name) &&
		    same_module(&ks->syms[i], module))
			n++;
	return n;
}

int ksyms__module_of(const struct ksyms *ks, const char *name, char *mod, size_t len)
{
	const char *first = NULL;
	int n = 0;

	for (size_t i = 0; i < ks->n; i++) {
		const struct ksym *s = &ks->syms[i];

		if (!s->text || !s->module || strcmp(s->name, name))
			continue;
		if (!first) {
			first = s->module;
			n = 1;
		} else if (strcmp(first, s->module)) {
			n++;
		}
	}
	if (first)
		snprintf(mod, len, "%s", first);
	return n;
}

int ksyms__range(const struct ksyms *ks, const char *name, const char *module,
		 unsigned long sympos, uint64_t *start, uint64_t *end)
{
	const struct ksym *best = NULL;
	unsigned long seen = 0, rank;

	/* sympos counts in kallsyms (file) order, as the kernel does */
	for (size_t i = 0; i < ks->n; i++) {
		const struct ksym *s = &ks->syms[i];

		if (!s->text || strcmp(s->name, name) || !same_module(s, module))
			continue;
		seen++;
		if (sympos == 0) {
			best = s;
			continue;
		}
		rank = 1;
		for (size_t j = 0; j < ks->n; j++) {
			const struct ksym *t = &ks->syms[j];

			if (t->order < s->order && t->text && !strcmp(t->name, name) &&
			    same_module(t, module))
				rank++;
		}
		if (rank == sympos)
			best = s;
	}
	if (!best)
		return -ENOENT;
	if (sympos == 0 && seen > 1)
		return -ENOTUNIQ;
	if (!ks->have_addrs)
		return -EPERM;
	*start = best->addr;
	*end = best->end;
	return 0;
}

int ksyms__addr_name(const struct ksyms *ks, uint64_t addr, char *buf, size_t len)
{
	size_t lo = 0, hi = ks->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ks->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || addr >= ks->syms[lo - 1].end)
		return -ENOENT;
	if (ks->syms[lo - 1].module)
		snprintf(buf, len, "%s [%s]", ks->syms[lo - 1].name, ks->syms[lo - 1].module);
	else
		snprintf(buf, len, "%s", ks->syms[lo - 1].name);
	return 0;
}

int ksyms_parse_spec(const char *spec, char *name, size_t namelen, char *module, size_t modlen,
		     unsigned long *sympos)
{
	const char *colon = strchr(spec, ':'), *n = colon ? colon + 1 : spec;
	size_t len = strcspn(n, ",");
	char *end;

	*sympos = 0;
	module[0] = '\0';
	if (colon) {
		if (colon == spec || (size_t)(colon - spec) >= modlen)
			return -EINVAL;
		snprintf(module, modlen, "%.*s", (int)(colon - spec), spec);
		if (!strcmp(module, "vmlinux"))
			module[0] = '\0';
	}
	if (!len || len >= namelen)
		return -EINVAL;
	snprintf(name, namelen, "%.*s", (int)len, n);
	if (n[len] == ',') {
		errno = 0;
		*sympos = strtoul(n + len + 1, &end, 10);
		if (errno || *end || end == n + len + 1)
			return -EINVAL;
	}
	return 0;
}

static int ksym_cmp_order(const void *a, const void *b)
{
	const struct ksym *x = *(const struct ksym *const *)a, *y = *(const struct ksym *const *)b;

	return x->order < y->order ? -1 : x->order > y->order;
}

int ksyms__module_funcs(const struct ksyms *ks, const char *module, struct ksyms_func *out, int max)
{
	const struct ksym **m;
	int n = 0, k = 0;

	if (!module || !strcmp(module, "vmlinux"))
		return -EINVAL;
	m = calloc(ks->n ? ks->n : 1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	for (size_t i = 0; i < ks->n; i++)
		if (ks->syms[i].text && same_module(&ks->syms[i], module))
			m[n++] = &ks->syms[i];
	qsort(m, n, sizeof(*m), ksym_cmp_order);
	for (int i = 0; i < n && k < max; i++, k++) {
		memset(&out[k], 0, sizeof(out[k]));
		snprintf(out[k].name, sizeof(out[k].name), "%s", m[i]->name);
		out[k].sympos = 1;
		for (int j = 0; j < i; j++)
			out[k].sympos += !strcmp(m[j]->name, m[i]->name);
	}
	free(m);
	return k;
}
