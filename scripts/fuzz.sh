#!/usr/bin/env bash
# Fuzzes every decoder a peer can reach (Sources/zflow-fuzz) with libFuzzer for a bounded time, with
# AddressSanitizer, then runs zflow-extreme: valid messages with extreme values against both state machines and
# a local cluster (Sources/zflow-extreme; ZFLOW_EXTREME_SEEDS seeds, default 20).
# Usage: scripts/fuzz.sh [SECONDS]   (default 60; on a crash it exits non-zero and keeps the input under
# .build-fuzz/crashes/; the corpus grows in .build-fuzz/corpus/ from run to run)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
seconds="${1:-60}"
# SwiftPM names an executable's entry point <module>_main, so the target starts libFuzzer's driver itself:
# instrument for coverage and link the runtime without its main.
runtime="$(dirname "$(dirname "$(command -v swiftc)")")/lib/clang"
runtime="$(ls -d "$runtime"/*/lib/linux | head -1)/libclang_rt.fuzzer_no_main-x86_64.a"
swift build --build-path .build-fuzz --product zflow-fuzz \
  -Xswiftc -sanitize=address -Xswiftc -sanitize-coverage=edge,trace-cmp,inline-8bit-counters,pc-table \
  -Xswiftc -DFUZZING -Xlinker "$runtime" -Xlinker -lstdc++ 2>&1 | grep -v 'Cannot export local symbol'
mkdir -p .build-fuzz/corpus .build-fuzz/crashes
.build-fuzz/debug/zflow-fuzz .build-fuzz/corpus -max_total_time="$seconds" -max_len=4096 \
  -artifact_prefix=.build-fuzz/crashes/ -print_final_stats=1
# Then valid messages with extreme values: against both state machines (invariants after every step), and
# against a local cluster of real processes that must keep serving.
swift build --product zflow-extreme --product zflow-scheduler --product zflow-worker
exec .build/debug/zflow-extreme --seeds "${ZFLOW_EXTREME_SEEDS:-20}" --steps 20000 --processes
