#!/usr/bin/env bash
# The shower ablation of docs/quality.md: the same 50k training events, the same number of
# generator steps (STEPS, default 2000) for each variant, judged on the independent 50k test
# file by scripts/quality.py (high-level classifier, separation powers, response per bin).
# Every variant sets all four options, so the table does not depend on the current defaults.
# A fixed step budget, not wall time, so that variants compare fairly on a shared machine.
# Output in ./ablation (override with ABLATION_DIR); expects the data of scripts/quality.sh
# in QUALITY_DIR (default ./quality). The judge trains for a fixed 2 epochs on 30k events per
# class (CLASSIFIER), so that every variant gets the same judge whatever the machine's load.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
OUT=${ABLATION_DIR:-ablation}
DATA=${QUALITY_DIR:-quality}
STEPS=${STEPS:-2000}
CLASSIFIER=${CLASSIFIER:---classifier-epochs 2 --classifier-events 30000 --classifier-seconds 3600}
mkdir -p "$OUT"
declare -A VARIANTS=(
    [base]="critic_observables = false\nema_decay = 0.0\nminibatch_std_group = 0\nsymmetry_augmentation = false"
    [observables]="critic_observables = true\nema_decay = 0.0\nminibatch_std_group = 0\nsymmetry_augmentation = false"
    [ema]="critic_observables = false\nema_decay = 0.995\nminibatch_std_group = 0\nsymmetry_augmentation = false"
    [ema_0.99]="critic_observables = false\nema_decay = 0.99\nminibatch_std_group = 0\nsymmetry_augmentation = false"
    [minibatch_std]="critic_observables = false\nema_decay = 0.0\nminibatch_std_group = 4\nsymmetry_augmentation = false"
    [symmetry]="critic_observables = false\nema_decay = 0.0\nminibatch_std_group = 0\nsymmetry_augmentation = true"
    [all]="critic_observables = true\nema_decay = 0.995\nminibatch_std_group = 4\nsymmetry_augmentation = true"
)
for name in "${!VARIANTS[@]}"; do
    printf "%b\n" "${VARIANTS[$name]}" > "$OUT/$name.toml"
    uptime
    time hepgan train --config "$OUT/$name.toml" --data "$DATA/showers.root" --tree showers \
        --voxels voxels --condition incident_energy --out "$OUT/models/$name" \
        --max-steps "$STEPS" --max-minutes 600 --seed 1 --device cpu
    # shellcheck disable=SC2086
    "$PYTHON" scripts/quality.py showers --model "$OUT/models/$name" $CLASSIFIER \
        --test "$DATA/showers_test.root" --json "$OUT/${name}_quality.json"
done
