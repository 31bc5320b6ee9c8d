// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include "core/outcome.h"
#include "gate/doctor.h"
#include "lib/caps.h"
#include "lib/kconfig.h"
#include "lib/statedir.h"
#include "probe/execwatch.h"
#include "probe/features.h"
#include "view/doctor.h"

/* The commands of each kind, as the checks name them. */
#define PROC_TRACE	"watch --pid, apply --pid"
#define PROC_ALL	"watch --pid, residency --pid, apply --pid, revert --pid, status --pid"
#define KERN_BPF	"watch --kernel, residency --kernel, apply --klp"
#define KERN_MOD	"apply --klp, revert --klp"

enum { K_PROC = 1, K_KERN = 2, K_BOTH = 3 };

/* Everything the checks read, found once. */
struct doctor_env {
	struct pg_feature feat[PG_FEAT__COUNT];
	uint64_t caps;
	struct pg_kconfig *kconfig;	/* NULL: no config file found */
	const char *release;
	const char *state_dir;
};

static const char *scope_name(enum gate_doctor_scope s)
{
	return s == GATE_DOCTOR_PROCESS ? "process" : s == GATE_DOCTOR_KERNEL ? "kernel" : "all";
}

/* "CONFIG_X=y in /boot/config-R" or "CONFIG_X is not set in ...", for a hint. */
static void kconfig_says(struct doctor_env *env, const char *opt, char *buf, size_t len)
{
	const char *v;

	if (!env->kconfig) {
		snprintf(buf, len, "no kernel config found to read %s from", opt);
		return;
	}
	v = pg_kconfig_value(env->kconfig, opt);
	if (v)
		snprintf(buf, len, "%s=%s in %s", opt, v, pg_kconfig_source(env->kconfig));
	else
		snprintf(buf, len, "%s is not set in %s", opt, pg_kconfig_source(env->kconfig));
}

static bool has_cap(const struct doctor_env *env, int cap)
{
	return (env->caps >> cap) & 1;
}

/* One capability check; @alt also satisfies it (-1: none). */
static void check_cap(struct doctor_env *env, struct pg_view_check *c, int cap, int alt,
		      const char *why)
{
	char name[64];

	if (alt >= 0)
		snprintf(name, sizeof(name), "%s (or %s)", pg_cap_name(cap), pg_cap_name(alt));
	else
		snprintf(name, sizeof(name), "%s", pg_cap_name(cap));
	c->ok = has_cap(env, cap) || (alt >= 0 && has_cap(env, alt));
	snprintf(c->detail, sizeof(c->detail), "%s %s: %s", name, c->ok ? "held" : "not held", why);
	snprintf(c->fix, sizeof(c->fix), "run as root, or grant %s (systemd AmbientCapabilities=%s, "
		 "or setcap on the binary)", pg_cap_name(cap), pg_cap_name(cap));
}

static void check_feature(struct doctor_env *env, struct pg_view_check *c, enum pg_feat f,
			  const char *opt, const char *fix)
{
	char says[192];

	c->ok = env->feat[f].state == PG_FEAT_YES;
	snprintf(c->detail, sizeof(c->detail), "%s: %s", env->feat[f].state == PG_FEAT_YES ? "found" :
		 env->feat[f].state == PG_FEAT_NO ? "not found" : "unknown", env->feat[f].how);
	if (c->ok)
		return;
	kconfig_says(env, opt, says, sizeof(says));
	snprintf(c->fix, sizeof(c->fix), "%s (%s)", fix, says);
}

/* Read a small integer from a /proc/sys file; -1 when it is not there. */
static long read_sysctl(const char *path)
{
	char buf[32] = "";
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return buf[0] ? strtol(buf, NULL, 10) : -1;
}

static void check_ptrace_scope(struct doctor_env *env, struct pg_view_check *c)
{
	long v = read_sysctl("/proc/sys/kernel/yama/ptrace_scope");

	(void)env;
	c->ok = v != 3;
	if (v < 0)
		snprintf(c->detail, sizeof(c->detail), "Yama is not active (no ptrace_scope)");
	else
		snprintf(c->detail, sizeof(c->detail), "kernel.yama.ptrace_scope = %ld%s", v,
			 v == 3 ? " (no ptrace at all)" : v ? " (CAP_SYS_PTRACE is enough)" : "");
	snprintf(c->fix, sizeof(c->fix), "ptrace_scope 3 holds until reboot: set kernel.yama.ptrace_scope "
		 "to 1 or 2 in /etc/sysctl.d and reboot");
}

