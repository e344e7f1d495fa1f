#!/usr/bin/env bash
# Reproduce docs/quality.md: simulate 50k training events and an independent 50k test sample of
# each example dataset, train with the default settings for at most 10 minutes each on the CPU,
# and judge the models on the test samples (scripts/quality.py). Output in ./quality
# (override with QUALITY_DIR); MINUTES overrides the training budget.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
OUT=${QUALITY_DIR:-quality}
MINUTES=${MINUTES:-10}
mkdir -p "$OUT"
hepgan simulate dimuon -n 50000 --seed 2 -o "$OUT/dimuon.root"
hepgan simulate dimuon -n 50000 --seed 12 -o "$OUT/dimuon_test.root"
hepgan simulate showers --geometry small -n 50000 --energy-min 1000 --energy-max 100000 \
    --seed 1 -o "$OUT/showers.root"
hepgan simulate showers --geometry small -n 50000 --energy-min 1000 --energy-max 100000 \
    --seed 11 -o "$OUT/showers_test.root"

time hepgan train --data "$OUT/dimuon.root" --tree events \
    --features E1,px1,py1,pz1,Q1,E2,px2,py2,pz2,Q2 --out "$OUT/models/dimuon" \
    --max-minutes "$MINUTES" --seed 1 --device cpu
time hepgan train --data "$OUT/showers.root" --tree showers --voxels voxels \
    --condition incident_energy --out "$OUT/models/showers" \
    --max-minutes "$MINUTES" --seed 1 --device cpu

"$PYTHON" scripts/quality.py dimuon --model "$OUT/models/dimuon" --test "$OUT/dimuon_test.root" \
    --json "$OUT/dimuon_quality.json"
"$PYTHON" scripts/quality.py showers --model "$OUT/models/showers" \
    --test "$OUT/showers_test.root" --json "$OUT/showers_quality.json"
