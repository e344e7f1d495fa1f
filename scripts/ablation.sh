#!/usr/bin/env bash
# The shower ablation of docs/quality.md: one training per variant, a TOML file under
# scripts/ablation/ (every variant writes all the settings it compares, so the table does not
# depend on the current defaults), applied with `hepgan train --config`. The same 50k training
# events and the same budget for each variant (BUDGET, default "--max-steps 3000 --max-minutes
# 600": variants are compared at equal steps, which reproduce bit for bit on any machine; the
# minutes are only a safety cap), each of SEEDS (default "1 2 3": one lucky run is not a
# result), judged on the SELECTION file (never the final test file: the ablation chooses the
# defaults) by scripts/quality.py with the judge trained to convergence (CLASSIFIER, default
# "--classifier-events 20000": 12k training events per class keep a judge near ten minutes on
# two CPU cores). VARIANTS_TO_RUN (default: every file) picks some by name, e.g.
# "ema_layers_eps0.05_rotate_gap round3_hit_mask". Output in ./ablation (ABLATION_DIR); expects
# the data of scripts/quality.sh in QUALITY_DIR (default ./quality). Tables:
# python scripts/quality_table.py ablation/VARIANT_seed*_selection.json
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VARIANTS=scripts/ablation
OUT=${ABLATION_DIR:-ablation}
DATA=${QUALITY_DIR:-quality}
BUDGET=${BUDGET:---max-steps 3000 --max-minutes 600}
SEEDS=${SEEDS:-1 2 3}
CLASSIFIER=${CLASSIFIER:---classifier-events 20000}
mkdir -p "$OUT"
if [ -z "${VARIANTS_TO_RUN:-}" ]; then
    VARIANTS_TO_RUN=$(for file in "$VARIANTS"/*.toml; do basename "$file" .toml; done)
fi
for name in $VARIANTS_TO_RUN; do
    if [ ! -f "$VARIANTS/$name.toml" ]; then
        echo "ablation.sh: no variant $name ($VARIANTS/$name.toml)" >&2
        exit 2
    fi
done
for name in $VARIANTS_TO_RUN; do
    for seed in $SEEDS; do
        uptime
        model="$OUT/models/${name}_seed$seed"
        # shellcheck disable=SC2086
        [ -f "$model/model.json" ] || hepgan train --config "$VARIANTS/$name.toml" \
            --data "$DATA/showers.root" --tree showers --voxels voxels \
            --condition incident_energy --out "$model" $BUDGET --seed "$seed" --device cpu
        # shellcheck disable=SC2086
        "$PYTHON" scripts/quality.py showers --model "$model" $CLASSIFIER \
            --test "$DATA/showers_selection.root" --json "$OUT/${name}_seed${seed}_selection.json"
    done
done
