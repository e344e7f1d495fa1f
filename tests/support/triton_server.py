"""A real Triton Inference Server on 127.0.0.1, from the ``nvidia-pytriton`` wheel's binary.

    with triton_server(repository, log=tmp_path / "triton.log") as server:
        tritonclient.http.InferenceServerClient(server.http_address)

The wheel ships ``tritonserver`` with the Python backend and one backend stub per Python
version (``python_backend_stubs/3.X``); as PyTriton itself does, the server is copied into a
work folder with the stub of the running Python, and runs with that Python's library, home and
``sys.path``, so that the Python backend's model (``model.py``) imports this environment's
numpy and onnxruntime. No ONNX Runtime backend is in the wheel.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.ports import LOOPBACK, free_port
from tests.support.processes import stop

STUB = "triton_python_backend_stub"


def pytriton_server_folder() -> Path | None:
    """The wheel's ``pytriton/tritonserver`` folder, or None when nvidia-pytriton is absent
    (found without importing pytriton, whose package needs numpy < 2)."""
    spec = importlib.util.find_spec("pytriton")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "tritonserver"
    return folder if (folder / "bin" / "tritonserver").is_file() else None


def missing_reason() -> str | None:
    """Why the real Triton cannot run here, or None when it can."""
    folder = pytriton_server_folder()
    if folder is None:
        return "nvidia-pytriton (the real tritonserver) is not installed: bash scripts/install.sh"
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    if not (folder / "python_backend_stubs" / version / STUB).is_file():
        return f"nvidia-pytriton has no Python backend stub for Python {version}"
    return None


@dataclass(frozen=True)
class TritonServer:
    """A running tritonserver: its HTTP and gRPC ``host:port`` (tritonclient's form) and log."""

    http_address: str
    grpc_address: str
    process: subprocess.Popen
    log: Path


def _installed_server(work: Path) -> Path:
    """The wheel's server copied into ``work`` with this Python's backend stub; its folder."""
    source = pytriton_server_folder()
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    server = work / "tritonserver"
    shutil.copytree(source, server, ignore=shutil.ignore_patterns("python_backend_stubs"))
    stub = server / "backends" / "python" / STUB
    shutil.copy(source / "python_backend_stubs" / version / STUB, stub)
    for program in (stub, server / "bin" / "tritonserver"):  # wheels drop the run bit
        program.chmod(0o755)
    return server


def _environment(wheel_server: Path) -> dict[str, str]:
    """The server's environment: the libraries of the wheel whose server folder is
    ``wheel_server`` (``site-packages/nvidia_pytriton.libs``), and this Python's own
    ``libpython``, home and import path for the backend stub."""
    libraries = [
        sysconfig.get_config_var("LIBDIR") or "",
        str(wheel_server.parent.parent / "nvidia_pytriton.libs"),
        os.environ.get("LD_LIBRARY_PATH", ""),
    ]
    environment = dict(os.environ)
    environment["LD_LIBRARY_PATH"] = os.pathsep.join(part for part in libraries if part)
    environment["PYTHONHOME"] = sys.base_prefix
    environment["PYTHONPATH"] = os.pathsep.join(path for path in sys.path if path)
    return environment


def _ready(http_address: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://{http_address}/v2/health/ready", timeout=2) as reply:
            return reply.status == 200
    except OSError:
        return False


@contextmanager
def triton_server(
    repository: Path, *, log: Path, timeout_s: float = 120.0
) -> Iterator[TritonServer]:
    """Run ``tritonserver`` on ``repository`` (HTTP and gRPC on free loopback ports, no
    metrics port) until the block ends; it is ready (all models loaded) when yielded."""
    reason = missing_reason()
    if reason is not None:
        raise RuntimeError(reason)
    with tempfile.TemporaryDirectory(prefix="tritonserver.") as work:
        folder = _installed_server(Path(work))
        http_port, grpc_port = free_port(), free_port()
        command = [
            str(folder / "bin" / "tritonserver"),
            f"--model-repository={repository.resolve()}",
            f"--backend-directory={folder / 'backends'}",
            f"--cache-directory={folder / 'caches'}",
            f"--http-address={LOOPBACK}",
            f"--http-port={http_port}",
            f"--grpc-address={LOOPBACK}",
            f"--grpc-port={grpc_port}",
            "--allow-metrics=false",
        ]
        environment = _environment(pytriton_server_folder())
        with open(log, "wb") as output:
            process = subprocess.Popen(
                command, stdout=output, stderr=subprocess.STDOUT, env=environment
            )
        server = TritonServer(f"{LOOPBACK}:{http_port}", f"{LOOPBACK}:{grpc_port}", process, log)
        try:
            deadline = time.monotonic() + timeout_s
            while not _ready(server.http_address):
                if process.poll() is not None or time.monotonic() > deadline:
                    tail = log.read_text(errors="replace")[-4000:]
                    raise RuntimeError(f"tritonserver did not become ready:\n{tail}")
                time.sleep(0.2)
            yield server
        finally:
            stop(process)
