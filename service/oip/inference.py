"""One Open Inference Protocol request, from decoded tensors to events and report summary.

Inputs: ``conditions`` (N, C) FP32/FP64 in the card's units (required for a conditional
model), optionally ``noise`` (N, Z) ~ N(0, 1). Request parameters: ``seed`` (int; not with
``noise``), ``validate`` (bool, default true), ``extrapolate`` (bool, default false) and, for a
model without conditions and no noise, ``n_events``. Output: ``events`` (N, F) FP32.

Without noise the request becomes the ``/v1`` :class:`GenerateRequest` with per-event
conditions and runs as a :class:`GenerationJob`: the same checks, chunks and per-chunk
seeds, so a seed gives the same events on both routes. With noise, the artefact's
:meth:`Sampler.generate_from_noise` computes what the exported ONNX graph computes.
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
import numpy as np

from hepgan.service.errors import RequestInputError
from hepgan.service.jobs import GenerationJob
from hepgan.service.metrics import ServiceMetrics
from hepgan.service.model import LoadedModel
from hepgan.service.oip.errors import OipError
from hepgan.service.oip.tensors import InferenceRequest
from hepgan.service.schemas import GenerateRequest
from hepgan.service.settings import Settings

CONDITIONS = "conditions"
NOISE = "noise"
EVENTS = "events"
# Responses are held whole (the protocol has no streaming): 2^26 float32 values, 256 MiB.
MAX_RESPONSE_VALUES = 1 << 26
SUMMARY_KEYS = (
    "status",
    "worst_ks",
    "ks_critical_value",
    "mean_js_nats",
    "worst_observable",
    "n_failing",
    "extrapolated",
)


def event_limit(settings: Settings, n_features: int) -> int:
    """The most events one request may ask for: HEPGAN_MAX_EVENTS_PER_REQUEST, and at most
    :data:`MAX_RESPONSE_VALUES` values in the response."""
    return min(settings.max_events_per_request, max(1, MAX_RESPONSE_VALUES // n_features))


def _flag(parameters: dict[str, Any], name: str, default: bool) -> bool:
    value = parameters.get(name, default)
    if not isinstance(value, bool):
        raise OipError(400, f"parameter {name!r} must be true or false, got {value!r}")
    return value


def _integer(parameters: dict[str, Any], name: str) -> int | None:
    """Parameter ``name`` as an integer in [0, 2^63), or None when absent."""
    value = parameters.get(name)
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63
    ):
        raise OipError(400, f"parameter {name!r} must be an integer in [0, 2^63), got {value!r}")
    return value


def _matrix(request: InferenceRequest, name: str, width: int) -> np.ndarray | None:
    """Input ``name`` as (N, width) float64 ((N,) is taken as (N, 1)), or None if absent."""
    values = request.inputs.get(name)
    if values is None:
        return None
    if values.dtype.kind != "f":
        raise OipError(400, f"input {name!r} must be FP32 or FP64, got {values.dtype}")
    if values.ndim == 1 and width == 1:
        values = values[:, None]
    if values.ndim != 2 or values.shape[1] != width:
        raise OipError(
            400, f"input {name!r} must have shape [N, {width}], got {list(values.shape)}"
        )
    if not np.all(np.isfinite(values)):
        raise OipError(400, f"input {name!r} must hold finite numbers")
    return values.astype(np.float64)


class Inference:
    """A checked request for ``model``; :meth:`run` gives the events and the report summary."""

    def __init__(
        self,
        model: LoadedModel,
        request: InferenceRequest,
        *,
        settings: Settings,
        metrics: ServiceMetrics,
    ) -> None:
        card = model.artefact.card
        self.model = model
        unknown = sorted(set(request.inputs) - {CONDITIONS, NOISE})
        if unknown:
            raise OipError(400, f"unknown input {unknown[0]!r}; inputs: {CONDITIONS}, {NOISE}")
        unknown_outputs = sorted(set(request.outputs) - {EVENTS})
        if unknown_outputs:
            raise OipError(400, f"unknown output {unknown_outputs[0]!r}; outputs: {EVENTS}")
        parameters = request.parameters
        self.seed = _integer(parameters, "seed")
        conditions = _matrix(request, CONDITIONS, card.n_conditions)
        self.noise = _matrix(request, NOISE, card.architecture["latent_dim"])
        if card.n_conditions and conditions is None:
            raise OipError(400, f"input {CONDITIONS!r} [N, {card.n_conditions}] is required")
        if self.noise is not None and self.seed is not None:
            raise OipError(400, "give input 'noise' or parameter 'seed', not both")
        n_events = self.n_events = self._n_events(conditions, _integer(parameters, "n_events"))
        limit = event_limit(settings, card.n_features)
        if n_events > limit:
            raise OipError(
                400,
                f"{n_events} events asked; the limit is {limit} per request for this model "
                f"(HEPGAN_MAX_EVENTS_PER_REQUEST, and at most {MAX_RESPONSE_VALUES} values in "
                "a response, which this protocol does not stream: /v1 streams): split the request",
            )
        names = card.condition_names
        specs = (
            {}
            if conditions is None
            else {n: conditions[:, j].tolist() for j, n in enumerate(names)}
        )
        generate_request = GenerateRequest(
            n_events=n_events,
            conditions=specs,
            seed=self.seed,
            validate=_flag(parameters, "validate", True),
            extrapolate=_flag(parameters, "extrapolate", False),
        )
        try:
            self.job = GenerationJob(model, generate_request, settings=settings, metrics=metrics)
        except RequestInputError as error:
            raise OipError(400, f"input {CONDITIONS!r}: {error}") from None

    def _n_events(self, conditions: np.ndarray | None, asked: int | None) -> int:
        counts = {len(array) for array in (conditions, self.noise) if array is not None}
        if len(counts) > 1:
            raise OipError(400, f"inputs {CONDITIONS!r} and {NOISE!r} differ in their first axis")
        if counts:
            n_events = counts.pop()
        elif asked is None:
            raise OipError(400, "give input 'noise' or parameter 'n_events' (no conditions)")
        else:
            n_events = asked
        if n_events < 1:
            raise OipError(400, "ask for at least one event")
        return n_events

    async def run(self) -> tuple[np.ndarray, dict[str, Any]]:
        """Events (N, F) float32 and the response parameters (report summary, seed)."""
        if self.noise is None:
            chunks = [chunk async for chunk in self.job.chunks()]
        else:
            conditions = self.job.conditions.chunk(0, 0, len(self.noise))
            artefact = self.model.artefact
            events = await self.model.worker.call(
                artefact.sampler.generate_from_noise,
                self.noise,
                conditions,
                device=self.model.device,
            )
            if not np.all(np.isfinite(events)):  # e.g. noise of 3e38: N(0, 1) draws never are
                raise OipError(
                    400,
                    f"input {NOISE!r} gives events that are not finite numbers; "
                    "noise is a draw of N(0, 1) per value",
                )
            chunks = [(events, conditions)]
        events = np.concatenate([chunk[0] for chunk in chunks])
        parameters: dict[str, Any] = {"validation_status": "skipped"}
        if self.seed is not None:
            parameters["seed"] = self.seed
        if self.job.request.run_validation:
            report = await anyio.to_thread.run_sync(self.job.report, chunks)
            summary = report["summary"]
            parameters = {
                **parameters,
                **{f"validation_{key}": summary[key] for key in SUMMARY_KEYS},
                "validation_events": report["scope"]["events_validated"],
            }
        return events, parameters