static void check_bpf_syscall(struct doctor_env *env, struct pg_view_check *c)
{
	char says[192];

	c->ok = access("/proc/sys/kernel/unprivileged_bpf_disabled", F_OK) == 0;
	snprintf(c->detail, sizeof(c->detail), "bpf(2) %s (/proc/sys/kernel/unprivileged_bpf_disabled)",
		 c->ok ? "is built in" : "is missing");
	kconfig_says(env, "CONFIG_BPF_SYSCALL", says, sizeof(says));
	snprintf(c->fix, sizeof(c->fix), "boot a kernel built with CONFIG_BPF_SYSCALL=y, as Debian's are (%s)",
		 says);
}

static void check_kernel_funcs(struct doctor_env *env, struct pg_view_check *c)
{
	char says[192];
	int fe = env->feat[PG_FEAT_FENTRY].state, kp = env->feat[PG_FEAT_KPROBE].state;

	c->ok = fe == PG_FEAT_YES || kp == PG_FEAT_YES;
	snprintf(c->detail, sizeof(c->detail), "fentry %s, kprobe %s",
		 fe == PG_FEAT_YES ? "yes" : fe == PG_FEAT_NO ? "no" : "unknown",
		 kp == PG_FEAT_YES ? "yes" : "no");
	kconfig_says(env, "CONFIG_KPROBES", says, sizeof(says));
	snprintf(c->fix, sizeof(c->fix), "a kernel with BTF and fentry (CONFIG_FUNCTION_TRACER, "
		 "CONFIG_DEBUG_INFO_BTF) or with kprobes (%s)", says);
}

static void check_modules(struct doctor_env *env, struct pg_view_check *c)
{
	long disabled = read_sysctl("/proc/sys/kernel/modules_disabled");
	char says[192];

	c->ok = access("/proc/modules", F_OK) == 0 && disabled != 1;
	snprintf(c->detail, sizeof(c->detail), "%s%s", access("/proc/modules", F_OK) ?
		 "no /proc/modules: this kernel cannot load modules" : "module loading is built in",
		 disabled == 1 ? ", but kernel.modules_disabled = 1" : "");
	kconfig_says(env, "CONFIG_MODULES", says, sizeof(says));
	if (disabled == 1)
		snprintf(c->fix, sizeof(c->fix), "kernel.modules_disabled = 1 holds until reboot: "
			 "reboot without setting it");
	else
		snprintf(c->fix, sizeof(c->fix), "boot a kernel built with CONFIG_MODULES=y (%s)", says);
}

static void check_statedir(struct doctor_env *env, struct pg_view_check *c)
{
	char why[256], parent[256], *slash;
	int fd = pg_statedir_open(env->state_dir, false, why, sizeof(why));

	if (fd >= 0) {
		close(fd);
		c->ok = true;
		snprintf(c->detail, sizeof(c->detail), "%s is usable", env->state_dir);
		return;
	}
	if (fd == -ENOENT) {
		/* created 0700 at the first apply: its parent must take it */
		snprintf(parent, sizeof(parent), "%s", env->state_dir);
		slash = strrchr(parent, '/');
		if (slash)
			*(slash == parent ? slash + 1 : slash) = '\0';
		c->ok = access(slash ? parent : ".", W_OK) == 0;
		snprintf(c->detail, sizeof(c->detail), "%s does not exist yet; %s %s writable",
			 env->state_dir, slash ? parent : ".", c->ok ? "is" : "is not");
		snprintf(c->fix, sizeof(c->fix), "run as root, or pass --state-dir DIR with a directory "
			 "of your own");
		return;
	}
	c->ok = false;
	snprintf(c->detail, sizeof(c->detail), "%s", why);
	snprintf(c->fix, sizeof(c->fix), "make %s owned by root or you, mode 0700, or pass --state-dir DIR",
		 env->state_dir);
}

static void check_libbpf(struct doctor_env *env, struct pg_view_check *c)
{
	char run[24];
	unsigned int bmaj, bmin, rmaj, rmin;

	(void)env;
	pg_libbpf_runtime_version(run, sizeof(run));
	c->ok = sscanf(pg_libbpf_build_version(), "%u.%u", &bmaj, &bmin) == 2 &&
		sscanf(run, "%u.%u", &rmaj, &rmin) == 2 &&
		(rmaj > bmaj || (rmaj == bmaj && rmin >= bmin));
	snprintf(c->detail, sizeof(c->detail), "libbpf %s loaded, built with %s", run,
		 pg_libbpf_build_version());
	snprintf(c->fix, sizeof(c->fix), "install the libbpf1 package this build was made for (apt-get "
		 "install libbpf1)");
}

