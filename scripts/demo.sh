#!/usr/bin/env bash
# The main job on the built-in example data: install (the runtime only: no dev tools), then serve
# the example models shipped in examples/models (trained by scripts/train_examples.sh) on
# DEMO_HOST:DEMO_PORT at once, printing the address of the web page. With DEMO_TRAIN_MINUTES=N
# it first simulates example data and trains two short models (N minutes each) that are served
# beside the shipped ones (the training path end to end). Output goes to ./demo (DEMO_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
DEMO_DIR=${DEMO_DIR:-demo}
DEMO_TRAIN_MINUTES=${DEMO_TRAIN_MINUTES:-0}
bash scripts/install.sh --runtime
mkdir -p "$DEMO_DIR/models"
cp -R examples/models/. "$DEMO_DIR/models/"

# --- Optional training: short budgets so the demo serves within minutes; the two models train
# at once (each takes what cores it can get). scripts/train_examples.sh trains the shipped
# models for longer; scripts/quality.sh measures models against independent test files.
train() {  # train NAME ARGS...: one model, its output in $DEMO_DIR/train_NAME.log
    local name=$1
    shift
    if ! hepgan train --out "$DEMO_DIR/models/$name" --max-minutes "$DEMO_TRAIN_MINUTES" \
        --seed 1 "$@" > "$DEMO_DIR/train_$name.log" 2>&1; then
        tail -n 20 "$DEMO_DIR/train_$name.log" >&2
        return 1
    fi
}
if [ "$DEMO_TRAIN_MINUTES" != 0 ]; then
    hepgan simulate showers --geometry small -n 20000 --seed 1 -o "$DEMO_DIR/showers_small.root"
    hepgan simulate dimuon -n 20000 --seed 2 -o "$DEMO_DIR/dimuon.root"
    echo "demo: training two models for $DEMO_TRAIN_MINUTES min (logs: $DEMO_DIR/train_*.log)"
    train showers_small_demo --data "$DEMO_DIR/showers_small.root" --tree showers \
        --voxels voxels --condition incident_energy &
    SHOWERS=$!
    train dimuon_demo --data "$DEMO_DIR/dimuon.root" --tree events \
        --features E1,px1,py1,pz1,Q1,E2,px2,py2,pz2,Q2 &
    DIMUON=$!
    wait "$SHOWERS"
    wait "$DIMUON"
fi

# --- Serving: every model under $DEMO_DIR/models, after printing a request that works.
DEMO_HOST=${DEMO_HOST:-127.0.0.1}
DEMO_PORT=${DEMO_PORT:-8000}
if ! compgen -G "$DEMO_DIR/models/*/model.json" > /dev/null; then
    echo "demo: no trained model under $DEMO_DIR/models" >&2
    exit 1
fi
MODEL=$(basename "$(dirname "$(compgen -G "$DEMO_DIR/models/*/model.json" | head -n 1)")")
URL="http://$DEMO_HOST:$DEMO_PORT"
echo
echo "Open the web page: $URL/"
echo "  (the models, a form to generate a batch, and its validation; it waits for the models to load)"
echo "API docs at $URL/docs. From a shell, once $URL/readyz answers:"
echo "  curl -s -X POST $URL/v1/models/$MODEL/generate -H 'Content-Type: application/json' -d '{\"n_events\": 5, \"seed\": 1}'"
echo "  hepgan request $MODEL -n 10000 --seed 1 --url $URL -o $MODEL.root"
exec hepgan serve --models "$DEMO_DIR/models" --host "$DEMO_HOST" --port "$DEMO_PORT"
