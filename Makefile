# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# patchgate: one Makefile.  Outputs go to .output/; V=1 for verbose.
#
#   make               build .output/patchgate (and the examples)
#   make deps          install missing Debian packages (as root)
#   make check         layers, lint, unit (plain + ASan/UBSan), host, then VM tests
#   make check-unit | check-host | check-vm | check-layers | lint
#   make check-vm-matrix  the VM tests on each Debian kernel (not in make check)
#   make check-vm-syscall 56-gate-syscall-revert with 100 rounds (make check: 20)
#   make check-fleet   the Ansible rollout recipe (deploy/ansible) against local hosts
#   make check-rollout patchgate rollout on 8 local processes, 10 SIGKILLs + --resume
#   make man           the man pages, into .output/man (help2man, pandoc)
#   make check-man     they render without warnings and match --help
#   make install       PREFIX=/usr/local DESTDIR= (GNU conventions); make uninstall
#   make check-install install into a temporary DESTDIR, check, uninstall
#   make deb           the Debian package (debian/), into .output/deb; fails on a
#                      lintian error (in make check)
#   make check-package install it into a clean debootstrapped chroot and try it
#                      (not in make check: ~15 min the first time, 8 of them
#                      debootstrap; the chroot is cached under .cache/pkg)
#   make demo          the gated live-patch demo
#   make demo-top      the demo with patchgate top beside it (tmux)
#   make bench         run the benchmarks under bench/ (each draws its figures)
#   make plots         redraw the benchmark figures in docs/img from bench/results
#   make check-plots   they redraw, are valid PNGs with data, and docs/benchmarks.md
#                      embeds every one (about 15 s)

OUTPUT := .output

CLANG ?= clang
CC ?= cc
BPFTOOL ?= bpftool
ARCH := x86
VMLINUX := vmlinux/$(ARCH)/vmlinux.h

# A fresh machine has none of the build packages: say so in one line rather
# than fail in the compiler.  Goals that install their own packages (check,
# demo, bench, ...) or need none are exempt.
SELF_INSTALLING := deps deps-build deps-lint deps-pkg check check-unit check-host check-vm \
	check-vm-matrix check-vm-syscall check-layers lint demo demo-top bench clean vmlinux check-man check-install \
	deb check-package check-fleet check-rollout
SELF_INSTALLING += deps-plot plots check-plots
ifneq ($(filter-out $(SELF_INSTALLING),$(or $(MAKECMDGOALS),all)),)
BUILD_NEEDS := /usr/include/bpf/bpf_helpers.h /usr/include/elfutils/libdwfl.h \
	/usr/include/json-c/json.h /usr/include/ini.h /usr/include/cmocka.h \
	/usr/include/openssl/evp.h
ifneq ($(strip $(foreach f,$(BUILD_NEEDS),$(if $(wildcard $(f)),,$(f))) \
	$(foreach t,$(CLANG) $(BPFTOOL),$(if $(shell command -v $(t) 2>/dev/null),,$(t)))),)
$(error the build packages are missing: run 'make deps' as root first)
endif
endif

ifeq ($(V),1)
	Q =
	msg =
else
	Q = @
	msg = @printf '  %-8s %s%s\n' "$(1)" "$(patsubst $(abspath $(OUTPUT))/%,%,$(2))" "$(if $(3), $(3))";
	MAKEFLAGS += --no-print-directory
endif

# Clang's own system include paths, so BPF code sees asm/ and friends.
CLANG_BPF_SYS_INCLUDES := $(shell $(CLANG) -v -E - </dev/null 2>&1 \
	| sed -n '/<...> search starts here:/,/End of search list./{ s| \(/.*\)|-idirafter \1|p }')

INCLUDES := -Iinclude -Iuser -I$(OUTPUT)
CFLAGS ?= -g -O2
CFLAGS += -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE $(INCLUDES)
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
	-I$(dir $(VMLINUX)) -Iinclude -Ibpf $(CLANG_BPF_SYS_INCLUDES)
LIBS := -lbpf -lelf -ldw -lz -lzstd -ljson-c -linih -lncursesw -ltinfo -lcrypto -lmicrohttpd -lm \
	-lpthread
