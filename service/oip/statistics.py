"""Per-model inference statistics in Triton's form (the ``statistics`` extension,
``GET /v2/models/{name}/stats``).

One :class:`ModelStatistics` per served model counts the ``/v2`` inference requests that reached
the model: ``success`` and ``fail`` (count, total nanoseconds of the request from its body's
arrival to its response), ``compute_input`` (decoding the tensors), ``compute_infer``
(generation and report, our queue wait included: the device worker's queue is not timed apart)
and ``compute_output`` (encoding), ``inference_count`` (events: Triton counts batch items),
``execution_count`` (model executions: one per request here) and ``last_inference``
(milliseconds since the epoch). ``queue`` and the cache counters stay zero: no separate queue
time, no response cache.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

PHASES = ("compute_input", "compute_infer", "compute_output")
UNTIMED = ("queue", "cache_hit", "cache_miss")


@dataclass
class Duration:
    """A count and its total duration in nanoseconds (Triton's ``StatisticDuration``)."""

    count: int = 0
    ns: int = 0

    def add(self, ns: int) -> None:
        self.count += 1
        self.ns += ns

    def as_dict(self) -> dict[str, int]:
        return {"count": self.count, "ns": self.ns}


@dataclass
class ModelStatistics:
    """The counters of one model (updated on the event loop only)."""

    name: str
    version: str
    inference_count: int = 0
    execution_count: int = 0
    last_inference_ms: int = 0
    success: Duration = field(default_factory=Duration)
    fail: Duration = field(default_factory=Duration)
    phases: dict[str, Duration] = field(
        default_factory=lambda: {phase: Duration() for phase in PHASES}
    )

    def succeeded(self, n_events: int, total_ns: int, phase_ns: dict[str, int]) -> None:
        """Count a request that gave ``n_events`` events in ``total_ns``, ``phase_ns`` per
        phase of :data:`PHASES`."""
        self.success.add(total_ns)
        for phase, ns in phase_ns.items():
            self.phases[phase].add(ns)
        self.inference_count += n_events
        self.execution_count += 1
        self.last_inference_ms = time.time_ns() // 1_000_000

    def failed(self, total_ns: int) -> None:
        """Count a request for this model that ended in an error after ``total_ns``."""
        self.fail.add(total_ns)
        self.last_inference_ms = time.time_ns() // 1_000_000

    def as_dict(self) -> dict:
        """One entry of ``model_stats``, with Triton's keys."""
        durations = {"success": self.success, "fail": self.fail, **self.phases}
        stats = {key: value.as_dict() for key, value in durations.items()}
        stats.update({key: Duration().as_dict() for key in UNTIMED})
        return {
            "name": self.name,
            "version": self.version,
            "last_inference": self.last_inference_ms,
            "inference_count": self.inference_count,
            "execution_count": self.execution_count,
            "inference_stats": stats,
            "response_stats": {},
            "batch_stats": [],
            "memory_usage": [],
        }


@dataclass
class InferenceStatistics:
    """The statistics of every model that was asked for, by name."""

    version: str
    models: dict[str, ModelStatistics] = field(default_factory=dict)

    def of(self, name: str) -> ModelStatistics:
        """The counters of model ``name``, zero until its first request."""
        if name not in self.models:
            self.models[name] = ModelStatistics(name, self.version)
        return self.models[name]
