"""A real ``hepgan serve`` subprocess on 127.0.0.1, and how to read its memory use."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx


@dataclass(frozen=True)
class LiveServer:
    """A running service: its base URL, process id, API key and log file."""

    url: str
    pid: int
    api_key: str
    log: Path

    @property
    def auth(self) -> dict[str, str]:
        """The header that passes the API key check."""
        return {"Authorization": f"Bearer {self.api_key}"}

    def rss_bytes(self) -> int:
        """Resident set size of the server process (bytes), from /proc (Linux)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError(f"no VmRSS for process {self.pid}")


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serve(
    models_dir: Path,
    *,
    api_key: str,
    log: Path,
    environment: dict[str, str] | None = None,
    ready_timeout_s: float = 180.0,
) -> Iterator[LiveServer]:
    """Start ``hepgan serve --models models_dir`` and yield once ``/readyz`` says loading ended."""
    port = free_port()
    env = {**os.environ, **(environment or {}), "HEPGAN_API_KEY": api_key}
    command = [sys.executable, "-m", "hepgan.cli", "serve", "--models", str(models_dir)]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    with open(log, "wb") as log_file:
        process = subprocess.Popen(command, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    server = LiveServer(url=f"http://127.0.0.1:{port}", pid=process.pid, api_key=api_key, log=log)
    try:
        _wait_until_loaded(server, process, ready_timeout_s)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_loaded(server: LiveServer, process: subprocess.Popen, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"hepgan serve exited with {process.returncode}: {server.log}")
        try:
            readiness = httpx.get(f"{server.url}/readyz", timeout=2.0).json()
            if not readiness["loading"]:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"hepgan serve not loaded after {timeout_s} s: {server.log}")
