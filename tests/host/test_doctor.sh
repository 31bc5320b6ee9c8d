#!/usr/bin/env bash
# patchgate --version and patchgate doctor on this machine: the version from
# git describe, the libbpf built with, the kernel features told the way
# docs/json.md says, and doctor's verdict against what this host has, as root
# and as an unprivileged user.
# shellcheck source=tests/host/lib.sh
. "$(dirname "$0")/lib.sh"

BIN=$ROOT/.output/patchgate

echo "== --version"
out=$("$PG" --version)
check "--version names the build (first line 'patchgate VERSION')" \
	test -n "$(echo "$out" | head -1 | grep -E '^patchgate [0-9]+\.[0-9]+\.[0-9]+')"
for f in btf livepatch fentry kprobe uprobe uprobe_multi uprobe_session uprobe_nop5; do
	check "--version reports $f, with how it was told" \
		test -n "$(echo "$out" | grep -E "^  $f +(yes|no|unknown) +[^ ]")"
done
"$PG" --version -j >"$TMP/v.json"
"$PG" -j --version >"$TMP/v2.json"
check "--version -j and -j --version print the same record" cmp -s "$TMP/v.json" "$TMP/v2.json"
if h=$(git -C "$ROOT" describe --always 2>/dev/null); then
	check "the version carries git describe ($h)" \
		test "$(jlast "$TMP/v.json" version "'$h' in r['version']")" = True
fi
built=$(sed -n 's/^#define LIBBPF_MAJOR_VERSION \([0-9]*\)/\1/p' /usr/include/bpf/libbpf_version.h).$(
	sed -n 's/^#define LIBBPF_MINOR_VERSION \([0-9]*\)/\1/p' /usr/include/bpf/libbpf_version.h)
check "libbpf is the one built with ($built)" test "$(jlast "$TMP/v.json" version "r['libbpf']")" = "$built"
check "kernel is uname -r" test "$(jlast "$TMP/v.json" version "r['kernel']")" = "$(uname -r)"
feat() { jlast "$TMP/v.json" version "r['features']['$1']"; }
want() { if "$@"; then echo True; else echo False; fi; }
check "btf matches /sys/kernel/btf/vmlinux" test "$(feat btf)" = "$(want test -r /sys/kernel/btf/vmlinux)"
check "livepatch matches /sys/kernel/livepatch" test "$(feat livepatch)" = "$(want test -d /sys/kernel/livepatch)"
check "uprobe matches the uprobe PMU" \
	test "$(feat uprobe)" = "$(want test -e /sys/bus/event_source/devices/uprobe/type)"
# the BTF checks, against bpftool's dump of the same BTF
bpftool btf dump file /sys/kernel/btf/vmlinux >"$TMP/btf.txt" 2>/dev/null
check "uprobe_multi matches BPF_TRACE_UPROBE_MULTI in the kernel's BTF" \
	test "$(feat uprobe_multi)" = "$(want grep -q "'BPF_TRACE_UPROBE_MULTI'" "$TMP/btf.txt")"
check "uprobe_session matches BPF_TRACE_UPROBE_SESSION in the kernel's BTF" \
	test "$(feat uprobe_session)" = "$(want grep -q "'BPF_TRACE_UPROBE_SESSION'" "$TMP/btf.txt")"
check "uprobe_nop5 matches struct uprobe_trampoline in the kernel's BTF" \
	test "$(feat uprobe_nop5)" = "$(want grep -q "STRUCT 'uprobe_trampoline'" "$TMP/btf.txt")"
check "fentry is told (true or false) as root" test "$(feat fentry)" != None

