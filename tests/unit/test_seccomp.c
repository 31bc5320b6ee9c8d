// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The classic-BPF evaluator that decides whether an injected syscall
 * passes the target's seccomp filters (user/backend/ulp/ulp_seccomp.c,
 * compiled in directly).  Filters are written here as a process would
 * install them; each test checks a verdict patchgate must reach before it
 * injects anything: allowed, refused, or refused because the verdict
 * hangs on a value not known yet.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "../../user/backend/ulp/ulp_seccomp.c"

#define LD(field) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, field))
#define RET(v) BPF_STMT(BPF_RET | BPF_K, (v))
#define IP 0x401002ull

/* A filter set of one or two programs, as ulp_seccomp__read would return it. */
static struct ulp_seccomp *mk(const struct sock_filter *a, int na, const struct sock_filter *b, int nb)
{
	struct ulp_seccomp *sc = calloc(1, sizeof(*sc) + 2 * sizeof(sc->f[0]));

	assert_non_null(sc);
	sc->f[sc->nf].insn = malloc(na * sizeof(*a));
	memcpy(sc->f[sc->nf].insn, a, na * sizeof(*a));
	sc->f[sc->nf++].n = na;
	if (b) {
		sc->f[sc->nf].insn = malloc(nb * sizeof(*b));
		memcpy(sc->f[sc->nf].insn, b, nb * sizeof(*b));
		sc->f[sc->nf++].n = nb;
	}
	return sc;
}

#define MK(a) mk(a, sizeof(a) / sizeof(a[0]), NULL, 0)

static const struct ulp_sc_call mmap_rw = { SYS_mmap, { 0, 65536, 3, 0x22, (uint64_t)-1, 0 }, ULP_SC_ALL_KNOWN };
static const struct ulp_sc_call mmap_rx = { SYS_mmap, { 0x500000, 4096, 5, 0x12, 3, 0 }, ULP_SC_ALL_KNOWN };
static const struct ulp_sc_call memfd = { SYS_memfd_create, { 0, 0x13 }, 0x2 };
static const struct ulp_sc_call close_fd = { SYS_close, { 3 }, 0 };

static int allows(const struct ulp_seccomp *sc, const struct ulp_sc_call *c, char *why)
{
	return ulp_seccomp__allows(sc, c, IP, why, 256);
}

static void no_filter_allows_everything(void **state)
{
	char why[256] = "";

	(void)state;
	assert_int_equal(allows(NULL, &mmap_rw, why), 0);
}

static void a_filter_that_kills_mmap_refuses_it_and_allows_the_rest(void **state)
{
	const struct sock_filter f[] = {
		LD(arch),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		RET(SECCOMP_RET_KILL_PROCESS),
		LD(nr),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mmap, 0, 1),
		RET(SECCOMP_RET_KILL_PROCESS),
		RET(SECCOMP_RET_ALLOW),
	};
	struct ulp_seccomp *sc = MK(f);
	char why[256] = "";

	(void)state;
	assert_int_equal(allows(sc, &mmap_rw, why), -EPERM);
	assert_non_null(strstr(why, "kills the process"));
	assert_non_null(strstr(why, "mmap"));
	assert_int_equal(allows(sc, &memfd, why), 0);
	assert_int_equal(allows(sc, &close_fd, why), 0);
	ulp_seccomp__free(sc);
}

static void an_argument_decides_the_verdict(void **state)
{
	/* W^X: mmap with PROT_EXEC traps; the fd (arg 4) is never read */
	const struct sock_filter f[] = {
		LD(nr),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mmap, 0, 3),
		LD(args[2]),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 4, 0, 1),
		RET(SECCOMP_RET_TRAP),
		RET(SECCOMP_RET_ALLOW),
	};
	struct ulp_seccomp *sc = MK(f);
	struct ulp_sc_call rx_unknown_addr = mmap_rx;
	char why[256] = "";

	(void)state;
	assert_int_equal(allows(sc, &mmap_rw, why), 0);
	assert_int_equal(allows(sc, &mmap_rx, why), -EPERM);
	assert_non_null(strstr(why, "SIGSYS"));
	rx_unknown_addr.known = 0x2e;	/* address and fd unknown, prot known: still decided */
	assert_int_equal(allows(sc, &rx_unknown_addr, why), -EPERM);
	ulp_seccomp__free(sc);
}

