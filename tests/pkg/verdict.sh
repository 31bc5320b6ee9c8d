# shellcheck shell=bash
# Sourced by the packaging checks (scripts/check-man.sh, tests/pkg/*.sh):
# verdict NAME DETAIL-WHEN-FAILED COMMAND... runs COMMAND and counts it in
# $pass or $fail, printing "ok" or "FAIL NAME: DETAIL".
pass=0 fail=0
verdict() {
	local name=$1 detail=$2
	shift 2
	if "$@"; then
		pass=$((pass + 1))
		echo "  ok   $name"
	else
		fail=$((fail + 1))
		echo "  FAIL $name${detail:+: $detail}"
	fi
}
