#!/usr/bin/env bash
# The main job on the built-in example data: install (the runtime only: no dev tools), simulate
# example data, train small models (DEMO_MINUTES each) and serve them on DEMO_HOST:DEMO_PORT,
# printing the address of the web page. Output goes to ./demo (override with DEMO_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
DEMO_DIR=${DEMO_DIR:-demo}
bash scripts/install.sh --runtime
mkdir -p "$DEMO_DIR"
hepgan simulate showers --geometry small -n 20000 --seed 1 -o "$DEMO_DIR/showers_small.root"
hepgan simulate dimuon -n 20000 --seed 2 -o "$DEMO_DIR/dimuon.root"

# --- Training: a short budget per model (DEMO_MINUTES, default 1) so the demo serves within
# minutes; the two models train at once (each takes what cores it can get).
# scripts/quality.sh trains for 10 minutes and measures the models against test files.
DEMO_MINUTES=${DEMO_MINUTES:-1}
echo "demo: training two models for $DEMO_MINUTES min (logs: $DEMO_DIR/train_*.log)"
train() {  # train NAME ARGS...: one model, its output in $DEMO_DIR/train_NAME.log
    local name=$1
    shift
    if ! hepgan train --out "$DEMO_DIR/models/$name" --max-minutes "$DEMO_MINUTES" --seed 1 "$@" \
        > "$DEMO_DIR/train_$name.log" 2>&1; then
        tail -n 20 "$DEMO_DIR/train_$name.log" >&2
        return 1
    fi
}
train showers_small --data "$DEMO_DIR/showers_small.root" --tree showers --voxels voxels \
    --condition incident_energy &
SHOWERS=$!
train dimuon --data "$DEMO_DIR/dimuon.root" --tree events \
    --features E1,px1,py1,pz1,Q1,E2,px2,py2,pz2,Q2 &
DIMUON=$!
wait "$SHOWERS"
wait "$DIMUON"

# --- Serving: every trained model under $DEMO_DIR/models, after printing a request that works.
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
