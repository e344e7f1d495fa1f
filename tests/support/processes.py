"""Stopping a server subprocess that the tests or the benchmarks started."""

from __future__ import annotations

import subprocess


def stop(process: subprocess.Popen, *, timeout_s: float = 30.0) -> None:
    """SIGTERM ``process`` and wait up to ``timeout_s`` for it to exit, then SIGKILL it."""
    process.terminate()
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
