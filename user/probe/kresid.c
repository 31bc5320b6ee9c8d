// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "lib/kallsyms.h"
#include "probe/kresid.h"
#include "probe/probe_impl.h"
#include "kresid.skel.h"

struct kresid {
	struct kresid_bpf *skel;
	struct bpf_link *link;
};

void kresid__free(struct kresid *kr)
{
	if (!kr)
		return;
	bpf_link__destroy(kr->link);
	kresid_bpf__destroy(kr->skel);
	free(kr);
}

struct kresid *kresid__open(const struct kresid_target *t, int n, char *err, size_t errlen)
{
	struct ksyms *ks = NULL;
	struct kresid *kr = NULL;
	int e = 0;

	probe_quiet_libbpf();
	if (n <= 0 || n > PG_MAX_FUNCS) {
		snprintf(err, errlen, "between 1 and %d functions, not %d", PG_MAX_FUNCS, n);
		errno = EINVAL;
		return NULL;
	}
	kr = calloc(1, sizeof(*kr));
	ks = ksyms__load(NULL);
	if (!kr || !ks) {
		e = -errno;
		snprintf(err, errlen, "cannot read /proc/kallsyms: %s", strerror(-e));
		goto cleanup;
	}
	kr->skel = kresid_bpf__open();
	if (!kr->skel) {
		e = -errno;
		snprintf(err, errlen, "cannot open BPF skeleton: %s", strerror(-e));
		goto cleanup;
	}
	kr->skel->rodata->nranges = n;
	if ((e = kresid_bpf__load(kr->skel))) {
		snprintf(err, errlen, "cannot load the iter/task program: %s%s", strerror(-e),
			 e == -EPERM ? " -- run as root" : "");
		goto cleanup;
	}
	for (int i = 0; i < n; i++) {
		const char *mod = t[i].module[0] ? t[i].module : "vmlinux";
		struct pg_range r;
		__u32 key = i;

		e = ksyms__range(ks, t[i].name, mod, t[i].sympos, &r.start, &r.end);
		if (e == -ENOENT) {
			if (t[i].sympos)
				snprintf(err, errlen, "no function %s,%lu in %s (kallsyms)", t[i].name,
					 t[i].sympos, mod);
			else
				snprintf(err, errlen, "no function %s in %s (kallsyms)", t[i].name, mod);
		} else if (e == -ENOTUNIQ) {
			snprintf(err, errlen, "%s is ambiguous in %s (%d functions by that name): "
				 "give NAME,SYMPOS", t[i].name, mod, ksyms__count(ks, t[i].name, mod));
		} else if (e == -EPERM) {
			snprintf(err, errlen, "kallsyms hides addresses -- run as root");
		} else if (!e && bpf_map__update_elem(kr->skel->maps.ranges, &key, sizeof(key), &r,
						      sizeof(r), 0)) {
			e = -errno;
			snprintf(err, errlen, "cannot set the ranges: %s", strerror(-e));
		}
		if (e)
			goto cleanup;
	}
	kr->link = bpf_program__attach_iter(kr->skel->progs.pg_resid, NULL);
	if (!kr->link) {
		e = -errno;
		snprintf(err, errlen, "cannot attach the iter/task program: %s", strerror(-e));
		goto cleanup;
	}
cleanup:
	ksyms__free(ks);
	if (e) {
		kresid__free(kr);
		errno = -e;
		return NULL;
	}
	return kr;
}

int kresid__scan(struct kresid *kr, struct pg_resident *out, int max, uint64_t *tasks)
{
	struct pg_resident rec;
	int fd, n = 0, e = 0;
	size_t got = 0;
	ssize_t r;

	kr->skel->bss->tasks_seen = 0;
	fd = bpf_iter_create(bpf_link__fd(kr->link));
	if (fd < 0)
		return -errno;
	/* records never straddle reads in a way we cannot reassemble: buffer them */
	for (;;) {
		r = read(fd, (char *)&rec + got, sizeof(rec) - got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			e = -errno;
			break;
		}
		if (r == 0)
			break;
		got += r;
		if (got < sizeof(rec))
			continue;
		got = 0;
		if (n < max)
			out[n] = rec;
		n++;
	}
	close(fd);
	if (tasks)
		*tasks = kr->skel->bss->tasks_seen;
	return e ? e : n;
}

const char *kresid_state_str(uint32_t state)
{
	/* the kernel's task_state_index() order; an idle worker is D + NOLOAD */
	if (state == 0)
		return "R";
	if ((state & 0x402) == 0x402)
		return "I";
	if (state & 0x1)
		return "S";
	if (state & 0x2)
		return "D";
	if (state & 0x4)
		return "T";
	if (state & 0x8)
		return "t";
	if (state & 0x40)
		return "P";
	if (state & 0x20)
		return "Z";
	if (state & 0x10)
		return "X";
	return "?";
}
