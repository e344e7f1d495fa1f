#!/usr/bin/env bash
# Install, lint (ruff, the import contract, hadolint) and run the whole test suite, slow tests
# included.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
bash scripts/install.sh
"$PYTHON" -m ruff check .
"$PYTHON" -m ruff format --check .
"$PYTHON" scripts/check_imports.py  # the import contract in .importlinter
if [ -f Dockerfile ]; then hadolint Dockerfile; fi
"$PYTHON" -m pytest "$@"
