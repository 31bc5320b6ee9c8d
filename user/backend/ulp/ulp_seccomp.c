// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Seccomp and injected syscalls.  A filter sees an injected syscall as
 * the target's own: one that kills mmap kills the target the moment
 * patchgate injects it, one that traps sends it SIGSYS, strict mode
 * kills the thread.  So the filters are read before anything is
 * injected and each injected syscall is run through them here first,
 * with a small classic-BPF interpreter (what seccomp runs; no libseccomp).
 * A verdict that depends on a value patchgate does not know yet is
 * treated as a refusal: nothing is injected on a guess.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include "backend/ulp/ulp_seccomp.h"

#ifndef PTRACE_SECCOMP_GET_FILTER
#define PTRACE_SECCOMP_GET_FILTER 0x420c
#endif
#ifndef SECCOMP_RET_ACTION_FULL
#define SECCOMP_RET_ACTION_FULL 0xffff0000U
#endif
#ifndef SECCOMP_RET_LOG
#define SECCOMP_RET_LOG 0x7ffc0000U
#endif
#ifndef SECCOMP_RET_KILL_PROCESS
#define SECCOMP_RET_KILL_PROCESS 0x80000000U
#endif
#ifndef SECCOMP_RET_USER_NOTIF
#define SECCOMP_RET_USER_NOTIF 0x7fc00000U
#endif

#define SC_DATA_WORDS 16	/* sizeof(struct seccomp_data) / 4 */
#define SC_MAX_FILTERS 1024	/* the kernel caps all filters at 32768 insns */
#define SC_MAX_INSNS 4096	/* BPF_MAXINSNS */

struct sc_filter {
	struct sock_filter *insn;
	int n;
};

struct ulp_seccomp {
	int nf;
	struct sc_filter f[];	/* [0]: the newest */
};

void ulp_seccomp__free(struct ulp_seccomp *sc)
{
	if (!sc)
		return;
	for (int i = 0; i < sc->nf; i++)
		free(sc->f[i].insn);
	free(sc);
}

/* The Seccomp: and Seccomp_filters: fields of /proc/@pid/task/@tid/status; -errno. */
static int read_mode(int pid, int tid, int *mode, int *nfilters)
{
	char fn[64], line[256];
	FILE *f;

	snprintf(fn, sizeof(fn), "/proc/%d/task/%d/status", pid, tid);
	f = fopen(fn, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	*mode = -1;
	*nfilters = -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Seccomp: %d", mode) == 1)
			continue;
		sscanf(line, "Seccomp_filters: %d", nfilters);
	}
	fclose(f);
	return 0;
}

int ulp_seccomp__read(int pid, int tid, struct ulp_seccomp **out, char *why, size_t whylen)
{
	struct ulp_seccomp *sc = NULL;
	int mode, nf, err, cap = 8;

	*out = NULL;
	err = read_mode(pid, tid, &mode, &nf);
	if (err)
		return err;
	if (mode == 0)
		return 0;
	if (mode == SECCOMP_MODE_STRICT) {
		snprintf(why, whylen, "thread %d of pid %d runs in seccomp strict mode: any syscall but read, "
			 "write, exit and sigreturn kills it, and patchgate would have to inject mmap", tid, pid);
		return -EPERM;
	}
	if (mode != SECCOMP_MODE_FILTER) {
		snprintf(why, whylen, "thread %d of pid %d: unknown seccomp mode %d", tid, pid, mode);
		return -EPERM;
	}
	for (int i = 0; i < SC_MAX_FILTERS; i++) {
		long n = ptrace(PTRACE_SECCOMP_GET_FILTER, tid, (void *)(long)i, NULL);
		struct sc_filter *f;

		if (n < 0 && errno == ENOENT && i > 0)
			break;
		if (n <= 0 || n > SC_MAX_INSNS) {
			snprintf(why, whylen, "thread %d of pid %d has seccomp filters, and filter %d cannot be read "
				 "(%s) -- patchgate needs CAP_SYS_ADMIN and CONFIG_CHECKPOINT_RESTORE to check that "
				 "the syscalls it injects are allowed", tid, pid, i, n < 0 ? strerror(errno) : "empty");
			err = -EPERM;
			goto fail;
		}
		if (!sc || sc->nf == cap) {
			struct ulp_seccomp *t;

			cap = sc ? cap * 2 : cap;
			t = realloc(sc, sizeof(*sc) + (size_t)cap * sizeof(sc->f[0]));
			if (!t) {
				err = -ENOMEM;
				goto fail;
			}
			if (!sc)
				t->nf = 0;
			sc = t;
		}
		f = &sc->f[sc->nf];
		f->n = (int)n;
		f->insn = calloc((size_t)n, sizeof(*f->insn));
		if (!f->insn) {
			err = -ENOMEM;
			goto fail;
		}
		sc->nf++;
		if (ptrace(PTRACE_SECCOMP_GET_FILTER, tid, (void *)(long)i, f->insn) != n) {
			snprintf(why, whylen, "filter %d of thread %d changed while read", i, tid);
			err = -EPERM;
			goto fail;
		}
	}
	if (nf >= 0 && sc->nf != nf) {
		snprintf(why, whylen, "thread %d of pid %d has %d seccomp filters, %d could be read", tid, pid, nf,
			 sc->nf);
		err = -EPERM;
		goto fail;
	}
	*out = sc;
	return 0;
fail:
	ulp_seccomp__free(sc);
	return err;
}

