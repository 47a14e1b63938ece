#!/usr/bin/env bash
# Runs `zflow bench` (release build) and the Dask baseline side by side, then prints the ratios.
# Usage: scripts/bench.sh [--runs N] [WORKLOAD...]   (arguments go to `zflow bench`)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --product zflow >/dev/null
swift build -c release --product zflow-scheduler >/dev/null
swift build -c release --product zflow-worker >/dev/null
mkdir -p .bench
echo "== zflow bench" >&2
.build/release/zflow bench --json "$@" | tee .bench/zflow.jsonl
baseline=../shared/bench/dask_baseline.py
if [ -f "$baseline" ]; then
  if [ ! -x .dask-venv/bin/python ]; then
    python3 -m venv .dask-venv
    .dask-venv/bin/pip install -q distributed numpy
  fi
  echo "== Dask baseline (same machine, same run)" >&2
  .dask-venv/bin/python "$baseline" --json | tee .bench/dask.jsonl
else
  echo "no Dask baseline at $baseline; ratios skipped" >&2
  : > .bench/dask.jsonl
fi
python3 scripts/bench_report.py .bench/zflow.jsonl .bench/dask.jsonl