echo "== doctor as root"
for scope in "" --process --kernel; do
	"$PG" doctor ${scope:+"$scope"} -j >"$TMP/d.json"; rc=$?
	ok=$(jlast "$TMP/d.json" doctor "r['ok']")
	missing=$(python3 -c 'import json,sys
n=0
for l in open(sys.argv[1]):
    r=json.loads(l)
    n+=r["type"]=="check" and r["required"] and not r["ok"]
print(n)' "$TMP/d.json")
	check "doctor ${scope:-(all)}: exit $rc agrees with ok=$ok and $missing failed required checks" \
		test "$rc" -eq "$([ "$missing" -eq 0 ] && echo 0 || echo 1)" -a "$ok" = "$([ "$missing" -eq 0 ] && echo True || echo False)"
done
"$PG" doctor --process -j >"$TMP/p.json"; rc=$?
check "doctor --process passes here as root (exit 0): this host patches processes" test "$rc" -eq 0
check "doctor --process checks no kernel-only need" test -z "$(grep -E '"check":"(livepatch|modules|cap_sys_module)"' "$TMP/p.json")"
check "doctor --process: exec_watch saw its test exec (the rollout's exec tracepoint, root)" \
	grep -q '"check":"exec_watch","ok":true,"required":false' "$TMP/p.json"
"$PG" doctor --kernel -j >"$TMP/k.json"; rc=$?
lp=$(python3 -c 'import json,sys
print(next(r["ok"] for r in map(json.loads, open(sys.argv[1])) if r.get("check")=="livepatch"))' "$TMP/k.json")
check "doctor --kernel: the livepatch check matches /sys/kernel/livepatch" \
	test "$lp" = "$(want test -d /sys/kernel/livepatch)"
if [ ! -d /sys/kernel/livepatch ]; then
	check "doctor --kernel fails here (exit 1): no livepatch on this kernel" test "$rc" -eq 1
	out=$("$PG" doctor --kernel)
	check "the plain report says MISSING livepatch and how to get it (CONFIG_LIVEPATCH)" \
		test -n "$(echo "$out" | grep -A2 '^MISSING  livepatch' | grep 'fix:.*CONFIG_LIVEPATCH')"
fi

echo "== doctor without privileges"
# a copy the unprivileged user can reach, in a directory of its own
NB=$(mktemp -d /tmp/pg-doctor.XXXXXX)
chmod 755 "$NB"
cp "$BIN" "$NB/patchgate"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	"$NB/patchgate" doctor --process -j); rc=$?
echo "$out" >"$PG_JSON_DIR/$PG_JSON_TEST-unprivileged.jsonl"
check "doctor --process as nobody fails (exit 1)" test "$rc" -eq 1
check "it names CAP_SYS_PTRACE as missing, and how to get it" \
	test -n "$(echo "$out" | grep '"check":"cap_sys_ptrace","ok":false' | grep '"fix":"run as root, or grant CAP_SYS_PTRACE')"
check "it names CAP_BPF as missing" test -n "$(echo "$out" | grep '"check":"cap_bpf","ok":false')"
check "exec_watch as nobody: not ok, a note (required false) with the fallback named" \
	test -n "$(echo "$out" | grep '"check":"exec_watch","ok":false,"required":false' | grep 'walking /proc')"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$NB/patchgate" --version -j)
echo "$out" >>"$PG_JSON_DIR/$PG_JSON_TEST-unprivileged.jsonl"
check "--version as nobody still works; fentry is true, false or null" \
	test -n "$(echo "$out" | grep -E '"fentry":(true|false|null)')"
rm -rf "$NB"

echo "== doctor: the state directory and bad input"
mkdir -m 777 "$TMP/open"
out=$("$PG" doctor --process --state-dir "$TMP/open" -j); rc=$?
check "a world-writable --state-dir fails the state_dir check (exit 1, with a fix)" \
	test "$rc" -eq 1 -a -n "$(echo "$out" | grep '"check":"state_dir","ok":false' | grep '"fix"')"
out=$("$PG" doctor --process --kernel -j); rc=$?
check "doctor --process --kernel is a usage error (exit 1)" \
	test "$rc" -eq 1 -a -n "$(echo "$out" | grep '"type":"error"' | grep 'at most one')"
out=$("$PG" doctor extra -j); rc=$?
check "doctor with an argument is a usage error (exit 1)" test "$rc" -eq 1 -a -n "$(echo "$out" | grep 'unexpected argument')"
"$PG" doctor --bogus >/dev/null 2>&1; rc=$?
check "doctor --bogus is a usage error (exit 1)" test "$rc" -eq 1
check "help doctor prints its usage" test -n "$("$PG" help doctor | grep -- '--process')"

finish doctor
