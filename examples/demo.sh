#!/usr/bin/env bash
# The README's demo: run the demo service under load and show patchgate at
# work on it.  Leaves nothing running.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PG=$ROOT/.output/patchgate
EX=$ROOT/.output/examples
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT
say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then echo "demo: run as root (BPF and ptrace)" >&2; exit 1; fi

say "Starting the demo service: 4 workers handling requests, 2 threads parked in pg_block()"
$EX/demo-service -t 4 -r 2000 -w request --block 2 2>/dev/null >/dev/null &
svc=$!; pids+=($svc)
sleep 0.5

say "patchgate watch: calls, in-flight, latency and probe kind of the functions a patch would replace"
$PG watch --pid $svc --interval 1 --duration 3 handle_request compute_answer pg_block

say "patchgate residency: which threads are inside pg_block() right now (a patch to it must wait)"
$PG residency --pid $svc pg_block

say "Releasing the parked threads"
kill -USR2 $svc
sleep 0.3
$PG residency --pid $svc pg_block

say "Gated apply of a patch (good, slow, blocked) comes with the gate; see docs/operator-guide.md"
$PG apply --pid $svc /dev/null --dry-run 2>&1 | sed 's/^/    /' || true
echo
echo "demo: done"
