# shellcheck shell=bash
# JSON hook of the host tests (sourced by lib.sh and test_ulp.sh): keeps every
# record a test gets from `patchgate -j` (its stdout), and the audit logs and
# phase files of the state directories it used, as *.jsonl files under
# $PG_JSON_DIR, for scripts/validate-json.py to check against
# docs/schema/patchgate.schema.json.  run.sh sets PG_JSON_DIR for the whole
# run and validates it at the end; with PG_JSON_DIR unset nothing is kept.
#
#   pg_json_wrapper BIN OUT  write OUT, a script that runs BIN through pg_json_exec
#   pg_json_run CMD...       run CMD (a function's way of calling patchgate)
#   pg_json_collect DIR...   keep the -j output files recorded so far, and every
#                            audit.log, gate-*.json, live/*.json and hist/*.json under DIR (call it before
#                            the test removes them)
PG_JSON_HOOK=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/jsonhook.sh
PG_JSON_TEST=${PG_JSON_TEST:-$(basename "$0" .sh)}
export PG_JSON_TEST

# pg_json_is_json ARGS...: is -j/--json among ARGS?
pg_json_is_json() {
	local a
	for a in "$@"; do
		case $a in -j | --json) return 0 ;; esac
	done
	return 1
}

# pg_json_exec CMD...: become CMD (same pid: signals and `wait` still reach
# patchgate).  With -j, its stdout is kept: a regular file is recorded and
# read at collect time (no copy in between that a reader could overtake);
# anything else (a pipe, $(...)) goes through tee, whose end the reader waits for.
pg_json_exec() {
	local out sub a me=$BASHPID
	if [ -z "${PG_JSON_DIR:-}" ] || ! pg_json_is_json "$@"; then
		exec "$@"
	fi
	out=$(readlink "/proc/$me/fd/1" || true)
	if [ -f "/proc/$me/fd/1" ] && [ -n "$out" ]; then
		printf '%s\n' "$out" >>"$PG_JSON_DIR/files.list"
		exec "$@"
	fi
	sub=cmd
	for a in "${@:2}"; do
		case $a in -*) ;; *) sub=$a; break ;; esac
	done
	out=$PG_JSON_DIR/$PG_JSON_TEST-$me-$sub.jsonl
	printf '%s\t%s\n' "${out##*/}" "$*" >>"$PG_JSON_DIR/commands.list"
	exec "$@" > >(tee -a "$out")
}

pg_json_run() {
	if [ -n "${PG_JSON_DIR:-}" ] && pg_json_is_json "$@"; then
		(pg_json_exec "$@")
	else
		"$@"
	fi
}

pg_json_wrapper() {
	printf '#!/usr/bin/env bash\n. %q\npg_json_exec %q "$@"\n' "$PG_JSON_HOOK" "$1" >"$2"
	chmod +x "$2"
}

pg_json_collect() {
	local f n=0 name
	[ -n "${PG_JSON_DIR:-}" ] || return 0
	if [ -f "$PG_JSON_DIR/files.list" ]; then
		# the files hold stderr too when the test said 2>&1: records are the {...} lines
		while read -r f; do
			n=$((n + 1))
			[ -f "$f" ] && grep -a '^{' "$f" >"$PG_JSON_DIR/$PG_JSON_TEST-file$n-${f##*/}.jsonl"
			printf '%s\t%s\n' "$PG_JSON_TEST-file$n-${f##*/}.jsonl" "$f" >>"$PG_JSON_DIR/commands.list"
		done < <(sort -u "$PG_JSON_DIR/files.list")
		rm -f "$PG_JSON_DIR/files.list"
	fi
	while read -r f; do
		name=${f#/}
		cp "$f" "$PG_JSON_DIR/$PG_JSON_TEST-state-${name//\//_}.jsonl"
	done < <(find "$@" \( -name audit.log -o -name 'gate-*.json' -o -path '*/live/*.json' -o -path '*/hist/*.json' \) -type f 2>/dev/null)
}