enum sc_eval {
	SC_EVAL_RET,		/* *ret holds the filter's return value */
	SC_EVAL_UNKNOWN,	/* it read a word not known yet (*word) */
	SC_EVAL_BAD,		/* an instruction seccomp would not have accepted */
};

static bool alu(uint16_t op, uint32_t *a, uint32_t v)
{
	switch (op) {
	case BPF_ADD: *a += v; break;
	case BPF_SUB: *a -= v; break;
	case BPF_MUL: *a *= v; break;
	case BPF_DIV: if (!v) return false; *a /= v; break;
	case BPF_MOD: if (!v) return false; *a %= v; break;
	case BPF_AND: *a &= v; break;
	case BPF_OR: *a |= v; break;
	case BPF_XOR: *a ^= v; break;
	case BPF_LSH: *a = v < 32 ? *a << v : 0; break;
	case BPF_RSH: *a = v < 32 ? *a >> v : 0; break;
	case BPF_NEG: *a = -*a; break;
	default: return false;
	}
	return true;
}

static bool jump_taken(uint16_t op, uint32_t a, uint32_t v)
{
	switch (op) {
	case BPF_JEQ: return a == v;
	case BPF_JGT: return a > v;
	case BPF_JGE: return a >= v;
	default: return (a & v) != 0;	/* BPF_JSET */
	}
}

/*
 * Run one filter on @d (struct seccomp_data as 32-bit words; @known: a
 * bit per word).  Division by zero returns 0 (kill), as the kernel does.
 */
