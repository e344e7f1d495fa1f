#!/usr/bin/env bash
# Rebuild the example models shipped in examples/models (served at once by scripts/demo.sh):
# simulate their training data, then train each with `hepgan train --config
# scripts/examples/NAME.toml` (the default settings, a fixed seed and a step budget; each card
# records the configuration, the data files' SHA-256 and the steps). Rebuild them whenever the
# defaults change for fidelity. Training runs on the CPU (minutes each on two idle cores); the
# run folders go to examples/runs, which git ignores, and each model keeps its training
# history and settings (run/metrics.jsonl, run/options.json: the web page draws the history)
# but not the checkpoints.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p examples/data
[ -f examples/data/showers_small.root ] || hepgan simulate showers --geometry small -n 50000 \
    --energy-min 1000 --energy-max 100000 --seed 1 -o examples/data/showers_small.root
[ -f examples/data/dimuon.root ] || hepgan simulate dimuon -n 50000 --seed 2 \
    -o examples/data/dimuon.root
for name in ${EXAMPLES:-showers_small dimuon}; do
    rm -rf "examples/models/$name" "examples/runs/$name"
    hepgan train --config "scripts/examples/$name.toml"
    mkdir -p "examples/models/$name/run"
    cp "examples/runs/$name/metrics.jsonl" "examples/runs/$name/options.json" \
        "examples/models/$name/run/"
done
