#!/usr/bin/env bash
# `make demo-top`: the gated live-patch demo (demo.sh) in the lower pane of a
# tmux window, and `patchgate top` over the same state directory in the upper
# one.  Attaches when run from a terminal; otherwise runs detached and prints
# top's screen every few seconds (set DEMO_TOP_SHOTS for how many).  Needs root.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PG=$ROOT/.output/patchgate
STATE=$(mktemp -d /tmp/patchgate-demo-top.XXXXXX)
SOCK=pgdemo-$$
tm() { tmux -L "$SOCK" -f /dev/null "$@"; }
trap 'tm kill-server 2>/dev/null; rm -rf "$STATE"' EXIT

tm new-session -d -s demo -x "${COLUMNS:-120}" -y "${LINES:-50}" \
	"PG_DEMO_STATE=$STATE $ROOT/examples/demo.sh; echo; echo 'demo done: q in top to leave'; sleep 3600"
tm split-window -b -t demo -p 45 "$PG top --state-dir $STATE -d 0.5"
if [ -t 0 ] && [ -t 1 ]; then
	tm attach -t demo
	exit 0
fi
for _ in $(seq "${DEMO_TOP_SHOTS:-30}"); do
	sleep 5
	tm has-session -t demo 2>/dev/null || break
	echo "---- top"
	tm capture-pane -p -t demo.0 | sed '/^$/d'
done
