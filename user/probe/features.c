// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <bpf/libbpf_version.h>
#include "probe/features.h"

#define KERNEL_BTF "/sys/kernel/btf/vmlinux"
#define STR_(x) #x
#define STR(x) STR_(x)

static void set(struct pg_feature *f, int state, const char *fmt, const char *arg)
{
	f->state = state;
	snprintf(f->how, sizeof(f->how), fmt, arg);
}

/* Is @path there?  The PMU's type file or tracefs's events file. */
static bool exists(const char *path)
{
	return access(path, F_OK) == 0;
}

static void probe_events(struct pg_feature *f, const char *kind)
{
	static const char *const tracefs[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	char path[128];

	snprintf(path, sizeof(path), "/sys/bus/event_source/devices/%s/type", kind);
	if (exists(path)) {
		set(f, PG_FEAT_YES, "%s", path);
		return;
	}
	for (size_t i = 0; i < sizeof(tracefs) / sizeof(tracefs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s_events", tracefs[i], kind);
		if (exists(path)) {
			set(f, PG_FEAT_YES, "%s", path);
			return;
		}
	}
	set(f, PG_FEAT_NO, "no %s perf PMU under /sys/bus/event_source/devices and no tracefs "
	    "events file", kind);
}

/* A name among the values of enum bpf_attach_type in the kernel's BTF. */
static bool btf_attach_type(const struct btf *btf, const char *value)
{
	int id = btf__find_by_name_kind(btf, "bpf_attach_type", BTF_KIND_ENUM);
	const struct btf_type *t;
	const struct btf_enum *e;

	if (id < 0)
		return false;
	t = btf__type_by_id(btf, id);
	e = btf_enum(t);
	for (int i = 0; i < btf_vlen(t); i++, e++)
		if (!strcmp(btf__name_by_offset(btf, e->name_off), value))
			return true;
	return false;
}

static void probe_btf_types(struct pg_feature *f)
{
	struct btf *btf = btf__load_vmlinux_btf();
	int e = libbpf_get_error(btf);

	if (e) {
		const char *why = strerror(-e);

		set(&f[PG_FEAT_UPROBE_MULTI], PG_FEAT_UNKNOWN, "no kernel BTF to look in (%s)", why);
		set(&f[PG_FEAT_UPROBE_SESSION], PG_FEAT_UNKNOWN, "no kernel BTF to look in (%s)", why);
		set(&f[PG_FEAT_UPROBE_NOP5], PG_FEAT_UNKNOWN, "no kernel BTF to look in (%s)", why);
		return;
	}
	set(&f[PG_FEAT_UPROBE_MULTI], btf_attach_type(btf, "BPF_TRACE_UPROBE_MULTI"),
	    "%s", "kernel BTF: enum bpf_attach_type value BPF_TRACE_UPROBE_MULTI");
	set(&f[PG_FEAT_UPROBE_SESSION], btf_attach_type(btf, "BPF_TRACE_UPROBE_SESSION"),
	    "%s", "kernel BTF: enum bpf_attach_type value BPF_TRACE_UPROBE_SESSION");
	set(&f[PG_FEAT_UPROBE_NOP5],
	    btf__find_by_name_kind(btf, "uprobe_trampoline", BTF_KIND_STRUCT) >= 0,
	    "%s", "kernel BTF: struct uprobe_trampoline (x86-64 uprobe optimisation)");
	btf__free(btf);
}

static void probe_fentry(struct pg_feature *f, bool btf)
{
	int r;

	if (!btf) {
		set(f, PG_FEAT_NO, "%s", "needs kernel BTF");
		return;
	}
	/* loads a fentry program against BTF id 1 and reads the verifier's refusal */
	r = libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_TRACING, NULL);
	if (r > 0)
		set(f, PG_FEAT_YES, "%s", "kernel BTF, and libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_TRACING)");
	else if (r == 0)
		set(f, PG_FEAT_NO, "%s", "libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_TRACING) refused");
	else
		set(f, PG_FEAT_UNKNOWN, "libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_TRACING): %s "
		    "(needs CAP_BPF)", strerror(-r));
}

void pg_features_probe(struct pg_feature f[PG_FEAT__COUNT])
{
	static const char *const names[PG_FEAT__COUNT] = {
		[PG_FEAT_BTF] = "btf",
		[PG_FEAT_LIVEPATCH] = "livepatch",
		[PG_FEAT_FENTRY] = "fentry",
		[PG_FEAT_KPROBE] = "kprobe",
		[PG_FEAT_UPROBE] = "uprobe",
		[PG_FEAT_UPROBE_MULTI] = "uprobe_multi",
		[PG_FEAT_UPROBE_SESSION] = "uprobe_session",
		[PG_FEAT_UPROBE_NOP5] = "uprobe_nop5",
	};
	bool btf = access(KERNEL_BTF, R_OK) == 0;

	memset(f, 0, sizeof(*f) * PG_FEAT__COUNT);
	for (int i = 0; i < PG_FEAT__COUNT; i++)
		f[i].name = names[i];
	set(&f[PG_FEAT_BTF], btf, "%s", KERNEL_BTF);
	set(&f[PG_FEAT_LIVEPATCH], exists("/sys/kernel/livepatch"), "%s", "/sys/kernel/livepatch");
	probe_fentry(&f[PG_FEAT_FENTRY], btf);
	probe_events(&f[PG_FEAT_KPROBE], "kprobe");
	probe_events(&f[PG_FEAT_UPROBE], "uprobe");
	probe_btf_types(f);
}

const char *pg_libbpf_build_version(void)
{
	return STR(LIBBPF_MAJOR_VERSION) "." STR(LIBBPF_MINOR_VERSION);
}

void pg_libbpf_runtime_version(char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u", libbpf_major_version(), libbpf_minor_version());
}
