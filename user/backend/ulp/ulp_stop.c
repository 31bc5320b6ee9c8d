// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include "backend/ulp/ulp_internal.h"
#include "backend/ulp/ulp_journal.h"
#include "backend/ulp/ulp_map.h"
#include "backend/ulp/ulp_ptrace.h"
#include "backend/ulp/ulp_stop.h"
#include "lib/clock.h"
#include "lib/procmaps.h"

#define STACK_SCAN_MAX (16u << 20)

static int maps_refresh(struct procmaps **pm, int pid)
{
	procmaps__free(*pm);
	*pm = NULL;
	return procmaps__read(pid, pm);
}

static uint64_t stack_end(const struct procmaps *pm, uint64_t sp)
{
	for (int m = 0; pm && m < pm->n; m++)
		if (sp >= pm->m[m].start && sp < pm->m[m].end)
			return pm->m[m].end;
	return 0;
}

static const struct ulp_range *hit_in(const uint64_t *w, size_t nw, const struct ulp_range *r, int nr)
{
	for (size_t i = 0; i < nw; i++)
		for (int k = 0; k < nr; k++)
			if (w[i] > r[k].lo && w[i] < r[k].hi)
				return &r[k];
	return NULL;
}

static const struct ulp_range unreadable = { 0, 0, "(unreadable stack)" };

/* Per thread of one scan: what it hit, and where its stack copy goes. */
struct scan_state {
	const struct ulp_range **hit;
	bool *at_pc;
	struct iovec *lv, *rv;	/* local copies, remote stacks */
	size_t *off;		/* of each copy in buf */
	char *buf;
};

static void scan_state_free(struct scan_state *s)
{
	free(s->buf);
	free(s->hit);
	free(s->at_pc);
	free(s->lv);
	free(s->rv);
	free(s->off);
}

/* PCs first; then each stack from SP to the end of its mapping, to be read. */
static int scan_pcs(struct ulp_tset *ts, const struct procmaps *pm, const struct ulp_range *r, int nr,
		    struct scan_state *s)
{
	size_t total = 0;

	for (int i = 0; i < ts->n; i++) {
		uint64_t pc = ts->t[i].regs.rip, sp = ts->t[i].regs.rsp & ~7ull, end;

		for (int k = 0; k < nr && !s->hit[i]; k++)
			if (pc > r[k].lo && pc < r[k].hi) {
				s->hit[i] = &r[k];
				s->at_pc[i] = true;
			}
		end = s->hit[i] ? 0 : stack_end(pm, sp);
		if (!s->hit[i] && !end)
			s->hit[i] = &unreadable;	/* SP outside any mapping: cannot vouch for it */
		s->rv[i].iov_base = (void *)sp;
		s->rv[i].iov_len = end ? (end - sp > STACK_SCAN_MAX ? STACK_SCAN_MAX : end - sp) : 0;
		s->off[i] = total;
		total += s->rv[i].iov_len;
	}
	s->buf = malloc(total ? total : 1);
	if (!s->buf)
		return -ENOMEM;
	for (int i = 0; i < ts->n; i++) {
		s->lv[i].iov_base = s->buf + s->off[i];
		s->lv[i].iov_len = s->rv[i].iov_len;
	}
	return 0;
}

/* The stacks, in one syscall per 512 (IOV_MAX is 1024); a stack that cannot be read blocks. */
static void scan_read_stacks(struct ulp_tset *ts, struct scan_state *s)
{
	int nio = 0;

	for (int first = 0; first < ts->n; first += nio) {
		size_t want = 0;
		ssize_t got;

		nio = ts->n - first > 512 ? 512 : ts->n - first;
		for (int i = first; i < first + nio; i++)
			want += s->rv[i].iov_len;
		got = want ? process_vm_readv(ts->pid, s->lv + first, nio, s->rv + first, nio, 0) : 0;
		if (got == (ssize_t)want)
			continue;
		/* a short read: redo this chunk one stack at a time */
		for (int i = first; i < first + nio; i++)
			if (s->rv[i].iov_len && ulp_mem_read(ts, (uint64_t)s->rv[i].iov_base, s->lv[i].iov_base,
							     s->rv[i].iov_len) && !s->hit[i])
				s->hit[i] = &unreadable;
	}
}

