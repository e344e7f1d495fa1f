#!/usr/bin/env bash
# Install hepgan into the current Python environment.
#   bash scripts/install.sh            # with the development tools and the test browser
#   bash scripts/install.sh --runtime  # the CLI and the service only (what the demo needs)
# torch is pinned first: on these machines 2.13.0 is the local CPU build (seconds to install);
# pyproject's range then installs nothing more. GPU users install their CUDA build first.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
# torch.compile on the CPU (inductor) builds C++ kernels: the tests and compile = true need g++.
if ! command -v g++ >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq && apt-get install -y -qq --no-install-recommends g++
    else
        echo "install.sh: g++ not found; install it for torch.compile on the CPU" >&2
    fi
fi
"$PYTHON" -m pip install --quiet --disable-pip-version-check "torch==2.13.0"
if [ "${1:-}" = "--runtime" ]; then
    "$PYTHON" -m pip install --quiet --disable-pip-version-check -e .
    exit 0
fi
"$PYTHON" -m pip install --quiet --disable-pip-version-check -e ".[dev]"

# tests/models/test_triton_server.py and benchmarks/peers.py run a real Triton Inference Server:
# the tritonserver binary (with its Python backend and stubs for Python 3.8-3.13) of the
# nvidia-pytriton wheel. Only the binary is used, never pytriton's Python API, so the wheel goes
# in without its dependencies: they pin numpy < 2, which the project is past (the exported
# model.py reads tensors by DLPack, so the NumPy 1 stubs work with NumPy 2). Not in the dev
# extra for that reason. The stub links the running Python's libpython3.X.so.
"$PYTHON" -m pip install --quiet --disable-pip-version-check --no-deps "nvidia-pytriton>=0.7,<0.8"
PY_VERSION=$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
PY_LIBDIR=$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_config_var("LIBDIR") or "")')
if [ ! -e "$PY_LIBDIR/libpython$PY_VERSION.so.1.0" ] && ! { ldconfig -p 2>/dev/null | grep "libpython$PY_VERSION.so.1.0" >/dev/null; }; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq && apt-get install -y -qq --no-install-recommends "libpython$PY_VERSION"
    else
        echo "install.sh: libpython$PY_VERSION.so.1.0 not found; the real-Triton tests will fail" >&2
    fi
fi

# The browser tests (tests/browser) drive Debian's chromium through Playwright; Playwright's
# own browser downloads are never used. Without root the tests skip and say why.
if ! command -v chromium > /dev/null; then
    if [ "$(id -u)" = "0" ] && command -v apt-get > /dev/null; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
    else
        echo "install.sh: chromium is missing and cannot be installed here (needs root and" \
            "apt-get): the browser tests will be skipped" >&2
    fi
fi

# benchmarks/bench_small_requests.py drives the service with wrk (compiled, so the client does
# not hide the server's cost) besides httpx; Debian packages it.
if ! command -v wrk >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq && apt-get install -y -qq --no-install-recommends wrk
    else
        echo "install.sh: wrk not found; install it for benchmarks/bench_small_requests.py" >&2
    fi
fi
