# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# patchgate: one Makefile.  Outputs go to .output/; V=1 for verbose.
#
#   make               build .output/patchgate (and the examples)
#   make deps          install missing Debian packages (as root)
#   make check         unit (plain + ASan/UBSan), host, then VM tests
#   make check-unit | check-host | check-vm
#   make demo          the gated live-patch demo
#   make bench         run the benchmarks under bench/

OUTPUT := .output
CLANG ?= clang
CC ?= cc
BPFTOOL ?= bpftool
ARCH := x86
VMLINUX := vmlinux/$(ARCH)/vmlinux.h

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
LIBS := -lbpf -lelf -ldw -lz -lzstd -ljson-c -linih -lncursesw -ltinfo -lm -lpthread
# Statically linked build for the QEMU guest (tests/vm).
STATIC_LIBS := -static -lbpf -ldw -lelf -lz -lzstd -llzma -lbz2 -ljson-c -linih \
	-lncursesw -ltinfo -lm -lpthread

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/bpf/%.bpf.o,$(BPF_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.skel.h,$(BPF_SRCS))

CORE_SRCS := $(sort $(wildcard user/core/*.c))
USER_SRCS := $(sort $(filter-out $(CORE_SRCS),$(wildcard user/*.c user/*/*.c)))
CORE_OBJS := $(patsubst %.c,$(OUTPUT)/%.o,$(CORE_SRCS))
USER_OBJS := $(patsubst %.c,$(OUTPUT)/%.o,$(USER_SRCS))

UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(UNIT_SRCS))
ASAN_DIR := $(OUTPUT)/asan
ASAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
ASAN_CORE_OBJS := $(patsubst %.c,$(ASAN_DIR)/%.o,$(CORE_SRCS))
ASAN_UNIT_BINS := $(patsubst tests/unit/%.c,$(ASAN_DIR)/tests/%,$(UNIT_SRCS))

BIN := $(OUTPUT)/patchgate

.PHONY: all deps deps-build check check-unit check-unit-plain check-unit-asan \
	check-host check-vm demo bench examples static clean vmlinux
.DELETE_ON_ERROR:
.SECONDARY:

all: $(BIN) examples

deps:
	$(Q)scripts/deps.sh all

deps-build:
	$(Q)scripts/deps.sh build

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
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(OUTPUT)/libpgcore.a: $(CORE_OBJS)
	$(call msg,AR,$@)
	$(Q)$(AR) rcs $@ $^

$(BIN): $(USER_OBJS) $(OUTPUT)/libpgcore.a
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LIBS) -o $@

static: $(OUTPUT)/static/patchgate
$(OUTPUT)/static/patchgate: $(USER_OBJS) $(OUTPUT)/libpgcore.a
	$(call msg,STATIC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $^ $(STATIC_LIBS) -o $@

# ---- examples (demo service, patches): their own Makefile ---------------

examples:
	$(Q)$(MAKE) -C examples OUTPUT=$(abspath $(OUTPUT))/examples

# ---- unit tests: cmocka, plain and under ASan+UBSan ----------------------

# Some tests include user/ui sources directly (test_audit.c: ui/audit.c).
UNIT_UI_DEPS := $(wildcard user/ui/*.c user/ui/*.h)

$(OUTPUT)/tests/%: tests/unit/%.c $(OUTPUT)/libpgcore.a $(UNIT_UI_DEPS) | $(OUTPUT)/tests
	$(call msg,TEST-CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/unit $< $(OUTPUT)/libpgcore.a -lcmocka -linih -ljson-c -lm -o $@

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

check-host: deps-build
	$(Q)$(MAKE) all
	$(Q)tests/host/run.sh

check-vm:
	$(Q)scripts/deps.sh vm
	$(Q)$(MAKE) all
	$(Q)tests/vm/run.sh

check: deps
	$(Q)$(MAKE) check-unit
	$(Q)$(MAKE) check-host
	$(Q)$(MAKE) check-vm

demo: deps-build
	$(Q)$(MAKE) all
	$(Q)examples/demo.sh

bench: deps
	$(Q)$(MAKE) all
	$(Q)bench/run-all.sh

clean:
	$(call msg,CLEAN)
	$(Q)rm -rf $(OUTPUT)
	$(Q)$(MAKE) -C examples clean OUTPUT=$(abspath $(OUTPUT))/examples

-include $(shell find $(OUTPUT) -name '*.d' 2>/dev/null)