/* The blocked threads (their stack words looked up), into res->blockers when @record. */
static int scan_count(struct ulp_tset *ts, const struct ulp_range *r, int nr, struct scan_state *s,
		      struct ulp_result *res, bool record)
{
	int nblocked = 0;

	if (record)
		res->nblockers = 0;
	for (int i = 0; i < ts->n; i++) {
		if (!s->hit[i])
			s->hit[i] = hit_in((const uint64_t *)(s->buf + s->off[i]), s->rv[i].iov_len / 8, r, nr);
		if (!s->hit[i])
			continue;
		nblocked++;
		if (record && res->nblockers < ULP_MAX_BLOCKERS) {
			struct pg_inside *b = &res->blockers[res->nblockers++];

			memset(b, 0, sizeof(*b));
			b->tid = ts->t[i].tid;
			b->flags = s->at_pc[i] ? PG_INSIDE_AT_PC : 0;
			snprintf(b->func, sizeof(b->func), "%s", s->hit[i]->name);
			b->comm[0] = '\0';	/* filled once the threads run again */
		}
	}
	return nblocked;
}

/*
 * The conservative scan over stopped threads: a PC inside a range (its
 * entry excepted: a thread about to enter takes the jump), or a stack
 * word between SP and the end of the stack mapping pointing inside one
 * (entry excepted: return addresses never equal an entry).  Fills
 * res->blockers when @record; returns the number of blocked threads, or
 * -errno.
 */
static int scan(struct ulp_tset *ts, struct procmaps **pm, const struct ulp_range *r, int nr,
		struct ulp_result *res, bool record)
{
	struct scan_state s = {};
	int err = 0;

	/* /proc/PID/maps is slow to read: it was read before the stop; re-read
	 * only when a thread's stack is not in it (a thread born meanwhile) */
	for (int i = 0; i < ts->n; i++) {
		if (!stack_end(*pm, ts->t[i].regs.rsp)) {
			err = maps_refresh(pm, ts->pid);
			if (err)
				return err;
			break;
		}
	}
	s.hit = calloc(ts->n + 1, sizeof(*s.hit));
	s.at_pc = calloc(ts->n + 1, sizeof(*s.at_pc));
	s.lv = calloc(ts->n + 1, sizeof(*s.lv));
	s.rv = calloc(ts->n + 1, sizeof(*s.rv));
	s.off = calloc(ts->n + 1, sizeof(*s.off));
	if (!s.hit || !s.at_pc || !s.lv || !s.rv || !s.off) {
		err = -ENOMEM;
		goto cleanup;
	}
	err = scan_pcs(ts, *pm, r, nr, &s);
	if (err)
		goto cleanup;
	scan_read_stacks(ts, &s);
	err = scan_count(ts, r, nr, &s, res, record);
cleanup:
	scan_state_free(&s);
	return err;
}

void ulp_name_blockers(int pid, struct ulp_result *res)
{
	for (int i = 0; i < res->nblockers; i++)
		ulp_read_comm(pid, res->blockers[i].tid, res->blockers[i].comm, sizeof(res->blockers[i].comm));
}

int ulp_referenced(struct ulp_tset *ts, struct procmaps **pm, uint64_t lo, uint64_t hi, struct ulp_result *res)
{
	struct ulp_range r = { lo - 1, hi, "patch" };

	return scan(ts, pm, &r, 1, res, false);
}

/* With every thread stopped and the scan clear: write each entry, check it, unmap what is free. */
static int commit_writes(struct ulp_tset *ts, struct ulp_write_ctx *c)
{
	for (int k = 0; k < c->jp->nf; k++) {
		const struct ulp_jfunc *f = &c->jp->f[k];
		const uint8_t *want = c->to_new ? f->new_bytes : f->old_bytes;
		uint8_t back[ULP_JMAX];
		int err;

		err = ulp_mem_write(ts, f->old_addr, want, f->len);
		if (!err)
			err = ulp_mem_read(ts, f->old_addr, back, f->len);
		if (!err && memcmp(back, want, f->len))
			err = -EIO;
		if (err) {
			c->write_err = err;
			return err;
		}
	}
	if (c->unmap_hi) {
		int refs = ulp_referenced(ts, &c->pm, c->unmap_lo, c->unmap_hi, c->res);

		if (refs == 0 && !ulp_unmap_patch(ts, c->pm, c->tramp, c->unmap_lo, c->unmap_hi, c->jp->patch))
			c->res->kept_mapped = false;
		else
			c->res->kept_mapped = true;
	}
	return 0;
}

