#!/usr/bin/env bash
# Reproduce docs/quality.md with the honest protocol: three files per dataset, each with one role.
#   training   (showers seed 1, dimuon seed 2):   what the models learn from
#   selection  (seeds 31 / 32): every choice (the ablation of scripts/ablation.sh, the learning
#              curve, where the judge separates); never in the final table
#   test       (seeds 41 / 42): the final table only, judged once per model
# The judge is trained to convergence (scripts/quality.py; its record is in each JSON).
#
# Stages (STAGES, default all): ablation table curve agreement groups cc2
#   ablation   scripts/ablation.sh for ABLATION_VARIANTS (default: the variants docs/quality.md
#              compares: the old defaults, the hit mask, with each layer's eps, two stages), on
#              the selection file, output in $OUT/ablation
#   table      the defaults, SEEDS (1 2 3), under TABLE_BUDGET (default "--max-steps 4800": the
#              steps one model makes in the targets' 10 minutes on two idle CPU cores, as a step
#              budget so the load does not change the model; the JSON records the minutes), on the
#              test files
#   curve      the shower defaults at CURVE_STEPS (2000 4800 8000 32000) generator steps, seed 1,
#              on the selection file: does more training help? (the point at the table's steps
#              is the table's seed-1 model)
#   agreement  the seed-1 shower model judged by the converged judge and by the CaloChallenge
#              protocol on the CaloChallenge's inputs (test file)
#   groups     the seed-1 shower model's judge on each input group alone (selection file)
#   cc2        calochallenge-2: 50k training showers (1 GeV - 1 TeV), 20k selection and test
#              showers, CC2_BUDGET (default "--max-minutes 30")
# Output in ./quality (QUALITY_DIR); CLASSIFIER adds flags for scripts/quality.py.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
OUT=${QUALITY_DIR:-quality}
TABLE_BUDGET=${TABLE_BUDGET:---max-steps 4800 --max-minutes 100000}
CURVE_STEPS=${CURVE_STEPS:-2000 4800 8000 32000}
CC2_BUDGET=${CC2_BUDGET:---max-minutes 30}
CLASSIFIER=${CLASSIFIER:-}
SEEDS=${SEEDS:-1 2 3}
STAGES=${STAGES:-ablation table curve agreement groups cc2}
ABLATION_VARIANTS=${ABLATION_VARIANTS:-ema_layers_eps0.05_rotate_gap round3_hit_mask round3_hit_mask_offset_per_layer round4_two_stage}
mkdir -p "$OUT/models"

simulate_showers() {  # seed, events, output
    [ -f "$3" ] || hepgan simulate showers --geometry small -n "$2" --energy-min 1000 \
        --energy-max 100000 --seed "$1" -o "$3"
}
simulate_dimuon() {  # seed, output
    [ -f "$2" ] || hepgan simulate dimuon -n 50000 --seed "$1" -o "$2"
}
train_showers() {  # output folder, seed, budget...
    local out=$1 seed=$2
    shift 2
    [ -f "$out/model.json" ] || hepgan train --data "$OUT/showers.root" --tree showers \
        --voxels voxels --condition incident_energy --out "$out" --seed "$seed" --device cpu "$@"
}
judge() {  # kind, model, file, json, flags...
    local kind=$1 model=$2 file=$3 json=$4
    shift 4
    # shellcheck disable=SC2086
    [ -f "$json" ] || "$PYTHON" scripts/quality.py "$kind" --model "$model" --test "$file" \
        --json "$json" $CLASSIFIER "$@" > /dev/null
    echo "$json"
}
stage() { [[ " $STAGES " == *" $1 "* ]]; }

simulate_showers 1 50000 "$OUT/showers.root"
simulate_showers 31 50000 "$OUT/showers_selection.root"
simulate_showers 41 50000 "$OUT/showers_test.root"
simulate_dimuon 2 "$OUT/dimuon.root"
simulate_dimuon 32 "$OUT/dimuon_selection.root"
simulate_dimuon 42 "$OUT/dimuon_test.root"

if stage ablation; then
    QUALITY_DIR="$OUT" ABLATION_DIR="$OUT/ablation" VARIANTS_TO_RUN="$ABLATION_VARIANTS" \
        PYTHON="$PYTHON" bash scripts/ablation.sh
fi

if stage table; then
    for seed in $SEEDS; do
        uptime
        # shellcheck disable=SC2086
        train_showers "$OUT/models/showers_seed$seed" "$seed" $TABLE_BUDGET
        judge showers "$OUT/models/showers_seed$seed" "$OUT/showers_test.root" \
            "$OUT/showers_seed${seed}_test.json"
        uptime
        # shellcheck disable=SC2086
        [ -f "$OUT/models/dimuon_seed$seed/model.json" ] || hepgan train \
            --data "$OUT/dimuon.root" --tree events --features E1,px1,py1,pz1,E2,px2,py2,pz2 \
            --out "$OUT/models/dimuon_seed$seed" $TABLE_BUDGET --seed "$seed" --device cpu
        judge dimuon "$OUT/models/dimuon_seed$seed" "$OUT/dimuon_test.root" \
            "$OUT/dimuon_seed${seed}_test.json"
    done
fi

if stage curve; then
    table_steps=$(grep -oE -- '--max-steps [0-9]+' <<< "$TABLE_BUDGET" | cut -d' ' -f2 || true)
    for steps in $CURVE_STEPS; do
        uptime
        if [ "$steps" = "$table_steps" ]; then  # the table's seed-1 run is this point's run
            model="$OUT/models/showers_seed1"
            # shellcheck disable=SC2086
            train_showers "$model" 1 $TABLE_BUDGET
        else
            model="$OUT/models/showers_steps$steps"
            train_showers "$model" 1 --max-steps "$steps" --max-minutes 100000
        fi
        judge showers "$model" "$OUT/showers_selection.root" \
            "$OUT/showers_steps${steps}_selection.json"
    done
fi

if stage agreement; then
    model="$OUT/models/showers_seed1"
    for protocol in converged calochallenge; do
        judge showers "$model" "$OUT/showers_test.root" "$OUT/agreement_$protocol.json" \
            --judge "$protocol" --inputs calochallenge
    done
fi

if stage groups; then
    judge showers "$OUT/models/showers_seed1" "$OUT/showers_selection.root" \
        "$OUT/showers_seed1_groups_selection.json" --by-group
fi

if stage cc2; then
    for pair in "21 50000 calochallenge2" "51 20000 calochallenge2_selection" \
        "61 20000 calochallenge2_test"; do
        read -r seed n name <<< "$pair"
        [ -f "$OUT/$name.h5" ] || hepgan simulate showers --geometry calochallenge-2 -n "$n" \
            --energy-min 1000 --energy-max 1000000 --seed "$seed" -o "$OUT/$name.h5"
    done
    uptime
    # shellcheck disable=SC2086
    [ -f "$OUT/models/calochallenge2/model.json" ] || hepgan train \
        --data "$OUT/calochallenge2.h5" --voxels voxels --condition incident_energy \
        --out "$OUT/models/calochallenge2" $CC2_BUDGET --seed 1 --device cpu
    judge showers "$OUT/models/calochallenge2" "$OUT/calochallenge2_test.h5" \
        "$OUT/calochallenge2_test.json"
fi
