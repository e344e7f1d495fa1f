"""A real ``hepgan serve`` subprocess on 127.0.0.1: start it, wait for /readyz, read its memory.

with serve(models_dir, log=tmp_path / "serve.log", api_key="k") as server:
    httpx.get(f"{server.url}/v1/models", headers=server.auth)
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from hepgan.client import Client, ServiceError
from tests.support.ports import LOOPBACK, free_port, loopback_url
from tests.support.process_memory import peak_resident_bytes, resident_bytes
from tests.support.processes import stop


@dataclass(frozen=True)
class LiveServer:
    """A running service: its base URL, process id, API key (None: no key) and log file."""

    url: str
    pid: int
    api_key: str | None
    log: Path

    @property
    def auth(self) -> dict[str, str]:
        """The header that passes the API key check (none when the server has no key)."""
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    def rss_bytes(self) -> int:
        """Resident set size of the server process now, bytes."""
        return resident_bytes(self.pid)

    def peak_rss_bytes(self) -> int:
        """Peak resident set size of the server process so far, bytes."""
        return peak_resident_bytes(self.pid)


@contextmanager
def serve(
    models_dir: Path,
    *,
    log: Path,
    api_key: str | None = None,
    environment: dict[str, str] | None = None,
    ready_timeout_s: float = 180.0,
    python: str = sys.executable,
) -> Iterator[LiveServer]:
    """Start ``hepgan serve --models models_dir`` and yield once ``/readyz`` says loading ended.

    ``environment`` is added to this process's (``HEPGAN_*`` settings, malloc tuning); the
    API key is ``api_key`` alone (an inherited ``HEPGAN_API_KEY`` is dropped); the server's
    output goes to ``log``; ``python`` is the interpreter whose hepgan is served (another
    environment's, to compare two versions). The process is terminated on exit (killed after
    20 s).
    """
    port = free_port()
    env = {**os.environ, **(environment or {})}
    env.pop("HEPGAN_API_KEY", None)
    if api_key is not None:
        env["HEPGAN_API_KEY"] = api_key
    command = [python, "-m", "hepgan.cli", "serve", "--models", str(models_dir)]
    command += ["--host", LOOPBACK, "--port", str(port), "--log-level", "warning"]
    with open(log, "wb") as log_file:
        process = subprocess.Popen(command, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    server = LiveServer(url=loopback_url(port), pid=process.pid, api_key=api_key, log=log)
    try:
        _wait_until_loaded(server, process, ready_timeout_s)
        yield server
    finally:
        stop(process, timeout_s=20)


def _wait_until_loaded(server: LiveServer, process: subprocess.Popen, timeout_s: float) -> None:
    """Client.wait_until_loaded in one-second slices, failing at once if the process exits."""
    deadline = time.monotonic() + timeout_s
    with Client(server.url, timeout=2.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"hepgan serve exited with {process.returncode}: {server.log}")
            try:
                client.wait_until_loaded(timeout_s=1.0, poll_s=0.25)
                return
            except ServiceError:
                pass
    raise RuntimeError(f"hepgan serve not loaded after {timeout_s} s: {server.log}")
