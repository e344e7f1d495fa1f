#!/usr/bin/env bash
# The main job on the built-in example data: install, simulate example data, summarise it.
# Output goes to ./demo (override with DEMO_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
DEMO_DIR=${DEMO_DIR:-demo}
bash scripts/install.sh
mkdir -p "$DEMO_DIR"
hepgan simulate showers --geometry small -n 20000 --seed 1 -o "$DEMO_DIR/showers_small.root"
hepgan simulate dimuon -n 20000 --seed 2 -o "$DEMO_DIR/dimuon.root"