# Statically linked build for the QEMU guest (tests/vm).
STATIC_LIBS := -static -lbpf -ldw -lelf -lz -lzstd -llzma -lbz2 -ljson-c -linih \
	-lncursesw -ltinfo -lcrypto -lm -lpthread -ldl

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/bpf/%.bpf.o,$(BPF_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.skel.h,$(BPF_SRCS))

CORE_SRCS := $(sort $(wildcard user/core/*.c))
USER_SRCS := $(sort $(filter-out $(CORE_SRCS),$(wildcard user/*/*.c user/*/*/*.c)))
CORE_OBJS := $(patsubst %.c,$(OUTPUT)/%.o,$(CORE_SRCS))
USER_OBJS := $(patsubst %.c,$(OUTPUT)/%.o,$(USER_SRCS))

UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(UNIT_SRCS))
ASAN_DIR := $(OUTPUT)/asan
ASAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
ASAN_CORE_OBJS := $(patsubst %.c,$(ASAN_DIR)/%.o,$(CORE_SRCS))
ASAN_UNIT_BINS := $(patsubst tests/unit/%.c,$(ASAN_DIR)/tests/%,$(UNIT_SRCS))

BIN := $(OUTPUT)/patchgate

# The version --version prints: git describe at build time ("0.2.0-3-gabc1234"
# from a tag v0.2.0, "0.1.0-g31acb1b" before the first tag, "-dirty" with
# uncommitted changes).  debian/rules passes the package's version instead.
BASE_VERSION := 0.1.0
ifndef PG_VERSION
PG_VERSION := $(shell v=$$(git describe --tags --dirty --match 'v[0-9]*' 2>/dev/null) && echo "$${v\#v}" || \
	{ h=$$(git describe --always --dirty 2>/dev/null) && echo "$(BASE_VERSION)-g$$h"; } || echo "$(BASE_VERSION)")
endif

.PHONY: all deps deps-build deps-lint deps-pkg man check-man install uninstall check-install \
	deb check-package check check-unit check-unit-plain check-unit-asan \
	check-host check-vm check-vm-matrix check-vm-syscall check-layers lint demo demo-top bench examples static clean \
	check-exporter \
	vmlinux check-fleet check-rollout FORCE
.DELETE_ON_ERROR:
.SECONDARY:

all: $(BIN) examples

deps:
	$(Q)scripts/deps.sh all

deps-build:
	$(Q)scripts/deps.sh build

deps-lint:
	$(Q)scripts/deps.sh lint

deps-pkg:
	$(Q)scripts/deps.sh pkg

vmlinux:
	$(Q)scripts/gen-vmlinux.sh

# ---- BPF -> skeleton -> user objects -> binary ---------------------------

$(OUTPUT) $(OUTPUT)/bpf $(OUTPUT)/tests $(ASAN_DIR)/tests:
	$(Q)mkdir -p $@

$(OUTPUT)/bpf/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.bpf.h) include/patchgate/abi.h $(VMLINUX) | $(OUTPUT)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@.tmp
	$(Q)$(BPFTOOL) gen object $@ $@.tmp
	$(Q)rm -f $@.tmp

$(OUTPUT)/%.skel.h: $(OUTPUT)/bpf/%.bpf.o | $(OUTPUT)
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@

