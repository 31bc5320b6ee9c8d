/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared boilerplate of the test livepatches: one patch, objects and
 * functions given by the including file, enabled from module init.
 */
#ifndef PGVM_KLP_H
#define PGVM_KLP_H

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/livepatch.h>
#include <linux/processor.h>

/*
 * Spin for @ns of CLOCK_MONOTONIC, the clock the probes time with
 * (bpf_ktime_get_ns).  mdelay() counts TSC cycles against a calibration
 * that the TCG guest does not always keep: a patched function that ran
 * mdelay(2) was once timed at 26 us, and once at 244 us, while a reader
 * got its patched text.
 */
static inline void pgvm_spin_ns(u64 ns)
{
	u64 t0 = ktime_get_ns();

	while (ktime_get_ns() - t0 < ns)
		cpu_relax();
}

#define PGVM_KLP_MODULE(objs) PGVM_KLP_PATCH(objs, false)
/* a cumulative patch: replaces every patch enabled before it */
#define PGVM_KLP_REPLACE_MODULE(objs) PGVM_KLP_PATCH(objs, true)

#define PGVM_KLP_PATCH(objs, repl)					\
	static struct klp_patch pgvm_patch = {				\
		.mod = THIS_MODULE,					\
		.objs = objs,						\
		.replace = repl,					\
	};								\
	static int __init pgvm_init(void)				\
	{								\
		return klp_enable_patch(&pgvm_patch);			\
	}								\
	static void __exit pgvm_exit(void)				\
	{								\
	}								\
	module_init(pgvm_init);						\
	module_exit(pgvm_exit);						\
	MODULE_LICENSE("GPL");						\
	MODULE_INFO(livepatch, "Y")

#endif
