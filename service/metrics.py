"""Prometheus metrics: requests, latency, events generated and validation failures per model.

Each app owns its own ``CollectorRegistry`` so several apps (tests, workers)
never share counters. With ``hepgan serve --workers N`` each worker process
exposes its own numbers; Prometheus sums them per pod.
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ABORTED = "aborted"  # status label of a response that failed after its first byte
LATENCY_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class ServiceMetrics:
    """The service's metric families, registered in a fresh registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "hepgan_http_requests",
            "HTTP requests answered, by route template, method and status code "
            '("aborted": the response failed after it started and its connection was closed)',
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "hepgan_http_request_duration_seconds",
            "Time from request to the last byte of the response, by route template",
            ["route", "method"],
            buckets=LATENCY_BUCKETS_S,
            registry=self.registry,
        )
        self.events_generated = Counter(
            "hepgan_events_generated",
            "Events generated, by model",
            ["model"],
            registry=self.registry,
        )
        self.generation_seconds = Histogram(
            "hepgan_generation_duration_seconds",
            "Time spent generating one chunk of events, by model",
            ["model"],
            buckets=LATENCY_BUCKETS_S,
            registry=self.registry,
        )
        self.merged_requests = Histogram(
            "hepgan_batcher_merged_requests",
            "Requests merged into one generator call by the dynamic batcher, by model",
            ["model"],
            buckets=(1, 2, 4, 8, 16, 32, 64, 128),
            registry=self.registry,
        )
        self.reports = Counter(
            "hepgan_validation_reports",
            "Validation reports built, by model and status (pass, warn, fail)",
            ["model", "status"],
            registry=self.registry,
        )
        self.validation_failures = Counter(
            "hepgan_validation_failures",
            "Batches whose validation report says fail, by model",
            ["model"],
            registry=self.registry,
        )

    def record_report(self, model: str, status: str) -> None:
        self.reports.labels(model, status).inc()
        if status == "fail":
            self.validation_failures.labels(model).inc()


class MetricsMiddleware:
    """Counts every request and times it to its last byte (streams included)."""

    def __init__(self, app: ASGIApp, *, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: int | str = 500  # what the server answers if the app raises before responding
        response_started = False

        async def send_and_record(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status, response_started = message["status"], True
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        except Exception:
            # After the status line the server can only close the connection: the client
            # sees an incomplete body, and the metrics say "aborted", never the status sent.
            if response_started:
                status = ABORTED
            raise
        finally:
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")
            method = scope["method"]
            self.metrics.requests.labels(template, method, str(status)).inc()
            self.metrics.latency.labels(template, method).observe(time.perf_counter() - started)
