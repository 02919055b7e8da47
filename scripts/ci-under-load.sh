#!/usr/bin/env bash
# Runs CI as CI runs it (a fresh clone, CI=true, no TTY, `bash .ci/run`) while two busy loops hold both cores,
# the way a shared CI machine can be busy. The suite must pass like this: tests assert behaviour, never speed.
#
# Usage: scripts/ci-under-load.sh [LOOPS]     (LOOPS busy loops, default: one per core)
# Prints .ci/run's output, then one line "ci-under-load: ..." with the exit code, the wall time and the load
# average, and exits with .ci/run's status. The busy loops and the clone are removed however it ends.
set -uo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
loops="${1:-$(nproc)}"
[[ "$loops" =~ ^[0-9]+$ ]] || { echo "ci-under-load: LOOPS must be a whole number, got '$loops'" >&2; exit 2; }

dir="$(mktemp -d)"
pids=()
cleanup() {
  ((${#pids[@]})) && kill "${pids[@]}" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

git clone --quiet "$repo" "$dir/repo" || { echo "ci-under-load: git clone of $repo failed" >&2; exit 1; }

# Busy loops at normal priority: they compete with every test process for the cores.
for ((i = 0; i < loops; i++)); do
  (while :; do :; done) &
  pids+=($!)
done
echo "ci-under-load: $loops busy loop(s) running (pids ${pids[*]}); clone in $dir/repo"

start=$(date +%s)
(cd "$dir/repo" && CI=true bash .ci/run </dev/null)
status=$?
echo "ci-under-load: .ci/run exited $status after $(($(date +%s) - start)) s with $loops busy loop(s); load average $(cut -d' ' -f1-3 /proc/loadavg)"
exit "$status"
