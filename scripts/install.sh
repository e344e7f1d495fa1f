#!/usr/bin/env bash
# Install hepgan and its development tools into the current Python environment.
# torch is pinned first: on these machines 2.13.0 is the local CPU build (seconds to install);
# pyproject's range then installs nothing more. GPU users install their CUDA build first.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
"$PYTHON" -m pip install --quiet --disable-pip-version-check "torch==2.13.0"
"$PYTHON" -m pip install --quiet --disable-pip-version-check -e ".[dev]"
