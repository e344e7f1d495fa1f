#!/usr/bin/env bash
# Reproduce docs/quality.md: simulate 50k training events and an independent 50k test sample of
# each example dataset, train with the default settings for STEPS generator steps (default 2000)
# on the CPU (dimuon with three seeds: one lucky run is not a result), and judge the models on the
# test samples (scripts/quality.py: the high-level classifier, KS / separation powers, response).
# A step budget, not wall time: on a shared machine 10 minutes buy anything from 1,000 to 4,000
# steps, so only a step budget reproduces. MINUTES (default 600) only caps the wall time.
# Output in ./quality (override with QUALITY_DIR). scripts/ablation.sh reuses the data.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
OUT=${QUALITY_DIR:-quality}
STEPS=${STEPS:-2000}
MINUTES=${MINUTES:-600}
CLASSIFIER=${CLASSIFIER:---classifier-epochs 2 --classifier-events 30000 --classifier-seconds 3600}
SEEDS=${SEEDS:-1 2 3}
mkdir -p "$OUT"
hepgan simulate dimuon -n 50000 --seed 2 -o "$OUT/dimuon.root"
hepgan simulate dimuon -n 50000 --seed 12 -o "$OUT/dimuon_test.root"
hepgan simulate showers --geometry small -n 50000 --energy-min 1000 --energy-max 100000 \
    --seed 1 -o "$OUT/showers.root"
hepgan simulate showers --geometry small -n 50000 --energy-min 1000 --energy-max 100000 \
    --seed 11 -o "$OUT/showers_test.root"

uptime
time hepgan train --data "$OUT/showers.root" --tree showers --voxels voxels \
    --condition incident_energy --out "$OUT/models/showers" \
    --max-steps "$STEPS" --max-minutes "$MINUTES" --seed 1 --device cpu
# shellcheck disable=SC2086
"$PYTHON" scripts/quality.py showers --model "$OUT/models/showers" $CLASSIFIER \
    --test "$OUT/showers_test.root" --json "$OUT/showers_quality.json"
for seed in $SEEDS; do
    uptime
    time hepgan train --data "$OUT/dimuon.root" --tree events \
        --features E1,px1,py1,pz1,E2,px2,py2,pz2 --out "$OUT/models/dimuon_seed$seed" \
        --max-steps "$STEPS" --max-minutes "$MINUTES" --seed "$seed" --device cpu
    # shellcheck disable=SC2086
    "$PYTHON" scripts/quality.py dimuon $CLASSIFIER --model "$OUT/models/dimuon_seed$seed" \
        --test "$OUT/dimuon_test.root" --json "$OUT/dimuon_seed${seed}_quality.json"
done
