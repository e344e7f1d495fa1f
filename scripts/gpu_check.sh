#!/usr/bin/env bash
# The checks only a GPU can run, and the GPU figures for docs/benchmarks.md, in one go.
#
#   bash scripts/gpu_check.sh              # on a machine with a CUDA GPU: under 10 minutes
#   bash scripts/gpu_check.sh --device cpu # a dry run of every part on the CPU, small sizes
#
# Parts (each under its own time limit; a failing part does not stop the others):
#   1. the tests marked cuda (and the CPU paths of the training step);
#   2. training speed, float32 eager vs bf16 autocast + torch.compile (benchmarks.bench_train);
#   3. a short single-GPU `hepgan train` on CaloChallenge-2-sized showers with bf16 and compile;
#   4. generation at batch 1, 1k and 100k, and one seed's events on this device vs the CPU;
#   5. the service on this device with dynamic batching off and on, 8 and 32 clients.
# Results go to $OUT/gpu_check when OUT is set, else ./gpu_check: figures.md (a section to
# paste into docs/benchmarks.md) and one log per part. Exit status: 0 when every part passed.
# Needs hepgan installed over a CUDA build of torch (install that first, then scripts/install.sh
# with its torch pin removed or matching); the time limits below add up to under 10 minutes.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
DEVICE=cuda
while [ $# -gt 0 ]; do
    case $1 in
        --device) DEVICE=$2; shift 2 ;;
        *) echo "usage: bash scripts/gpu_check.sh [--device cuda|cpu]" >&2; exit 2 ;;
    esac
done
if [ "$DEVICE" = cpu ]; then  # dry run: every part, small sizes
    TRAIN_STEPS=2; BENCH_STEPS=2; SHOWERS=2000; SIZES=1,1000; REPEATS=1
else
    TRAIN_STEPS=300; BENCH_STEPS=50; SHOWERS=20000; SIZES=1,1000,100000; REPEATS=5
fi
RESULTS=${OUT:+$OUT/gpu_check}
RESULTS=${RESULTS:-./gpu_check}
mkdir -p "$RESULTS"
RESULTS=$(cd "$RESULTS" && pwd)
FIGURES=$RESULTS/figures.md
SCRATCH=$(mktemp -d)
trap 'rm -rf "$SCRATCH"' EXIT
FAILED=()

# part NAME LIMIT_S KEEP COMMAND...: run COMMAND under a time limit into NAME.log and copy
# the log's lines matching KEEP (an extended regex) into figures.md.
part() {
    local name=$1 limit=$2 keep=$3
    shift 3
    local start=$SECONDS
    echo "gpu_check: $name ..." >&2
    timeout "$limit" "$@" >"$RESULTS/$name.log" 2>&1
    local status=$?
    [ $status -eq 0 ] || FAILED+=("$name (exit $status)")
    {
        echo
        echo "### $name ($((SECONDS - start)) s, exit $status)"
        echo
        echo '```'
        grep -E "$keep" "$RESULTS/$name.log" | tail -n 30
        echo '```'
    } >>"$FIGURES"
}

{
    echo "## GPU check ($(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown))"
    echo
    echo '```'
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null ||
        echo "no nvidia-smi"
    "$PYTHON" -c 'import os, platform, torch; print(f"python {platform.python_version()}, torch {torch.__version__}, CUDA {torch.version.cuda}, {os.cpu_count()} CPUs, GPUs {torch.cuda.device_count()}")'
    echo "device $DEVICE; load: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo '```'
} >"$FIGURES"

part cuda-tests 150 '(passed|failed|skipped|error|SKIPPED|FAILED|ERROR)' \
    "$PYTHON" -m pytest -q -rs -p no:cacheprovider \
    tests/cuda tests/training/test_distributed_devices.py tests/training/test_train_cpu_paths.py \
    tests/training/test_train_distributed.py tests/hepgan/test_devices.py

TRAIN_SPEED=("$PYTHON" -m benchmarks.bench_train --kind showers --threads 1
    --steps "$BENCH_STEPS" --device "$DEVICE")
part train-speed-fp32 60 'steps/s' "${TRAIN_SPEED[@]}" --precision off
part train-speed-bf16-compile 60 'steps/s' "${TRAIN_SPEED[@]}" --precision bf16 --compile

cat >"$SCRATCH/train.toml" <<EOF
data = ["$SCRATCH/showers.root"]
tree = "showers"
voxels = "voxels"
condition = "incident_energy"
out = "$SCRATCH/model"
device = "$DEVICE"
precision = "bf16"
compile = true
max_steps = $TRAIN_STEPS
max_minutes = 2.0
validate_every = 100
validation_events = 2000
progress = false
EOF
cat >"$SCRATCH/summary.py" <<'EOF'
"""One line from a model card: steps, device, wall time, settings, best validation KS."""
import json
import sys

card = json.load(open(sys.argv[1]))
training, validation = card["training"], card["validation"]
settings = training["config"]
print(
    f"{training['steps']} steps on {training['device']} in {training['wall_seconds']} s wall "
    f"(precision {settings['precision']}, compile {settings['compile']}); best step "
    f"{validation['best_step']}, validation mean KS {validation['validation_mean_ks']:.3f}"
)
EOF
part train-bf16-compile 150 '(Simulated|steps on|rror)' bash -c "set -e
    $PYTHON -m hepgan.cli simulate showers --geometry calochallenge-2 -n $SHOWERS --seed 3 \
        -o $SCRATCH/showers.root
    $PYTHON -m hepgan.cli train --config $SCRATCH/train.toml
    $PYTHON $SCRATCH/summary.py $SCRATCH/model/model.json"

part generate 60 '(generation on|events|same seed)' \
    "$PYTHON" -m benchmarks.bench_generate --device "$DEVICE" --sizes "$SIZES" \
    --repeats "$REPEATS" --compare-device cpu

part service 110 '(machine|clients|p50|rror)' \
    "$PYTHON" -m benchmarks.bench_service --device "$DEVICE" --parts 4,5 --clients 8,32 \
    --repeats "$REPEATS"

if [ ${#FAILED[@]} -gt 0 ]; then
    printf '\nFailed parts: %s\n' "${FAILED[*]}" >>"$FIGURES"
fi
echo "gpu_check: figures in $FIGURES" >&2
cat "$FIGURES"
[ ${#FAILED[@]} -eq 0 ]
