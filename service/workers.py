"""One worker thread per device: generation runs there, off the event loop.

Torch releases the GIL inside its kernels, so while a large batch runs the
event loop keeps answering health checks and small requests. One thread per
device serialises the work a device gets (a GPU runs one batch at a time
anyway) and keeps torch's own thread pool from being oversubscribed.

Torch's intra-op thread count is per thread once a thread has used torch, and a thread
that has not yet takes the last count set anywhere: the worker's thread is given its count
when it starts, so a tiny batch run elsewhere under :func:`one_torch_thread` never changes it.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

Result = TypeVar("Result")


def _use_torch_threads(n_threads: int) -> None:
    import torch

    torch.set_num_threads(n_threads)


@contextmanager
def one_torch_thread() -> Iterator[None]:
    """Run torch on the calling thread with one intra-op thread, then restore its count.

    For a tiny batch on the event loop: two OpenMP threads gain nothing on a few rows, and
    on a busy machine the second one's wait for a core stalled a 16-event call for tens of
    milliseconds (docs/benchmarks.md). Setting the count costs about 0.4 us.
    """
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


class DeviceWorker:
    """A single thread that runs the calls meant for one device, in order, with torch on as
    many intra-op threads as the thread that creates the worker has."""

    def __init__(self, device: str) -> None:
        import torch

        self.device = device
        self._executor = ThreadPoolExecutor(
            max_workers=1,
            thread_name_prefix=f"hepgan-{device}",
            initializer=_use_torch_threads,
            initargs=(torch.get_num_threads(),),
        )

    async def call(self, function: Callable[..., Result], *args: Any, **kwargs: Any) -> Result:
        """Run ``function(*args, **kwargs)`` on the device's thread and await its result."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, functools.partial(function, *args, **kwargs)
        )

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
