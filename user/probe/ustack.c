// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <elfutils/libdwfl.h>
#include "probe/ustack.h"

struct scan_ctx {
	const struct ustack_range *ranges;
	int nranges;
	struct ustack_hit *hits;
	int max, n;
	int pid, tid;
	int frame;
	bool in_syscall;	/* the current thread, read while it is stopped */
	bool seen[64];		/* per function, for the current thread */
	int unwind_errors;
	Dwfl *dwfl;
};

static void read_comm(int pid, int tid, char *out, size_t len)
{
	char fn[64];
	FILE *f;

	snprintf(fn, sizeof(fn), "/proc/%d/task/%d/comm", pid, tid);
	out[0] = '\0';
	f = fopen(fn, "re");
	if (!f)
		return;
	if (fgets(out, (int)len, f))
		out[strcspn(out, "\n")] = '\0';
	fclose(f);
}

/*
 * Whether @tid sits in a system call: /proc/.../syscall starts with the
 * call's number then, and with -1 when the thread runs user code.  Read
 * while the thread is ptrace-stopped (during its unwind), so it describes
 * the same moment as the stack.
 */
static bool in_syscall(int pid, int tid)
{
	char fn[64], buf[64] = "";
	FILE *f;

	snprintf(fn, sizeof(fn), "/proc/%d/task/%d/syscall", pid, tid);
	f = fopen(fn, "re");
	if (!f)
		return false;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return buf[0] >= '0' && buf[0] <= '9';
}

static int frame_cb(Dwfl_Frame *frame, void *arg)
{
	struct scan_ctx *c = arg;
	bool activation;
	Dwarf_Addr pc;

	if (c->frame == 0)
		c->in_syscall = in_syscall(c->pid, c->tid);
	if (!dwfl_frame_pc(frame, &pc, &activation))
		return DWARF_CB_ABORT;
	/* a return address points after the call: look at the call itself */
	if (!activation)
		pc--;
	for (int i = 0; i < c->nranges && i < 64; i++) {
		if (pc < c->ranges[i].start || pc >= c->ranges[i].end || c->seen[i])
			continue;
		c->seen[i] = true;
		if (c->n < c->max) {
			struct ustack_hit *h = &c->hits[c->n++];

			h->tid = c->tid;
			h->func = i;
			h->frame = c->frame;
			h->in_syscall = c->in_syscall;
			read_comm(c->pid, c->tid, h->comm, sizeof(h->comm));
			h->sym[0] = '\0';
			if (c->ranges[i].by_symbol) {
				Dwfl_Module *mod = dwfl_addrmodule(c->dwfl, pc);
				const char *s = mod ? dwfl_module_addrname(mod, pc) : NULL;

				if (s)
					snprintf(h->sym, sizeof(h->sym), "%s", s);
			}
		}
	}
	c->frame++;
	return c->frame > 256 ? DWARF_CB_ABORT : DWARF_CB_OK;
}

static int thread_cb(Dwfl_Thread *thread, void *arg)
{
	struct scan_ctx *c = arg;

	c->tid = (int)dwfl_thread_tid(thread);
	c->frame = 0;
	memset(c->seen, 0, sizeof(c->seen));
	/* an unwind that stops early (no CFI further up) still reported what it saw */
	if (dwfl_thread_getframes(thread, frame_cb, c) != 0 && c->frame == 0)
		c->unwind_errors++;
	return DWARF_CB_OK;
}

/*
 * A memfd's code (a ulp patch is mapped from one: "/memfd:NAME (deleted)")
 * has no path to open; its file is /proc/PID/map_files/START-END, START
 * the module's base.  *userdata: the pid (set_pid).  Else libdwfl's own.
 */
static int find_elf(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr base, char **file_name,
		    Elf **elfp)
{
	char dir[64], fn[64 + 256], pre[32];
	struct dirent *de;
	int fd = -1;
	DIR *d;

	if (strncmp(name, "/memfd:", 7) || !*userdata)
		return dwfl_linux_proc_find_elf(mod, userdata, name, base, file_name, elfp);
	snprintf(dir, sizeof(dir), "/proc/%d/map_files", *(int *)*userdata);
	snprintf(pre, sizeof(pre), "%llx-", (unsigned long long)base);
	d = opendir(dir);
	while (d && (de = readdir(d)) && fd < 0) {
		if (strncmp(de->d_name, pre, strlen(pre)))
			continue;
		snprintf(fn, sizeof(fn), "%s/%s", dir, de->d_name);
		fd = open(fn, O_RDONLY | O_CLOEXEC);
	}
	if (d)
		closedir(d);
	if (fd < 0)
		return dwfl_linux_proc_find_elf(mod, userdata, name, base, file_name, elfp);
	*file_name = strdup(fn);
	return fd;
}

static int set_pid(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr start, void *arg)
{
	(void)mod;
	(void)name;
	(void)start;
	*userdata = arg;
	return DWARF_CB_OK;
}

int ustack_scan(int pid, const struct ustack_range *ranges, int nranges,
		struct ustack_hit *hits, int max, char *err, size_t errlen)
{
	static const Dwfl_Callbacks cbs = {
		.find_elf = find_elf,
		.find_debuginfo = dwfl_standard_find_debuginfo,
	};
	struct scan_ctx c = {
		.ranges = ranges, .nranges = nranges, .hits = hits, .max = max, .pid = pid,
	};
	Dwfl *dwfl = NULL;
	int e, ret = 0;

	dwfl = dwfl_begin(&cbs);
	if (!dwfl) {
		snprintf(err, errlen, "libdw: %s", dwfl_errmsg(-1));
		return -ENOMEM;
	}
	e = dwfl_linux_proc_report(dwfl, pid);
	if (e) {
		ret = e > 0 ? -e : -ESRCH;
		snprintf(err, errlen, "cannot read the mappings of pid %d: %s", pid, strerror(-ret));
		goto cleanup;
	}
	dwfl_report_end(dwfl, NULL, NULL);
	dwfl_getmodules(dwfl, set_pid, &c.pid, 0);
	c.dwfl = dwfl;
	e = dwfl_linux_proc_attach(dwfl, pid, false);
	if (e) {
		ret = e > 0 ? -e : -EPERM;
		snprintf(err, errlen, "cannot trace pid %d: %s%s", pid, strerror(-ret),
			 ret == -EPERM ? " -- is another tracer attached, or are you not root?" : "");
		goto cleanup;
	}
	if (dwfl_getthreads(dwfl, thread_cb, &c) < 0 && !c.n && c.unwind_errors) {
		ret = -EIO;
		snprintf(err, errlen, "cannot unwind the threads of pid %d: %s", pid, dwfl_errmsg(-1));
		goto cleanup;
	}
	ret = c.n;
cleanup:
	dwfl_end(dwfl);
	return ret;
}
