# shellcheck shell=bash
# Helpers for the host tests that drive tests/host/ulp/ulp-hostile (sourced
# after lib.sh; the test sets SD, the state directory, and P, the patch).
#   start NAME CMD...  run CMD (it prints "ready PID") with a fifo on its stdin; sets T
#                      (NAME: letters, digits and _, it names a variable)
#   ask NAME LINE      send LINE, print the one answer line ("timeout" when none
#                      comes within 3 s)
#   pg CMD ARGS...     patchgate CMD with the test's state directory
#   ours PID           how many mappings of a patch of ours PID has
#   nothing_left PID   no mapping of ours and no journal entry for PID
start() {
	local n=$1; shift
	mkfifo "$TMP/$n.in"
	"$@" <"$TMP/$n.in" >"$TMP/$n.out" 2>"$TMP/$n.err" &
	BG_PIDS+=($!)
	eval "exec {FD_$n}>\"$TMP/$n.in\""
	wait_for "$TMP/$n.out" '^ready' 5 || return 1
	T=$(awk '/^ready/ {print $2; exit}' "$TMP/$n.out")
	BG_PIDS+=("$T")
}
ask() {
	local n=$1 before fd
	before=$(wc -l <"$TMP/$n.out")
	eval "fd=\$FD_$n"
	(echo "$2" >&"$fd") 2>/dev/null || { echo "no reader"; return; }
	for _ in $(seq 150); do
		if [ "$(wc -l <"$TMP/$n.out")" -gt "$before" ]; then
			tail -n +$((before + 1)) "$TMP/$n.out" | head -1
			return
		fi
		sleep 0.02
	done
	echo timeout
}
pg() { "$PG" "$1" --state-dir "$SD" "${@:2}"; }
ours() { grep -c -e "patchgate:" -e "$P" "/proc/$1/maps"; }
nothing_left() { [ "$(ours "$1")" = 0 ] && ! cat "$SD"/ulp-"$1"-*.json 2>/dev/null | grep -q '"patch"'; }