static void check_kconfig(struct doctor_env *env, struct pg_view_check *c)
{
	c->ok = env->kconfig != NULL;
	if (c->ok)
		snprintf(c->detail, sizeof(c->detail), "%s (the hints above quote it)",
			 pg_kconfig_source(env->kconfig));
	else
		snprintf(c->detail, sizeof(c->detail), "neither /boot/config-%s nor /proc/config.gz",
			 env->release);
	snprintf(c->fix, sizeof(c->fix), "install the kernel's image package (it ships /boot/config-%s), "
		 "or load the configs module for /proc/config.gz; nothing needs it, the hints use it",
		 env->release);
}

static void check_tracefs(struct doctor_env *env, struct pg_view_check *c)
{
	(void)env;
	c->ok = access("/sys/kernel/tracing/trace", F_OK) == 0 ||
		access("/sys/kernel/debug/tracing/trace", F_OK) == 0;
	snprintf(c->detail, sizeof(c->detail), "tracefs %s (used only where the uprobe or kprobe perf "
		 "PMU is missing)", c->ok ? "is mounted" : "is not mounted");
	snprintf(c->fix, sizeof(c->fix), "mount -t tracefs tracefs /sys/kernel/tracing");
}

/*
 * Rollouts see the processes that start during them by a tracepoint program
 * on exec: load it, exec this binary once (--version) and see the event.
 */
static void check_exec_watch(struct doctor_env *env, struct pg_view_check *c)
{
	struct pg_execwatch *w;
	char err[256];
	int pids[64], n, st = 0;
	bool lost = false;
	pid_t child;

	(void)env;
	snprintf(c->fix, sizeof(c->fix), "rollouts then find new processes by walking /proc at each ring; "
		 "run as root on a kernel with BTF (CONFIG_DEBUG_INFO_BTF) to see them by exec");
	w = pg_execwatch_open(err, sizeof(err));
	if (!w) {
		snprintf(c->detail, sizeof(c->detail), "%s", err);
		return;
	}
	child = fork();
	if (child == 0) {
		int fd = open("/dev/null", O_WRONLY);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl("/proc/self/exe", "patchgate", "--version", (char *)NULL);
		_exit(127);
	}
	if (child < 0 || waitpid(child, &st, 0) != child) {
		snprintf(c->detail, sizeof(c->detail), "cannot run a test exec: %s", strerror(errno));
		pg_execwatch_free(w);
		return;
	}
	n = pg_execwatch_drain(w, pids, 64, &lost);
	for (int i = 0; i < n && !c->ok; i++)
		c->ok = pids[i] == child;
	if (c->ok)
		snprintf(c->detail, sizeof(c->detail), "the sched_process_exec tracepoint program saw a test "
			 "exec (pid %d)", (int)child);
	else
		snprintf(c->detail, sizeof(c->detail), "a test exec (pid %d, exit status %d) was not seen by "
			 "the tracepoint program (%d other exec%s%s)", (int)child,
			 WIFEXITED(st) ? WEXITSTATUS(st) : -1, n, n == 1 ? "" : "s",
			 lost ? ", events lost" : "");
	pg_execwatch_free(w);
}

/* One row of the doctor's table: a check, its kinds, whether it is required. */
struct doctor_check {
	const char *name;
	const char *needed_by;
	int kinds;
	bool required;
	int cap, alt;			/* a capability check when cap >= 0 */
	const char *why;		/* its reason */
	void (*fn)(struct doctor_env *env, struct pg_view_check *c);
	enum pg_feat feat;		/* a feature check when fn and cap are unset */
	const char *opt, *fix;		/* its config option and fix */
};

#define CAP(n, by, k, cap_, alt_, why_) { n, by, k, true, cap_, alt_, why_, NULL, 0, NULL, NULL }
#define FN(n, by, k, req, fn_) { n, by, k, req, -1, -1, NULL, fn_, 0, NULL, NULL }
#define FEAT(n, by, k, f, opt_, fix_) { n, by, k, true, -1, -1, NULL, NULL, f, opt_, fix_ }

