"""A dynamic batcher: concurrent small requests to one model share one generator call.

As Triton's dynamic batcher does: requests that arrive while the model's
previous batch is still running queue up, and are sent together as one call
as soon as it finishes (or at once when they reach ``max_events``). A request
to an idle model goes straight away, or after at most ``max_wait_s`` when that
is set, to give others a chance to join. So the wait of any request is bounded
by one batch's run time plus ``max_wait_s``. On a GPU one call of 4096 events
costs about what one of 64 costs, so merging raises throughput; on a 2-core CPU
the measured effect is as large as the run-to-run noise (docs/benchmarks.md).
Only unseeded requests are merged: a seeded request must get the same events
whoever else is asking at the same time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import numpy as np

# generate(n_events, conditions (n, C)) -> features (n, F)
GenerateFunction = Callable[[int, np.ndarray], Awaitable[np.ndarray]]


@dataclass
class _Pending:
    n_events: int
    conditions: np.ndarray  # (n, C)
    result: asyncio.Future[np.ndarray]


class DynamicBatcher:
    """Merges the requests that queue up while a batch runs (or within ``max_wait_s``)."""

    def __init__(
        self,
        generate: GenerateFunction,
        *,
        max_wait_s: float,
        max_events: int,
        observe: Callable[[int], None] = lambda n_requests: None,
    ) -> None:
        self._generate = generate
        self._max_wait_s = max_wait_s
        self._max_events = max_events
        self._observe = observe  # told how many requests each generator call merged
        self._pending: list[_Pending] = []
        self._pending_events = 0
        self._timer: asyncio.TimerHandle | None = None
        self._running: set[asyncio.Task[None]] = set()

    async def generate(self, n_events: int, conditions: np.ndarray) -> np.ndarray:
        """Features (n_events, F) for one request, generated together with its neighbours."""
        loop = asyncio.get_running_loop()
        pending = _Pending(n_events, conditions, loop.create_future())
        self._pending.append(pending)
        self._pending_events += n_events
        if self._pending_events >= self._max_events:
            self._flush()
        elif not self._running and self._timer is None:
            if self._max_wait_s > 0:
                self._timer = loop.call_later(self._max_wait_s, self._flush)
            else:
                self._flush()
        # Otherwise a batch is running: this request goes with the next one when it ends.
        return await pending.result

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._pending:
            return
        batch, self._pending, self._pending_events = self._pending, [], 0
        task = asyncio.get_running_loop().create_task(self._run(batch))
        self._running.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        if not self._running and self._timer is None:
            self._flush()  # the requests that queued up meanwhile

    async def _run(self, batch: list[_Pending]) -> None:
        self._observe(len(batch))
        total = sum(item.n_events for item in batch)
        conditions = np.concatenate([item.conditions for item in batch])  # (total, C)
        try:
            features = await self._generate(total, conditions)  # (total, F)
        except Exception as error:  # every waiting request gets the error
            for item in batch:
                if not item.result.done():
                    item.result.set_exception(error)
            return
        start = 0
        for item in batch:
            if not item.result.done():  # a client that went away has cancelled its future
                item.result.set_result(features[start : start + item.n_events])
            start += item.n_events
