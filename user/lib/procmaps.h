/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one /proc/PID/maps reader.  Paths are kept whole (up to PATH_MAX,
 * spaces included); the " (deleted)" the kernel appends to a file that
 * was removed or replaced on disk is taken off the path and kept as a
 * flag.
 */
#ifndef PG_LIB_PROCMAPS_H
#define PG_LIB_PROCMAPS_H

#include <stdbool.h>
#include <stdint.h>

struct procmap {
	uint64_t start, end;	/* [start, end) */
	uint64_t off;		/* file offset of start */
	char perms[5];		/* "r-xp" */
	bool deleted;		/* the path ended in " (deleted)" (stripped) */
	const char *path;	/* "" for an anonymous mapping; "[heap]", "[stack]", ... */
};

struct procmaps {
	struct procmap *m;	/* in address order */
	int n;
};

/* Read /proc/@pid/maps.  Returns 0, -ESRCH (no such process), -ENOMEM, -errno. */
int procmaps__read(int pid, struct procmaps **out);

/*
 * The id under which /proc shows @pid's memory: @pid itself, or, when its
 * main thread has exited (pthread_exit) while other threads run on, one of
 * those (/proc/PID/maps, mem, exe, root, fd and map_files of a zombie main
 * thread are empty or gone; /proc/TID/... of a live thread are not).
 */
int procmaps__view_pid(int pid);
/* Accepts NULL. */
void procmaps__free(struct procmaps *pm);

/*
 * Start time of @pid (clock ticks since boot, /proc/PID/stat field 22):
 * with the pid, it names one process for good.  -ESRCH when gone.
 */
int pg_proc_starttime(int pid, unsigned long long *out);
/* The state letter of /proc/TID/stat (R, S, D, T, t, Z, X, ...); '?' when it cannot be read. */
char pg_proc_state(int tid);
/* TracerPid of thread @tid of process @pid (0: none, -1: unreadable). */
int pg_proc_tracer(int pid, int tid);
/*
 * The other live processes that run @pid's binary: their executables have
 * the build-id of @pid's (the same file, or a copy of it).  Up to @max of
 * their pids into @out, in pid order; returns how many there are (which may
 * be more than @max), or a negative errno about @pid (-ENOENT: no such
 * process, or an executable without a build-id).
 */
int pg_procs_same_binary(int pid, int *out, int max);
/*
 * The live processes that map an object with build-id @build_id (hex), as
 * their executable or as a library, other than @skip and this process:
 * up to @max pids into @out, in pid order.  Returns how many there are
 * (which may be more than @max), or a negative errno.
 */
int pg_procs_mapping_build_id(const char *build_id, int skip, int *out, int max);
/* Does live process @pid map an object with build-id @build_id (executable or library)? */
bool pg_proc_maps_build_id(int pid, const char *build_id);

#endif
