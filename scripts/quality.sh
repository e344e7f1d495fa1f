#!/usr/bin/env bash
# Reproduce docs/quality.md: simulate 50k training events and an independent 50k test sample of
# each example dataset, train with the default settings under BUDGET (default "--max-minutes 10",
# the issue's budget; a step budget such as "--max-steps 3000 --max-minutes 600" reproduces bit for
# bit on any machine) on the CPU (dimuon and showers with the SEEDS, default 1 2 3: one lucky run
# is not a result), and judge the models on the test samples (scripts/quality.py: the high-level
# classifier, KS / separation powers, response). With CC2=1 (default), also the calochallenge-2
# geometry: 50k training showers (1 GeV - 1 TeV), 20k test showers, CC2_BUDGET (default
# "--max-minutes 30"). Output in ./quality (override with QUALITY_DIR); scripts/ablation.sh reuses
# the data.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
OUT=${QUALITY_DIR:-quality}
BUDGET=${BUDGET:---max-minutes 10}
CC2_BUDGET=${CC2_BUDGET:---max-minutes 30}
CLASSIFIER=${CLASSIFIER:---classifier-epochs 2 --classifier-events 30000 --classifier-seconds 3600}
SEEDS=${SEEDS:-1 2 3}
mkdir -p "$OUT"
hepgan simulate dimuon -n 50000 --seed 2 -o "$OUT/dimuon.root"
hepgan simulate dimuon -n 50000 --seed 12 -o "$OUT/dimuon_test.root"
hepgan simulate showers --geometry small -n 50000 --energy-min 1000 --energy-max 100000 \
    --seed 1 -o "$OUT/showers.root"
hepgan simulate showers --geometry small -n 50000 --energy-min 1000 --energy-max 100000 \
    --seed 11 -o "$OUT/showers_test.root"

for seed in $SEEDS; do
    uptime
    # shellcheck disable=SC2086
    time hepgan train --data "$OUT/showers.root" --tree showers --voxels voxels \
        --condition incident_energy --out "$OUT/models/showers_seed$seed" $BUDGET \
        --seed "$seed" --device cpu
    # shellcheck disable=SC2086
    "$PYTHON" scripts/quality.py showers --model "$OUT/models/showers_seed$seed" $CLASSIFIER \
        --test "$OUT/showers_test.root" --json "$OUT/showers_seed${seed}_quality.json"
    uptime
    # shellcheck disable=SC2086
    time hepgan train --data "$OUT/dimuon.root" --tree events \
        --features E1,px1,py1,pz1,E2,px2,py2,pz2 --out "$OUT/models/dimuon_seed$seed" $BUDGET \
        --seed "$seed" --device cpu
    # shellcheck disable=SC2086
    "$PYTHON" scripts/quality.py dimuon $CLASSIFIER --model "$OUT/models/dimuon_seed$seed" \
        --test "$OUT/dimuon_test.root" --json "$OUT/dimuon_seed${seed}_quality.json"
done

if [ "${CC2:-1}" = 1 ]; then
    hepgan simulate showers --geometry calochallenge-2 -n 50000 --energy-min 1000 \
        --energy-max 1000000 --seed 21 -o "$OUT/calochallenge2.h5"
    hepgan simulate showers --geometry calochallenge-2 -n 20000 --energy-min 1000 \
        --energy-max 1000000 --seed 22 -o "$OUT/calochallenge2_test.h5"
    uptime
    # shellcheck disable=SC2086
    time hepgan train --data "$OUT/calochallenge2.h5" --voxels voxels --condition incident_energy \
        --out "$OUT/models/calochallenge2" $CC2_BUDGET --seed 1 --device cpu
    # shellcheck disable=SC2086
    "$PYTHON" scripts/quality.py showers --model "$OUT/models/calochallenge2" $CLASSIFIER \
        --test "$OUT/calochallenge2_test.h5" --json "$OUT/calochallenge2_quality.json"
fi
