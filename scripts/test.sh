#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite (unit, wire, socket and multi-process tests).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build --build-tests
swift test --skip-build "$@"
