"""Watch a live server while a hostile request runs: /healthz latency, RSS, statuses seen."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx

from tests.support.live_server import LiveServer

MIB = 1 << 20


@dataclass
class Watch:
    """What a watched stretch of time showed; RSS in bytes, latencies in seconds."""

    rss_before: int
    rss_peak: int = 0
    rss_after: int = 0
    health_latencies_s: list[float] = field(default_factory=list)
    health_failures: int = 0  # /healthz answers other than 200, or no answer within 10 s

    @property
    def health_max_s(self) -> float:
        return max(self.health_latencies_s, default=float("inf"))

    def figures(self) -> dict[str, float | int]:
        return {
            "healthz_max_ms": round(1000 * self.health_max_s, 1),
            "healthz_polls": len(self.health_latencies_s),
            "healthz_failures": self.health_failures,
            "rss_before_mib": round(self.rss_before / MIB, 1),
            "rss_peak_mib": round(self.rss_peak / MIB, 1),
            "rss_after_mib": round(self.rss_after / MIB, 1),
        }


@contextmanager
def watched(server: LiveServer, *, poll_s: float = 0.05, settle_s: float = 1.0) -> Iterator[Watch]:
    """Poll /healthz and RSS every ``poll_s`` during the block; RSS after is read ``settle_s``
    after it ends (the server hands free memory back in a thread once requests drain)."""
    watch = Watch(rss_before=server.rss_bytes())
    watch.rss_peak = watch.rss_before
    stop, polled = threading.Event(), threading.Event()

    def poll_once(client: httpx.Client) -> None:
        started = time.perf_counter()
        try:
            ok = client.get("/healthz").status_code == 200
        except httpx.HTTPError:
            ok = False
        watch.health_latencies_s.append(time.perf_counter() - started)
        watch.health_failures += not ok
        watch.rss_peak = max(watch.rss_peak, server.rss_bytes())
        polled.set()

    def poll() -> None:  # until stopped, and once more after: a block never goes unwatched
        with httpx.Client(base_url=server.url, timeout=10) as client:
            while not stop.wait(poll_s):
                poll_once(client)
            poll_once(client)

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    polled.wait(10)
    try:
        yield watch
    finally:
        stop.set()
        thread.join(timeout=30)
        time.sleep(settle_s)
        watch.rss_after = server.rss_bytes()
