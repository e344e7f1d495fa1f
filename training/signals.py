"""SIGINT/SIGTERM as a request to stop cleanly: the loop finishes its step and checkpoints."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def stop_on_signals() -> Iterator[dict[str, str | None]]:
    """While inside, SIGINT/SIGTERM only set ``flag["signal"]``; the loop stops at a step's end."""
    flag: dict[str, str | None] = {"signal": None}

    def handler(signum: int, frame: Any) -> None:
        flag["signal"] = signal.Signals(signum).name

    if threading.current_thread() is not threading.main_thread():
        yield flag
        return
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield flag
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
