#!/usr/bin/env bash
# Installs what is missing, builds, and counts the words of the sample corpus on an embedded local cluster
# (a scheduler and two workers started and stopped by the example itself). A release build: the count runs at
# the speed docs/performance.md reports.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --product wordcount
.build/release/wordcount "${@:-examples/wordcount/corpus}"
