/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Function symbols of a live process: /proc/PID/maps plus the ELF symbol
 * tables (.symtab when present, .dynsym otherwise) of every mapped file,
 * read with libelf.  Handles PIE and non-PIE executables and shared
 * libraries.
 */
#ifndef PG_OBSERVE_SYMBOLS_H
#define PG_OBSERVE_SYMBOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sym_proc;

/* One function resolved in one process. */
struct sym_func {
	char name[128];
	char object[4096];	/* path as the process maps it */
	char open_path[4200];	/* path to open from here: /proc/PID/map_files/<range> (the mapped file) */
	char soname[128];	/* DT_SONAME, or the file's basename */
	uint64_t st_value;	/* symbol value (link-time address) */
	uint64_t size;		/* st_size, 0 when unknown */
	uint64_t file_off;	/* file offset of the entry: what uprobes take */
	uint64_t addr;		/* runtime address of the entry in the process */
	uint64_t bias;		/* addr - st_value */
	bool is_main;		/* in the main executable */
	/* entry shape, read from the file (not memory, which may hold probes or jumps) */
	bool endbr;		/* starts with endbr64 */
	bool nop5;		/* a 5-byte nop at the entry (after endbr64, if any) */
	uint64_t probe_off;	/* file offset to probe: the nop5 when there is one */
};

/* Snapshot of a process's file mappings.  NULL with errno set on failure. */
struct sym_proc *sym_proc__new(int pid);
void sym_proc__free(struct sym_proc *sp);
int sym_proc__pid(const struct sym_proc *sp);

/*
 * Resolve "SYMBOL" (main executable first, then every mapped object, in
 * map order) or "OBJECT:SYMBOL" (OBJECT matches a mapping's basename, a
 * prefix of it such as "libz.so.1" for "libz.so.1.2.13", its DT_SONAME,
 * or its full path).  A name defined twice with different addresses in
 * the chosen object, or in several libraries with no main-executable
 * definition, is ambiguous.  On failure returns a negative errno and
 * writes a message (with near matches where there are any) to @err.
 */
int sym_proc__resolve(struct sym_proc *sp, const char *spec, struct sym_func *out,
		      char *err, size_t errlen);

/*
 * Look up @name in the mapped object matching @object (NULL: main
 * executable, then every object).  Unlike resolve, takes the first
 * definition, preferring global over local binding.  For relocation.
 */
int sym_proc__lookup(struct sym_proc *sp, const char *object, const char *name,
		     struct sym_func *out);

/* Number of mapped ELF objects and the path of the i-th (main executable first). */
int sym_proc__nobjs(const struct sym_proc *sp);
const char *sym_proc__obj_path(const struct sym_proc *sp, int i);
/*
 * Where to open the i-th object from here: /proc/PID/map_files/START-END
 * (the file the process maps, whatever its root or mount namespace), or
 * /proc/PID/root/PATH where map_files cannot be opened.
 */
const char *sym_proc__obj_open_path(const struct sym_proc *sp, int i);
/* Runtime load bias of the i-th object (addr = st_value + bias). */
uint64_t sym_proc__obj_bias(const struct sym_proc *sp, int i);

/*
 * The GNU build-id of an ELF file, as lowercase hex, into @hex (at least
 * 2*20+1 bytes).  Returns the number of id bytes, or a negative errno
 * (-ENOENT when the file has none).
 */
int sym_elf_build_id(const char *path, char *hex, size_t hexlen);

#endif
