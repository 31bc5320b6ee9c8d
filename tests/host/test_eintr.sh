#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# EINTR after a ptrace stop (issue 10, item 8): the calls that
# docs/operator-guide.md and docs/patch-authoring.md say return EINTR at an
# apply or a revert do so, and the calls they say restart never do.  One
# thread of bench/eintr/eintr-probe is blocked in each call (no signal
# handler anywhere); a few apply/revert cycles with --no-gate; the probe
# counts the EINTR returns per call.  The measurement over more cycles is
# bench/eintr/run.sh's.  Needs root.
source "$(dirname "$0")/lib.sh"
OUT=$ROOT/.output/bench
mkdir -p "$OUT"
if ! { make -s -C "$ROOT/tests/host/ulp" OUT="$ROOT/.output/ulp-tests" >/dev/null &&
	cc -O2 -g -fno-pie -pg -mfentry -mnop-mcount -c "$ROOT/bench/eintr/eintr-probe.c" -o "$OUT/eintr-probe.o" &&
	cc -no-pie "$OUT/eintr-probe.o" -o "$OUT/eintr-probe" -lpthread; }; then
	echo "host-eintr: 0 passed, 1 failed"
	exit 1
fi
CYCLES=${PG_EINTR_CYCLES:-3}
P=$ROOT/.output/ulp-tests/good-any.so

mkfifo "$TMP/in"
"$OUT/eintr-probe" calls <"$TMP/in" >"$TMP/out" &
BG_PIDS+=($!)
exec {FD}>"$TMP/in"
for _ in $(seq 100); do grep -q '^ready' "$TMP/out" && break; sleep 0.1; done
T=$(awk '/^ready/ {print $2}' "$TMP/out")
check "the probe is ready" [ -n "$T" ]
sleep 0.5
fails=0
for _ in $(seq "$CYCLES"); do
	"$PG" apply --state-dir "$TMP/sd" --pid "$T" "$P" --no-gate --max-wait 20 -j >/dev/null 2>&1 || fails=$((fails + 1))
	sleep 0.3	# the interrupted threads go back into their calls
	"$PG" revert --state-dir "$TMP/sd" --pid "$T" -j >/dev/null 2>&1 || fails=$((fails + 1))
	sleep 0.3
done
check "$CYCLES apply/revert cycles succeed" [ $fails -eq 0 ]
: >"$TMP/out"
echo report >&"$FD"
for _ in $(seq 100); do grep -q '^end' "$TMP/out" && break; sleep 0.1; done
# the report was written after the file was cut to 0 at the writer's old offset: NULs before it
tr -d '\000' <"$TMP/out" >"$TMP/report"
n() { awk -v c="$1" '$1 == c {print $2}' "$TMP/report"; }
ops=$((2 * CYCLES))
echo "   EINTR per call over $ops operations: $(awk '$1 != "end" {printf "%s=%s ", $1, $2}' "$TMP/report")"
for c in "epoll_wait(-1)" "epoll_wait(60s)" "sigtimedwait(60s)" "recv(SO_RCVTIMEO)" "accept(SO_RCVTIMEO)"; do
	check "$c returns EINTR at every apply and revert (documented)" [ "$(n "$c")" -ge $ops ]
done
for c in recv "poll(-1)" "select(NULL)" "read(pipe)" nanosleep clock_nanosleep pthread_cond_wait \
	pthread_cond_timedwait; do
	check "$c never returns EINTR (documented as restarting)" [ "$(n "$c")" = 0 ]
done
exec {FD}>&-
finish host-eintr
