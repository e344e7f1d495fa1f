"""The C++ example of docs/onnx.md, compiled and run against an exported shower model.

It needs a C++ compiler and the ONNX Runtime C++ headers, which none of the registries this
project installs from ship (the onnxruntime wheel has the library only): set
ONNXRUNTIME_ROOT to an ONNX Runtime release (include/, lib/) to run it; otherwise it skips,
saying which is missing.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.tiny import make_tiny_artefact

REPO_ROOT = Path(__file__).resolve().parents[2]
HEADER = "onnxruntime_cxx_api.h"


def _include_folder() -> Path | None:
    candidates = [Path("/usr/include/onnxruntime"), Path("/usr/local/include/onnxruntime")]
    if "ONNXRUNTIME_ROOT" in os.environ:
        candidates.insert(0, Path(os.environ["ONNXRUNTIME_ROOT"]) / "include")
    return next((folder for folder in candidates if (folder / HEADER).is_file()), None)


def _library_folder() -> Path | None:
    """ONNXRUNTIME_ROOT/lib, else the Python wheel's libonnxruntime.so."""
    root = os.environ.get("ONNXRUNTIME_ROOT")
    if root and list((Path(root) / "lib").glob("libonnxruntime.so*")):
        return Path(root) / "lib"
    try:
        import onnxruntime
    except ImportError:
        return None
    capi = Path(onnxruntime.__file__).parent / "capi"
    return capi if list(capi.glob("libonnxruntime.so*")) else None


def _example() -> str:
    text = (REPO_ROOT / "docs" / "onnx.md").read_text()
    (code,) = re.findall(r"```cpp\n(.*?)```", text, flags=re.S)
    return code


@pytest.mark.slow
def test_the_cpp_example_reads_events_from_the_exported_graph(tmp_path: Path) -> None:
    compiler = shutil.which("g++") or shutil.which("c++")
    include, library = _include_folder(), _library_folder()
    if compiler is None:
        pytest.skip("no C++ compiler (g++) on this machine")
    if include is None:
        pytest.skip(f"ONNX Runtime C++ headers ({HEADER}) not found: set ONNXRUNTIME_ROOT")
    if library is None:
        pytest.skip("libonnxruntime.so not found (pip install onnxruntime, or ONNXRUNTIME_ROOT)")
    from hepgan.cli import main

    model = make_tiny_artefact(tmp_path / "showers", kind="showers")
    assert main(["export", "--model", str(model), "-o", str(tmp_path / "showers.onnx")]) == 0
    source = tmp_path / "showers.cpp"
    source.write_text(_example())
    libraries = sorted(library.glob("libonnxruntime.so*"))
    link = (
        ["-L", str(library), "-lonnxruntime"]
        if (library / "libonnxruntime.so").exists()
        else [str(libraries[0])]
    )
    subprocess.run(
        [compiler, "-std=c++17", str(source), "-I", str(include), *link, "-o", "showers"],
        cwd=tmp_path,
        check=True,
        timeout=300,
    )
    env = {**os.environ, "LD_LIBRARY_PATH": str(library)}
    done = subprocess.run(
        ["./showers"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    lines = re.findall(r"E_inc (\S+) MeV: deposited (\S+) MeV", done.stdout)
    assert [float(energy) for energy, _ in lines] == [1000.0, 5000.0, 20000.0, 65000.0]
    assert all(math.isfinite(float(deposited)) and float(deposited) >= 0 for _, deposited in lines)
