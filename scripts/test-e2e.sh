#!/usr/bin/env bash
# `make test-e2e`: the slow tier (real processes end to end), also run by CI.
#
# Three pytest runs. The VM tier (tests/provision/test_deploy_vm.py: a fresh Bookworm under
# qemu TCG, first deploy and no-change re-run, ~25 min) mostly keeps one core busy, so it runs
# alongside the other two (~10 min, one core): the tier's wall time is the VM's, not the sum.
# The desktop's end-to-end tests get a process of their own: the Qt event loop must not share
# a process with what the integration tests leave behind (threads, loops, engines).
# With FLYPACK_WITH_JOURNEYS=1 (CI) the journeys tier (tests/journeys) runs in the same window.
# Exit status 5 (nothing collected) is a failure unless extra arguments narrowed the run; extra
# arguments go to every pytest run.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
mkdir -p build
vm_log=build/test-e2e-vm.log

"$PY" -m pytest -q -m slow tests/provision/test_deploy_vm.py "$@" >"$vm_log" 2>&1 &
vm_pid=$!
# the VM run cleans up its qemu and namespaces itself; on Ctrl-C, stop pytest so it does
trap 'kill -INT "$vm_pid" 2>/dev/null; wait "$vm_pid"; exit 130' INT TERM

failed=0
# nothing collected (exit 5) hides a tier that lost its tests: a failure, unless extra pytest
# arguments (say -k) narrowed the run on purpose
narrowed=$#
ok() { [ "$1" -eq 0 ] || { [ "$1" -eq 5 ] && [ "$narrowed" -gt 0 ]; }; }
"$PY" -m pytest -q -m slow tests/unit tests/integration tests/lab "$@"
ok $? || failed=1
"$PY" -m pytest -q -m slow tests/e2e "$@"
ok $? || failed=1
# CI (.ci/run) runs the journeys tier here, while the VM tier still holds its one core
if [ "${FLYPACK_WITH_JOURNEYS:-0}" = 1 ]; then
  "$PY" -m pytest -q -o addopts="-p no:cacheprovider" tests/journeys "$@"
  [ $? -eq 0 ] || failed=1  # an empty journeys tier is a failure, not a pass
fi

echo "test-e2e: waiting for the VM tier (tests/provision/test_deploy_vm.py, log $vm_log)"
wait "$vm_pid"
vm_rc=$?
cat "$vm_log"
ok $vm_rc || failed=1
exit $failed
