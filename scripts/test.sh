#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite (unit, wire, socket and multi-process tests).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build --build-tests
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
swift test --skip-build "$@" 2>&1 | tee "$log" || status=$?
# One plain summary line from Swift Testing's closing line (XCTest reports 0 tests: every test uses Swift Testing).
if summary=$(grep -Eo 'Test run with [0-9]+ tests?' "$log" | tail -1); then
  total=$(echo "$summary" | grep -Eo '[0-9]+')
  failed=$(grep -Eo 'failed after [0-9.]+ seconds with [0-9]+ issues?' "$log" | tail -1 | grep -Eo '[0-9]+ issues?' | grep -Eo '[0-9]+' || true)
  if [ "$status" -eq 0 ]; then echo "tests: $total passed, 0 failed"; else echo "tests: run of $total failed with ${failed:-some} issue(s)"; fi
fi
exit "$status"