$(OUTPUT)/user/%.o: user/%.c $(SKELS) $(wildcard include/patchgate/*.h) | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

# rewritten only when the version changes, so that a commit rebuilds main.o alone
$(OUTPUT)/pg_version.h: FORCE | $(OUTPUT)
	$(Q)printf '#define PG_VERSION "%s"\n' '$(PG_VERSION)' >$@.tmp
	$(Q)if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

$(OUTPUT)/user/cmd/main.o: $(OUTPUT)/pg_version.h

$(OUTPUT)/libpgcore.a: $(CORE_OBJS)
	$(call msg,AR,$@)
	$(Q)$(AR) rcs $@ $^

$(BIN): $(USER_OBJS) $(OUTPUT)/libpgcore.a
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ $(LIBS) -o $@

# ---- the exporter (libmicrohttpd): left out of the static guest build ---
# libmicrohttpd links GnuTLS, which Debian ships without a static archive;
# the static binary has no `exporter` command (main.c: PG_NO_EXPORTER).
EXPORTER_SRCS := \
	user/cmd/cmd_exporter.c \
	user/gate/exporter.c
EXPORTER_OBJS := $(patsubst %.c,$(OUTPUT)/%.o,$(EXPORTER_SRCS))
STATIC_OBJS := $(filter-out $(EXPORTER_OBJS) $(OUTPUT)/user/cmd/main.o,$(USER_OBJS)) \
	$(OUTPUT)/static/user/cmd/main.o

$(OUTPUT)/static/user/cmd/main.o: user/cmd/main.c $(OUTPUT)/pg_version.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -DPG_NO_EXPORTER -MMD -MP -c $< -o $@

# the exporter's host test alone (also run by check-host: tests/host/run.sh)
check-exporter: $(BIN) examples
	$(Q)scripts/deps.sh test
	$(Q)bash tests/host/test_exporter.sh

static: $(OUTPUT)/static/patchgate
$(OUTPUT)/static/patchgate: $(STATIC_OBJS) $(OUTPUT)/libpgcore.a
	$(call msg,STATIC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $^ $(STATIC_LIBS) -o $@

# ---- examples (demo service, patches): their own Makefile ---------------

examples:
	$(Q)$(MAKE) -C examples OUTPUT=$(abspath $(OUTPUT))/examples

# ---- man pages: generated from --help (help2man) and docs/policy.md (pandoc)

MAN_DIR := $(OUTPUT)/man
MAN_SRCS := $(BIN) docs/policy.md scripts/gen-man.sh scripts/man-tables.lua

man: $(MAN_DIR)/.stamp
$(MAN_DIR)/.stamp: $(MAN_SRCS)
	$(call msg,MAN,$(MAN_DIR))
	$(Q)rm -rf $(MAN_DIR)
	$(Q)scripts/gen-man.sh $(BIN) $(MAN_DIR) '$(PG_VERSION)' >/dev/null
	$(Q)touch $@

check-man: deps-build deps-pkg
	$(Q)$(MAKE) man
	$(Q)scripts/check-man.sh $(BIN) $(MAN_DIR)

# ---- install, uninstall: GNU conventions (prefix, DESTDIR, the *dir variables)

PREFIX ?= /usr/local
prefix ?= $(PREFIX)
exec_prefix ?= $(prefix)
sbindir ?= $(exec_prefix)/sbin
sysconfdir ?= $(prefix)/etc
datarootdir ?= $(prefix)/share
mandir ?= $(datarootdir)/man
docdir ?= $(datarootdir)/doc/patchgate
bashcompdir ?= $(datarootdir)/bash-completion/completions
# Debian 12 keeps units in /lib/systemd/system (debian/rules says so)
systemdunitdir ?= $(prefix)/lib/systemd/system
INSTALL ?= install
INSTALL_PROGRAM ?= $(INSTALL)
INSTALL_DATA ?= $(INSTALL) -m 644

UNITS := $(patsubst deploy/systemd/%.in,%,$(wildcard deploy/systemd/*.service.in))
POLICIES := $(wildcard examples/policies/*.ini)
DOCS := README.md $(wildcard docs/*.md)

install: $(BIN) man
	$(call msg,INSTALL,$(DESTDIR)$(prefix))
	$(Q)$(INSTALL) -d $(DESTDIR)$(sbindir) $(DESTDIR)$(mandir)/man5 $(DESTDIR)$(mandir)/man8 \
		$(DESTDIR)$(docdir)/examples $(DESTDIR)$(docdir)/schema $(DESTDIR)$(bashcompdir) \
		$(DESTDIR)$(systemdunitdir)
	$(Q)$(INSTALL_PROGRAM) $(BIN) $(DESTDIR)$(sbindir)/patchgate
	$(Q)$(INSTALL_DATA) $(MAN_DIR)/*.8 $(DESTDIR)$(mandir)/man8/
	$(Q)$(INSTALL_DATA) $(MAN_DIR)/*.5 $(DESTDIR)$(mandir)/man5/
	$(Q)$(INSTALL_DATA) $(POLICIES) deploy/systemd/apply-example.conf deploy/systemd/rollout-example.conf $(DESTDIR)$(docdir)/examples/
	$(Q)$(INSTALL_DATA) $(DOCS) $(DESTDIR)$(docdir)/
	$(Q)$(INSTALL_DATA) docs/schema/patchgate.schema.json $(DESTDIR)$(docdir)/schema/
	$(Q)$(INSTALL_DATA) completion/patchgate $(DESTDIR)$(bashcompdir)/patchgate
	$(Q)for u in $(UNITS); do \
		sed -e 's|@SBINDIR@|$(sbindir)|g' -e 's|@SYSCONFDIR@|$(sysconfdir)|g' deploy/systemd/$$u.in \
			>$(DESTDIR)$(systemdunitdir)/$$u.tmp && \
		chmod 644 $(DESTDIR)$(systemdunitdir)/$$u.tmp && \
		mv $(DESTDIR)$(systemdunitdir)/$$u.tmp $(DESTDIR)$(systemdunitdir)/$$u || exit 1; \
	done

# Removes what install wrote, and the directories that are patchgate's own.
uninstall:
	$(call msg,UNINSTALL,$(DESTDIR)$(prefix))
	$(Q)rm -f $(DESTDIR)$(sbindir)/patchgate $(DESTDIR)$(bashcompdir)/patchgate \
		$(DESTDIR)$(mandir)/man8/patchgate.8 $(DESTDIR)$(mandir)/man8/patchgate-*.8 \
		$(DESTDIR)$(mandir)/man5/patchgate-policy.5 \
		$(addprefix $(DESTDIR)$(systemdunitdir)/,$(UNITS))
	$(Q)rm -rf $(DESTDIR)$(docdir)

check-install: deps-build deps-pkg
	$(Q)$(MAKE) man
	$(Q)tests/pkg/check-install.sh

# ---- the Debian package: debian/ (debhelper), built from a copy of the tree

DEB_DIR := $(OUTPUT)/deb

deb: deps-build deps-pkg
	$(Q)scripts/build-deb.sh $(DEB_DIR)

check-package: deps-build deps-pkg
	$(Q)scripts/build-deb.sh $(DEB_DIR)
	$(Q)tests/pkg/check-package.sh $(DEB_DIR)

# ---- unit tests: cmocka, plain and under ASan+UBSan ----------------------

# Some tests include sources directly: test_audit.c view/audit.c,
# test_bpf_hist.c the BPF bucket function, test_pgmaps.c probe/pgmaps.c,
# test_seccomp.c backend/ulp/ulp_seccomp.c.
UNIT_UI_DEPS := $(wildcard user/view/*.c user/view/*.h bpf/*.bpf.h user/probe/pgmaps.* user/backend/ulp/ulp_seccomp.*)

$(OUTPUT)/tests/%: tests/unit/%.c $(OUTPUT)/libpgcore.a $(UNIT_UI_DEPS) | $(OUTPUT)/tests
	$(call msg,TEST-CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -Itests/unit $< $(OUTPUT)/libpgcore.a -lcmocka -linih -ljson-c -lm -o $@

$(ASAN_DIR)/user/%.o: user/%.c $(wildcard include/patchgate/*.h)
	$(call msg,ASAN-CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(ASAN_FLAGS) -MMD -MP -c $< -o $@

$(ASAN_DIR)/libpgcore.a: $(ASAN_CORE_OBJS)
	$(call msg,AR,$@)
	$(Q)$(AR) rcs $@ $^

$(ASAN_DIR)/tests/%: tests/unit/%.c $(ASAN_DIR)/libpgcore.a $(UNIT_UI_DEPS) | $(ASAN_DIR)/tests
	$(call msg,ASAN-TEST,$@)
	$(Q)$(CC) $(CFLAGS) $(ASAN_FLAGS) -Itests/unit $< $(ASAN_DIR)/libpgcore.a -lcmocka -linih -ljson-c -lm -o $@

check-unit-plain: $(UNIT_BINS)
	$(Q)tests/run-unit.sh $(UNIT_BINS)

check-unit-asan: $(ASAN_UNIT_BINS)
	$(Q)ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		tests/run-unit.sh $(ASAN_UNIT_BINS)

check-unit: deps-build
	$(Q)$(MAKE) check-unit-plain
	$(Q)$(MAKE) check-unit-asan

check-host:
	$(Q)scripts/deps.sh test
	$(Q)$(MAKE) all
	$(Q)tests/host/run.sh

check-vm:
	$(Q)scripts/deps.sh vm
	$(Q)$(MAKE) all
	$(Q)tests/vm/run.sh

# 56-gate-syscall-revert in its long form: 100 gated reverts of a getpid
# livepatch under loaders that never pause (make check: 20, loaders that
# pause 1 ms every 1000 calls)
check-vm-syscall:
	$(Q)scripts/deps.sh vm
	$(Q)$(MAKE) all
	$(Q)PGVM_SYSCALL_ROUNDS=100 PGVM_SYSCALL_PAUSE_US=0 PGVM_SCEN_TIMEOUT=3500 PGVM_TIMEOUT=3600 \
		tests/vm/run.sh 00-boot 56-gate-syscall-revert

# The VM tests on Debian 12, 13 and bookworm-backports' kernels, one after
# another (docs/kernel.md): too slow for make check.
check-vm-matrix:
	$(Q)scripts/deps.sh matrix
	$(Q)$(MAKE) all
	$(Q)tests/vm/matrix.sh

# ---- the fleet: the Ansible rollout recipe (deploy/ansible) run by Debian's
# ansible-core against an inventory of local hosts, each with its own
# demo-service (tests/fleet/run.sh: 159 s on a quiet 2-core host, 348 s on a
# loaded one); part of make check

check-fleet: deps-build
	$(Q)scripts/deps.sh fleet
	$(Q)$(MAKE) all
	$(Q)tests/fleet/run.sh

# ---- rollouts: tests/host/test_rollout.sh in its long form, 10 SIGKILLs of
# the rollout at random points, each followed by --resume (not in make check;
# the short form, 3 kills, runs with check-host)

check-rollout:
	$(Q)scripts/deps.sh test
	$(Q)$(MAKE) all
	$(Q)PG_ROLLOUT_KILLS=10 bash tests/host/test_rollout.sh

# Each directory under user/ is a layer; includes point down only.
check-layers:
	$(Q)scripts/check-layers.sh

lint: deps-lint
	$(Q)scripts/lint.sh

check: deps
	$(Q)$(MAKE) check-layers
	$(Q)$(MAKE) lint
	$(Q)$(MAKE) check-unit
	$(Q)$(MAKE) check-man
	$(Q)$(MAKE) check-install
	$(Q)$(MAKE) check-plots
	$(Q)$(MAKE) deb
	$(Q)$(MAKE) check-host
	$(Q)$(MAKE) check-fleet
	$(Q)$(MAKE) check-vm

demo: deps-build
	$(Q)$(MAKE) all
	$(Q)examples/demo.sh

# the demo under `patchgate top`, in tmux
demo-top: deps-build
	$(Q)$(MAKE) all
	$(Q)examples/demo-top.sh

bench: deps
	$(Q)$(MAKE) all
	$(Q)bench/run-all.sh

# ---- benchmark figures: bench/plot/*.gp (gnuplot), from bench/results/*

.PHONY: deps-plot plots check-plots

deps-plot:
	$(Q)scripts/deps.sh plot

plots: deps-plot
	$(Q)bench/plot/draw.sh

check-plots: deps-plot
	$(Q)tests/plots/check-plots.sh

# ---- report: `patchgate report` alone (the same tests run in check-unit and check-host)
.PHONY: check-report
check-report: deps-build
	$(Q)$(MAKE) all $(OUTPUT)/tests/test_report
	$(Q)tests/run-unit.sh $(OUTPUT)/tests/test_report
	$(Q)tests/host/test_report.sh

FORCE:

clean:
	$(call msg,CLEAN)
	$(Q)rm -rf $(OUTPUT)
	$(Q)$(MAKE) -C examples clean OUTPUT=$(abspath $(OUTPUT))/examples

# not the copy that make deb builds in
-include $(shell find $(OUTPUT) -path $(DEB_DIR) -prune -o -name '*.d' -print 2>/dev/null)