static enum sc_eval eval(const struct sc_filter *f, const uint32_t d[SC_DATA_WORDS], uint32_t known,
			 uint32_t *ret, int *word)
{
	uint32_t A = 0, X = 0, M[BPF_MEMWORDS] = {};

	for (int pc = 0; pc < f->n; pc++) {
		const struct sock_filter *in = &f->insn[pc];
		uint16_t cls = BPF_CLASS(in->code);

		switch (cls) {
		case BPF_LD:
		case BPF_LDX: {
			uint32_t v;

			if (BPF_MODE(in->code) == BPF_ABS && cls == BPF_LD && BPF_SIZE(in->code) == BPF_W) {
				if (in->k % 4 || in->k / 4 >= SC_DATA_WORDS)
					return SC_EVAL_BAD;
				if (!(known & (1u << (in->k / 4)))) {
					*word = (int)(in->k / 4);
					return SC_EVAL_UNKNOWN;
				}
				v = d[in->k / 4];
			} else if (BPF_MODE(in->code) == BPF_LEN) {
				v = SC_DATA_WORDS * 4;
			} else if (BPF_MODE(in->code) == BPF_IMM) {
				v = in->k;
			} else if (BPF_MODE(in->code) == BPF_MEM && in->k < BPF_MEMWORDS) {
				v = M[in->k];
			} else {
				return SC_EVAL_BAD;
			}
			if (cls == BPF_LD)
				A = v;
			else
				X = v;
			break;
		}
		case BPF_ST:
		case BPF_STX:
			if (in->k >= BPF_MEMWORDS)
				return SC_EVAL_BAD;
			M[in->k] = cls == BPF_ST ? A : X;
			break;
		case BPF_ALU:
			if (!alu(BPF_OP(in->code), &A, BPF_SRC(in->code) == BPF_X ? X : in->k)) {
				if (BPF_OP(in->code) != BPF_DIV && BPF_OP(in->code) != BPF_MOD)
					return SC_EVAL_BAD;
				*ret = 0;
				return SC_EVAL_RET;
			}
			break;
		case BPF_JMP:
			if (BPF_OP(in->code) == BPF_JA)
				pc += (int)in->k;
			else
				pc += jump_taken(BPF_OP(in->code), A, BPF_SRC(in->code) == BPF_X ? X : in->k) ?
					      in->jt : in->jf;
			break;
		case BPF_RET:
			*ret = BPF_RVAL(in->code) == BPF_A ? A : in->k;
			return SC_EVAL_RET;
		case BPF_MISC:
			if (BPF_MISCOP(in->code) == BPF_TAX)
				X = A;
			else
				A = X;
			break;
		default:
			return SC_EVAL_BAD;
		}
	}
	return SC_EVAL_BAD;	/* ran off the end: the kernel refuses such a filter */
}

static const char *action_name(uint32_t ret)
{
	switch (ret & SECCOMP_RET_ACTION_FULL) {
	case SECCOMP_RET_KILL_PROCESS: return "kills the process";
	case SECCOMP_RET_KILL_THREAD: return "kills the thread";
	case SECCOMP_RET_TRAP: return "traps it (SIGSYS)";
	case SECCOMP_RET_ERRNO: return "fails it with an errno";
	case SECCOMP_RET_USER_NOTIF: return "hands it to a user-space supervisor";
	case SECCOMP_RET_TRACE: return "hands it to a tracer";
	default: return "does not allow it";
	}
}

static const char *sc_name(long nr)
{
	switch (nr) {
	case SYS_mmap: return "mmap";
	case SYS_munmap: return "munmap";
	case SYS_close: return "close";
	case SYS_memfd_create: return "memfd_create";
	default: return "a syscall";
	}
}

int ulp_seccomp__allows(const struct ulp_seccomp *sc, const struct ulp_sc_call *c, uint64_t ip, char *why,
			size_t whylen)
{
	uint32_t d[SC_DATA_WORDS], known = 0xf;	/* nr, arch, instruction_pointer */

	if (!sc)
		return 0;
	d[0] = (uint32_t)c->nr;
	d[1] = AUDIT_ARCH_X86_64;
	d[2] = (uint32_t)ip;
	d[3] = (uint32_t)(ip >> 32);
	for (int i = 0; i < 6; i++) {
		d[4 + 2 * i] = (uint32_t)c->a[i];
		d[5 + 2 * i] = (uint32_t)(c->a[i] >> 32);
		if (c->known & (1u << i))
			known |= 3u << (4 + 2 * i);
	}
	for (int i = 0; i < sc->nf; i++) {
		uint32_t ret = 0;
		int word = 0;

		switch (eval(&sc->f[i], d, known, &ret, &word)) {
		case SC_EVAL_UNKNOWN:
			snprintf(why, whylen, "a seccomp filter of the target decides %s on argument %d, whose value "
				 "patchgate cannot know before injecting it", sc_name(c->nr), (word - 4) / 2);
			return -EPERM;
		case SC_EVAL_BAD:
			snprintf(why, whylen, "a seccomp filter of the target could not be evaluated");
			return -EPERM;
		case SC_EVAL_RET:
			break;
		}
		if ((ret & SECCOMP_RET_ACTION_FULL) != SECCOMP_RET_ALLOW &&
		    (ret & SECCOMP_RET_ACTION_FULL) != SECCOMP_RET_LOG) {
			snprintf(why, whylen, "a seccomp filter of the target %s when patchgate injects %s",
				 action_name(ret), sc_name(c->nr));
			return -EPERM;
		}
	}
	return 0;
}