static const struct doctor_check checks[] = {
	CAP("cap_sys_ptrace", PROC_ALL, K_PROC, CAP_SYS_PTRACE, -1,
	    "read a process's maps and memory, stop its threads"),
	CAP("cap_bpf", PROC_TRACE ", " KERN_BPF, K_BOTH, CAP_BPF, CAP_SYS_ADMIN, "load BPF programs"),
	CAP("cap_perfmon", PROC_TRACE ", " KERN_BPF, K_BOTH, CAP_PERFMON, CAP_SYS_ADMIN,
	    "BPF tracing programs and kprobes"),
	CAP("cap_sys_admin", PROC_TRACE, K_PROC, CAP_SYS_ADMIN, -1,
	    "the kernel creates uprobe perf events for CAP_SYS_ADMIN only"),
	CAP("cap_sys_module", KERN_MOD, K_KERN, CAP_SYS_MODULE, -1, "load and remove livepatch modules"),
	FN("ptrace_scope", PROC_ALL, K_PROC, true, check_ptrace_scope),
	FN("bpf_syscall", PROC_TRACE ", " KERN_BPF, K_BOTH, true, check_bpf_syscall),
	FEAT("btf", PROC_TRACE ", " KERN_BPF, K_BOTH, PG_FEAT_BTF, "CONFIG_DEBUG_INFO_BTF",
	     "boot a kernel built with CONFIG_DEBUG_INFO_BTF=y, as Debian's are"),
	FEAT("uprobe", PROC_TRACE, K_PROC, PG_FEAT_UPROBE, "CONFIG_UPROBE_EVENTS",
	     "boot a kernel built with CONFIG_UPROBE_EVENTS=y, or mount tracefs"),
	FN("kernel_probes", KERN_BPF, K_KERN, true, check_kernel_funcs),
	FEAT("livepatch", KERN_MOD ", status --kernel", K_KERN, PG_FEAT_LIVEPATCH, "CONFIG_LIVEPATCH",
	     "boot a kernel built with CONFIG_LIVEPATCH=y (Debian's generic and cloud kernels are)"),
	FN("modules", KERN_MOD, K_KERN, true, check_modules),
	FN("state_dir", "apply, revert, status", K_BOTH, true, check_statedir),
	FN("libbpf", "every command", K_BOTH, true, check_libbpf),
	CAP("cap_dac_override", "apply --pid (another uid's process), revert --pid (another uid's process)", K_PROC,
	    CAP_DAC_OVERRIDE, -1, "open /proc/PID/mem of another uid's process"),
	FN("exec_watch", "rollout (processes that start during it)", K_PROC, false, check_exec_watch),
	FN("tracefs", PROC_TRACE ", " KERN_BPF, K_BOTH, false, check_tracefs),
	FN("kernel_config", "the hints of this report", K_BOTH, false, check_kconfig),
};

static void doctor_env_init(struct doctor_env *env, struct pg_ctx *ctx, struct utsname *u)
{
	memset(env, 0, sizeof(*env));
	pg_features_probe(env->feat);
	if (pg_caps_effective(&env->caps))
		env->caps = 0;
	uname(u);
	env->release = u->release;
	if (pg_kconfig__load(u->release, &env->kconfig))
		env->kconfig = NULL;
	env->state_dir = ctx->state_dir ? ctx->state_dir : PG_STATE_DIR_DEFAULT;
}

int gate_doctor(struct pg_ctx *ctx, enum gate_doctor_scope scope)
{
	int want = scope == GATE_DOCTOR_PROCESS ? K_PROC : scope == GATE_DOCTOR_KERNEL ? K_KERN : K_BOTH;
	unsigned int n = 0, missing = 0, notes = 0;
	struct doctor_env env;
	struct utsname u;

	doctor_env_init(&env, ctx, &u);
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		const struct doctor_check *d = &checks[i];
		struct pg_view_check c = { .name = d->name, .needed_by = d->needed_by, .required = d->required };

		if (!(d->kinds & want))
			continue;
		/* DAC_OVERRIDE only matters for another uid's process: a note, never a failure */
		if (d->cap == CAP_DAC_OVERRIDE)
			c.required = false;
		if (d->cap >= 0)
			check_cap(&env, &c, d->cap, d->alt, d->why);
		else if (d->fn)
			d->fn(&env, &c);
		else
			check_feature(&env, &c, d->feat, d->opt, d->fix);
		if (!c.ok && c.required)
			missing++;
		else if (!c.ok)
			notes++;
		n++;
		view_check(ctx, &c);
	}
	view_doctor_summary(ctx, scope_name(scope), n, missing, notes);
	pg_kconfig__free(env.kconfig);
	return missing ? PG_EXIT_USAGE : PG_EXIT_OK;
}

int gate_version(struct pg_ctx *ctx, const char *version)
{
	struct pg_feature feat[PG_FEAT__COUNT];
	struct pg_view_version v = {
		.version = version,
		.libbpf = pg_libbpf_build_version(),
	};
	char run[24];
	struct utsname u;

	pg_features_probe(feat);
	pg_libbpf_runtime_version(run, sizeof(run));
	uname(&u);
	v.libbpf_runtime = run;
	v.kernel = u.release;
	for (int i = 0; i < PG_FEAT__COUNT && i < PG_VIEW_MAX_FEATURES; i++) {
		v.feat[i].name = feat[i].name;
		v.feat[i].state = feat[i].state;
		v.feat[i].how = feat[i].how;
		v.nfeat++;
	}
	view_version(ctx, &v);
	return PG_EXIT_OK;
}
