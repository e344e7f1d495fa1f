"""One worker thread per device: generation runs there, off the event loop.

Torch releases the GIL inside its kernels, so while a large batch runs the
event loop keeps answering health checks and small requests. One thread per
device serialises the work a device gets (a GPU runs one batch at a time
anyway) and keeps torch's own thread pool from being oversubscribed.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

Result = TypeVar("Result")


class DeviceWorker:
    """A single thread that runs the calls meant for one device, in order."""

    def __init__(self, device: str) -> None:
        self.device = device
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"hepgan-{device}")

    async def call(self, function: Callable[..., Result], *args: Any, **kwargs: Any) -> Result:
        """Run ``function(*args, **kwargs)`` on the device's thread and await its result."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, functools.partial(function, *args, **kwargs)
        )

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
