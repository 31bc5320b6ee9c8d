#!/usr/bin/env bash
# rollout.sh ANSIBLE-PLAYBOOK-ARGS...: a patchgate rollout with its summary.
#
#   deploy/ansible/rollout.sh -i fleet.ini -e patchgate_patch=/var/lib/patchgate/fix.so \
#       -e patchgate_exe=/usr/sbin/parsed
#
# Runs rollout.yml.  When the rollout stops (a host failed: Ansible ends the
# whole run at max_fail_percentage, before the summary play), runs
# summary.yml with the same arguments, so that a stopped rollout is summed
# up too.  Exits with rollout.yml's exit status (0: every host committed or
# skipped; 2: a host failed and the rollout stopped; ansible-playbook(1)).
set -u
here=$(cd "$(dirname "$0")" && pwd)
ansible-playbook "$here/rollout.yml" "$@"
rc=$?
if [ "$rc" -ne 0 ]; then
	ansible-playbook "$here/summary.yml" "$@" || echo "rollout.sh: no summary (above)" >&2
fi
exit "$rc"
