"""Admission control: bounds on what the requests in flight may hold, and 503 beyond them.

A :class:`Budget` is a capacity in bytes (memory, or temporary disk) that requests
take from when they are admitted and give back when their response has ended: sent
in full, aborted, or abandoned by the client. A request whose cost does not fit gets
a 503 with ``Retry-After`` instead of growing the process. A single request larger
than the whole budget is admitted when nothing else holds any of it (it is charged the
whole budget), so a budget set too small slows the service down but never locks a
request out.

What a request took is recorded in its ASGI scope; :class:`AdmissionMiddleware`
gives it back when the app returns, which for a streamed body is after its last
byte. That is one dictionary look-up per request, and nothing at all for requests
that take nothing (health checks, model cards). When a budget drains to zero after
a large amount has been given back, glibc's free memory is handed back to the system
(:func:`hepgan.service.memory.release_free_memory`, in a thread), so RSS returns
near its baseline after a burst.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Receive, Scope, Send

from hepgan.service.errors import OverloadedError
from hepgan.service.memory import release_free_memory

HELD_KEY = "hepgan.held"  # scope entry: list of (budget, bytes) a request has taken
RETRY_AFTER_S = 1
TRIM_AFTER_BYTES = 64 << 20  # give memory back to the system once this much was released


class Budget:
    """``capacity`` bytes shared by the requests in flight; ``setting`` names its variable."""

    def __init__(self, capacity: int, *, what: str, setting: str) -> None:
        self.capacity = capacity
        self.what = what  # e.g. "memory held by requests in flight"
        self.setting = setting  # e.g. "HEPGAN_MAX_BYTES_IN_FLIGHT"
        self.in_use = 0
        self.released_since_trim = 0

    def take(self, scope: Scope, cost: int) -> None:
        """Take ``cost`` bytes for the request of ``scope``, or raise OverloadedError (503)."""
        held = scope.setdefault(HELD_KEY, [])
        own = sum(taken for budget, taken in held if budget is self)
        cost = min(max(cost, 0), self.capacity - own)  # one larger than the budget runs alone
        if cost <= 0:
            return
        if self.in_use + cost > self.capacity:
            raise OverloadedError(
                f"the server is busy: {self.what} is at {self.in_use} of {self.capacity} bytes "
                f"({self.setting}) and this request needs {cost}; retry after "
                f"{RETRY_AFTER_S} s",
                retry_after_s=RETRY_AFTER_S,
            )
        self.in_use += cost
        held.append((self, cost))

    def give_back(self, cost: int) -> bool:
        """Return ``cost`` bytes; True when the budget is now empty after a large release."""
        self.in_use -= cost
        self.released_since_trim += cost
        if self.in_use == 0 and self.released_since_trim >= TRIM_AFTER_BYTES:
            self.released_since_trim = 0
            return True
        return False


class AdmissionMiddleware:
    """Gives back what a request took from the budgets once its response has ended."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        finally:
            held = scope.get(HELD_KEY)
            if held:
                trim = [budget.give_back(cost) for budget, cost in held]
                held.clear()
                if any(trim):
                    asyncio.get_running_loop().run_in_executor(None, release_free_memory)