static void a_verdict_on_an_unknown_argument_is_a_refusal(void **state)
{
	/* close is allowed only for fd 3: patchgate does not know the fd beforehand */
	const struct sock_filter f[] = {
		LD(nr),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_close, 0, 3),
		LD(args[0]),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 3, 1, 0),
		RET(SECCOMP_RET_ERRNO | 1),
		RET(SECCOMP_RET_ALLOW),
	};
	struct ulp_seccomp *sc = MK(f);
	struct ulp_sc_call known = close_fd;
	char why[256] = "";

	(void)state;
	assert_int_equal(allows(sc, &close_fd, why), -EPERM);
	assert_non_null(strstr(why, "argument 0"));
	known.known = 1;
	assert_int_equal(allows(sc, &known, why), 0);
	known.a[0] = 4;
	assert_int_equal(allows(sc, &known, why), -EPERM);
	assert_non_null(strstr(why, "errno"));
	ulp_seccomp__free(sc);
}

static void every_filter_must_allow(void **state)
{
	const struct sock_filter allow[] = { RET(SECCOMP_RET_ALLOW) };
	const struct sock_filter log[] = { RET(SECCOMP_RET_LOG) };
	const struct sock_filter nomemfd[] = {
		LD(nr),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_memfd_create, 0, 1),
		RET(SECCOMP_RET_USER_NOTIF),
		RET(SECCOMP_RET_ALLOW),
	};
	struct ulp_seccomp *a = mk(allow, 1, log, 1);
	struct ulp_seccomp *b = mk(allow, 1, nomemfd, 4);
	char why[256] = "";

	(void)state;
	assert_int_equal(allows(a, &memfd, why), 0);
	assert_int_equal(allows(b, &mmap_rw, why), 0);
	assert_int_equal(allows(b, &memfd, why), -EPERM);
	assert_non_null(strstr(why, "supervisor"));
	ulp_seccomp__free(a);
	ulp_seccomp__free(b);
}

static void scratch_memory_alu_and_ret_a_are_evaluated(void **state)
{
	/* M[0] = nr; A = M[0] - SYS_munmap; X = A; A = X; ret A ? (A==0: kill thread) */
	const struct sock_filter f[] = {
		LD(nr),
		BPF_STMT(BPF_ST, 0),
		BPF_STMT(BPF_LD | BPF_MEM, 0),
		BPF_STMT(BPF_ALU | BPF_SUB | BPF_K, SYS_munmap),
		BPF_STMT(BPF_MISC | BPF_TAX, 0),
		BPF_STMT(BPF_MISC | BPF_TXA, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),
		BPF_STMT(BPF_RET | BPF_A, 0),	/* 0: SECCOMP_RET_KILL_THREAD */
		RET(SECCOMP_RET_ALLOW),
	};
	const struct sock_filter div0[] = {
		BPF_STMT(BPF_LDX | BPF_IMM, 0),
		BPF_STMT(BPF_ALU | BPF_DIV | BPF_X, 0),
		RET(SECCOMP_RET_ALLOW),
	};
	const struct ulp_sc_call unmap = { SYS_munmap, { 0x500000, 4096 }, ULP_SC_ALL_KNOWN };
	struct ulp_seccomp *sc = MK(f), *d = MK(div0);
	char why[256] = "";

	(void)state;
	assert_int_equal(allows(sc, &mmap_rw, why), 0);
	assert_int_equal(allows(sc, &unmap, why), -EPERM);
	assert_non_null(strstr(why, "kills the thread"));
	assert_int_equal(allows(d, &mmap_rw, why), -EPERM);
	ulp_seccomp__free(sc);
	ulp_seccomp__free(d);
}

static void a_malformed_filter_is_a_refusal(void **state)
{
	const struct sock_filter off_the_end[] = { LD(nr) };
	const struct sock_filter bad_offset[] = { BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 64), RET(SECCOMP_RET_ALLOW) };
	struct ulp_seccomp *a = MK(off_the_end), *b = MK(bad_offset);
	char why[256] = "";

	(void)state;
	assert_int_equal(allows(a, &mmap_rw, why), -EPERM);
	assert_int_equal(allows(b, &mmap_rw, why), -EPERM);
	ulp_seccomp__free(a);
	ulp_seccomp__free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(no_filter_allows_everything),
		cmocka_unit_test(a_filter_that_kills_mmap_refuses_it_and_allows_the_rest),
		cmocka_unit_test(an_argument_decides_the_verdict),
		cmocka_unit_test(a_verdict_on_an_unknown_argument_is_a_refusal),
		cmocka_unit_test(every_filter_must_allow),
		cmocka_unit_test(scratch_memory_alu_and_ret_a_are_evaluated),
		cmocka_unit_test(a_malformed_filter_is_a_refusal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
