#!/usr/bin/env bash
# The reliability suite (docs/reliability.md): load, fuzz, faults and security tests against real
# `hepgan serve` / `hepgan train` processes on 127.0.0.1, then a Markdown summary of the figures.
# Figures go to $RELIABILITY_OUT (default runs/reliability): one JSON file per test, summary.md.
# HEPGAN_LOAD_SECONDS (default 60) and HEPGAN_FUZZ_EXAMPLES (default 50) scale the run.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
OUT=${RELIABILITY_OUT:-runs/reliability}
rm -rf "$OUT"
mkdir -p "$OUT"
HEPGAN_RELIABILITY_OUT="$OUT" "$PYTHON" -m pytest tests/reliability -q --durations=5 "$@" \
    | tee "$OUT/pytest.log"
"$PYTHON" tests/reliability/summarise.py "$OUT" | tee "$OUT/summary.md"
