#!/usr/bin/env bash
# The shower ablation of docs/quality.md: the same 50k training events and the same budget for
# each variant (BUDGET, default "--max-minutes 10": the issue's 10 minutes; a step budget such as
# "--max-steps 3000 --max-minutes 600" reproduces bit for bit on any machine), seed SEED (1),
# judged on the independent 50k test file by scripts/quality.py (high-level classifier,
# separation powers, response per bin). Every variant writes all the fidelity settings, so the
# table does not depend on the current defaults. VARIANTS_TO_RUN (default: all) picks some by name.
# Output in ./ablation (override with ABLATION_DIR); expects the data of scripts/quality.sh in
# QUALITY_DIR (default ./quality). The judge trains for a fixed 2 epochs on 30k events per class
# (CLASSIFIER), so that every variant gets the same judge whatever the machine's load.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
OUT=${ABLATION_DIR:-ablation}
DATA=${QUALITY_DIR:-quality}
BUDGET=${BUDGET:---max-minutes 10}
SEED=${SEED:-1}
CLASSIFIER=${CLASSIFIER:---classifier-epochs 2 --classifier-events 30000 --classifier-seconds 3600}
mkdir -p "$OUT"
# The settings before issue 12; each variant below changes some of them.
BASE="critic_observables = false
ema_decay = 0.0
minibatch_std_group = 0
symmetry_augmentation = false
shower_dequantise = false
shower_layer_shares = false
learning_rate_final_fraction = 1.0
n_critic = 5
selection_metric = \"ks\"
shower_log_offset_quantile = 0.01
shower_gap_fraction = 0.0
shower_empty_share_fraction = 0.0
shower_random_symmetry = false
shower_log_offset_per_layer = false
batch_size = 256
[network]
latent_dim = 64
critic_hidden = [256, 256, 256]"
# Round 3's defaults (variant ema_layers_eps0.05_rotate_gap), which round 4's variants change
# one or two at a time (a setting given twice takes its last value).
ROUND3="ema_decay = 0.99; shower_layer_shares = true; shower_log_offset_quantile = 0.05; shower_random_symmetry = true; shower_gap_fraction = 2.0"
declare -A VARIANTS=(
    [base]=""
    [observables]="critic_observables = true"
    [ema_0.995]="ema_decay = 0.995"
    [ema]="ema_decay = 0.99"
    [minibatch_std]="minibatch_std_group = 4"
    [symmetry]="symmetry_augmentation = true; shower_random_symmetry = true"
    [ema_dequantise]="ema_decay = 0.99; shower_dequantise = true"
    [ema_layers]="ema_decay = 0.99; shower_layer_shares = true"
    [ema_layers_dequantise]="ema_decay = 0.99; shower_layer_shares = true; shower_dequantise = true"
    [ema_layers_decay]="ema_decay = 0.99; shower_layer_shares = true; learning_rate_final_fraction = 0.1"
    [ema_layers_decay_critic2]="ema_decay = 0.99; shower_layer_shares = true; learning_rate_final_fraction = 0.1; n_critic = 2"
    [ema_layers_eps0.05]="ema_decay = 0.99; shower_layer_shares = true; shower_log_offset_quantile = 0.05"
    [ema_layers_eps0.05_cut]="ema_decay = 0.99; shower_layer_shares = true; shower_log_offset_quantile = 0.05; shower_empty_share_fraction = 0.5"
    [ema_layers_eps0.05_rotate]="ema_decay = 0.99; shower_layer_shares = true; shower_log_offset_quantile = 0.05; shower_random_symmetry = true"
    [ema_layers_eps0.05_cut_rotate]="ema_decay = 0.99; shower_layer_shares = true; shower_log_offset_quantile = 0.05; shower_empty_share_fraction = 0.5; shower_random_symmetry = true"
    [ema_layers_eps0.05_rotate_gap]="$ROUND3"
    [ema_layers_eps0.05_rotate_augment]="ema_decay = 0.99; shower_layer_shares = true; shower_log_offset_quantile = 0.05; shower_random_symmetry = true; symmetry_augmentation = true"
    [round3_observables]="$ROUND3; critic_observables = true"
    [round3_minibatch_std]="$ROUND3; minibatch_std_group = 4"
    [round3_critic512]="$ROUND3; critic_hidden = [512, 512, 512]"
    [round3_ema0.999]="$ROUND3; ema_decay = 0.999"
    [round3_critic3]="$ROUND3; n_critic = 3"
    [round3_batch1024]="$ROUND3; batch_size = 1024"
    [round3_batch2048]="$ROUND3; batch_size = 2048"
    [round3_offset_per_layer]="$ROUND3; shower_log_offset_per_layer = true"
    [round3_offset_per_layer_batch1024]="$ROUND3; shower_log_offset_per_layer = true; batch_size = 1024"
)
for name in ${VARIANTS_TO_RUN:-${!VARIANTS[@]}}; do
    # A variant's settings replace the base's lines of the same name.
    "$PYTHON" - "$OUT/$name.toml" "$BASE" "${VARIANTS[$name]}" <<'PY'
import sys
path, base, changes = sys.argv[1], sys.argv[2], sys.argv[3]
settings = dict(item.split(" = ", 1) for item in (c.strip() for c in changes.split(";")) if item)
lines = [
    f"{key} = {settings.pop(key)}" if (key := line.split(" = ", 1)[0]) in settings else line
    for line in base.splitlines()
]
network = lines.index("[network]")
lines[network:network] = [f"{key} = {value}" for key, value in settings.items()]
open(path, "w").write("\n".join(lines) + "\n")
PY
    uptime
    # shellcheck disable=SC2086
    time hepgan train --config "$OUT/$name.toml" --data "$DATA/showers.root" --tree showers \
        --voxels voxels --condition incident_energy --out "$OUT/models/$name" \
        $BUDGET --seed "$SEED" --device cpu
    # shellcheck disable=SC2086
    "$PYTHON" scripts/quality.py showers --model "$OUT/models/$name" $CLASSIFIER \
        --test "$DATA/showers_test.root" --json "$OUT/${name}_quality.json"
done
