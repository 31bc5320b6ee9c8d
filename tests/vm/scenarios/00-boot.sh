# The guest kernel has what the other scenarios need.
# shellcheck shell=dash
# shellcheck source=../guest/lib.sh
. /pg/lib.sh
check "livepatch sysfs" test -d /sys/kernel/livepatch
check "vmlinux BTF" test -s /sys/kernel/btf/vmlinux
check "kallsyms has cmdline_proc_show" grep -q ' cmdline_proc_show$' /proc/kallsyms
check "patchgate runs" $PG --help
verdict "$(uname -r)"
