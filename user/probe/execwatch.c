// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include <patchgate/abi.h>
#include "probe/execwatch.h"
#include "probe/probe_impl.h"
#include "execwatch.skel.h"

struct pg_execwatch {
	struct execwatch_bpf *skel;
	struct ring_buffer *rb;
	__u64 lost_seen;	/* skel->bss->lost at the last drain */
	int *out, max, n;	/* the drain in progress */
	bool overflow;
};

void pg_execwatch_free(struct pg_execwatch *w)
{
	if (!w)
		return;
	ring_buffer__free(w->rb);
	execwatch_bpf__destroy(w->skel);
	free(w);
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct pg_execwatch *w = ctx;
	const struct pg_exec_event *e = data;

	if (size < sizeof(*e))
		return 0;
	for (int i = 0; i < w->n; i++)
		if (w->out[i] == (int)e->pid)
			return 0;
	if (w->n < w->max)
		w->out[w->n++] = (int)e->pid;
	else
		w->overflow = true;
	return 0;
}

struct pg_execwatch *pg_execwatch_open(char *err, size_t errlen)
{
	struct pg_execwatch *w = calloc(1, sizeof(*w));
	int e;

	probe_quiet_libbpf();
	if (!w) {
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	w->skel = execwatch_bpf__open_and_load();
	if (!w->skel) {
		e = -errno;
		snprintf(err, errlen, "cannot load the exec tracepoint program (tp_btf): %s%s", strerror(-e),
			 e == -EPERM ? " -- run as root" : "");
		goto fail;
	}
	if ((e = execwatch_bpf__attach(w->skel))) {
		snprintf(err, errlen, "cannot attach to the sched_process_exec tracepoint: %s",
			 strerror(-e));
		goto fail;
	}
	w->rb = ring_buffer__new(bpf_map__fd(w->skel->maps.events), on_event, w, NULL);
	if (!w->rb) {
		e = -errno;
		snprintf(err, errlen, "cannot open the exec ring buffer: %s", strerror(-e));
		goto fail;
	}
	return w;
fail:
	pg_execwatch_free(w);
	errno = -e;
	return NULL;
}

int pg_execwatch_drain(struct pg_execwatch *w, int *out, int max, bool *lost)
{
	__u64 dropped;
	int e;

	w->out = out;
	w->max = max;
	w->n = 0;
	w->overflow = false;
	e = ring_buffer__consume(w->rb);
	dropped = __atomic_load_n(&w->skel->bss->lost, __ATOMIC_RELAXED);
	*lost = w->overflow || e < 0 || dropped != w->lost_seen;
	w->lost_seen = dropped;
	return w->n;
}