/* The scan was clear: write, detach, and time the round. */
static int round_commit(struct ulp_tset *ts, struct ulp_write_ctx *wc, struct ulp_result *res,
			uint64_t t_scanned)
{
	int err = commit_writes(ts, wc);
	uint64_t t_written = pg_mono_ns();

	ulp_tset__detach_all(ts);
	res->write_ns = t_written - t_scanned;
	res->resume_ns = ts->resume_end_ns - t_written;
	res->pause_ns = ts->resume_end_ns - ts->stop_start_ns;
	if (res->pause_ns > res->max_pause_ns)
		res->max_pause_ns = res->pause_ns;
	return err;
}

/* (ulp_ptrace.c wakes threads under SCHED_FIFO: see fifo_on().) */
int ulp_stop_world(struct ulp_tset *ts, const struct ulp_range *r, int nr, uint64_t deadline,
		   struct ulp_write_ctx *wc, struct ulp_result *res)
{
	uint64_t backoff = 1000000;
	int err, blocked;

	ts->deadline = deadline;	/* stopping the threads counts against the window's wait */
	for (;;) {
		uint64_t t_stopped, t_scanned;

		res->rounds++;
		err = maps_refresh(&wc->pm, ts->pid);
		if (err)
			break;
		err = ulp_tset__stop_all(ts);
		if (err)
			break;
		t_stopped = pg_mono_ns();
		res->nthreads = ts->n;
		blocked = scan(ts, &wc->pm, r, nr, res, true);
		if (blocked < 0) {
			err = blocked;
			break;
		}
		t_scanned = pg_mono_ns();
		res->stop_ns = t_stopped - ts->stop_start_ns;
		res->scan_ns = t_scanned - t_stopped;
		if (!blocked) {
			err = round_commit(ts, wc, res, t_scanned);
			break;
		}
		if (pg_mono_ns() >= deadline) {
			err = -EAGAIN;
			break;
		}
		ulp_tset__cont_all(ts);
		if (ts->resume_end_ns - ts->stop_start_ns > res->max_pause_ns)
			res->max_pause_ns = ts->resume_end_ns - ts->stop_start_ns;
		err = ulp_tset__poll(ts, backoff);
		if (err)
			break;
		backoff = backoff * 2 > 20000000 ? 20000000 : backoff * 2;
	}
	return err;
}

int ulp_build_ranges(const struct ulp_jpatch *jp, struct ulp_range **out)
{
	struct ulp_range *r = calloc(jp->nf ? jp->nf : 1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	for (int k = 0; k < jp->nf; k++) {
		r[k].lo = jp->f[k].old_addr;
		r[k].hi = jp->f[k].old_addr + (jp->f[k].old_size ? jp->f[k].old_size : (uint64_t)jp->f[k].len);
		r[k].name = jp->f[k].old_sym;
	}
	*out = r;
	return 0;
}

bool ulp_unmap_when_free(int pid, struct ulp_write_ctx *wc, uint64_t deadline, struct ulp_result *res)
{
	uint64_t wait = 1000000, end = pg_mono_ns() + 1000000000ull;
	bool done = false;

	if (deadline < end)
		end = deadline;
	while (!done && pg_mono_ns() < end) {
		struct ulp_tset *ts = NULL;
		struct timespec d = { 0, (long)wait };

		nanosleep(&d, NULL);
		wait = wait * 2 > 100000000 ? 100000000 : wait * 2;
		if (ulp_tset__seize(&ts, pid))
			return false;
		ts->deadline = end;
		ts->inj_wait_ns = wc->inj_wait_ns;
		if (!maps_refresh(&wc->pm, pid) && !ulp_tset__stop_all(ts) &&
		    ulp_referenced(ts, &wc->pm, wc->unmap_lo, wc->unmap_hi, res) == 0)
			done = !ulp_unmap_patch(ts, wc->pm, wc->tramp, wc->unmap_lo, wc->unmap_hi, wc->jp->patch);
		ulp_tset__free(ts);
	}
	return done;
}
