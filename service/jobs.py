"""One generate request, from checked plan to response body.

The batch is generated in chunks of ``chunk_events`` (each chunk with its own
seed derived from the request's seed, so the events depend on the seed and the
chunk size only, never on batching, streaming or concurrency). When a report is
asked for, the first chunks (up to ``report_max_events``) are generated before
anything is sent, the report is built on them, and it goes first: into the
response headers and the format's own report slot. The remaining chunks are
generated (one ahead) and encoded while the body streams, so memory is bounded
by two chunks and the report sample, never by ``n_events``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio.to_thread
import numpy as np
from fastapi import Response
from fastapi.responses import StreamingResponse

from hepgan.service.conditions import NOISE_STREAM, ConditionPlan, chunk_seed
from hepgan.service.encoders import ENCODERS, BatchHeader, StreamEncoder
from hepgan.service.metrics import ServiceMetrics
from hepgan.service.model import LoadedModel
from hepgan.service.reports import batch_report, summary_headers
from hepgan.service.schemas import GenerateRequest
from hepgan.service.settings import Settings

Chunk = tuple[np.ndarray, np.ndarray]  # features (n, F) float32, conditions (n, C) float64
# A one-chunk body of at most this many values (events x (features + conditions)) is encoded
# on the event loop when its encoder is quick for small batches (npz, JSON): 16 x 121 values
# take about 0.15 ms, less than a hop to a thread and back on a loaded machine; larger ones,
# and ROOT and Arrow bodies, go to a thread so the loop stays free.
INLINE_ENCODE_VALUES = 1 << 14
# A report on at most this many events is built on the event loop: about 1.5 ms of small
# NumPy calls that hold the GIL anyway, so a thread would add two hops and no parallelism.
INLINE_REPORT_EVENTS = 16


# Entropy of unseeded requests' condition draws: seeded once from the OS, then no system call
# per request (secrets.randbits reads /dev/urandom each time); used on the event loop only.
_ENTROPY = np.random.default_rng()


class GenerationJob:
    """The checked plan of one request; raises RequestInputError for unusable conditions."""

    def __init__(
        self,
        model: LoadedModel,
        request: GenerateRequest,
        *,
        settings: Settings,
        metrics: ServiceMetrics,
    ) -> None:
        card = model.artefact.card
        self.model = model
        self.request = request
        self.settings = settings
        self.metrics = metrics
        # Unseeded requests still need one entropy for their condition draws, so that the
        # conditions can be replayed chunk by chunk; their noise stays unseeded (batchable).
        entropy = request.seed if request.seed is not None else int(_ENTROPY.integers(2**63))
        self.conditions = ConditionPlan(
            request.conditions,
            names=card.condition_names,
            ranges=card.condition_ranges,
            sample_reference=lambda n, seed: model.artefact.sample_conditions(n, seed=seed),
            n_events=request.n_events,
            entropy=entropy,
            extrapolate=request.extrapolate,
        )
        step = settings.chunk_events
        self.bounds = [
            (start, min(start + step, request.n_events))
            for start in range(0, request.n_events, step)
        ]

    def condition_chunks(self) -> Iterator[np.ndarray]:
        """The conditions again, chunk by chunk, for encoders that write them after the events."""
        for index, (start, stop) in enumerate(self.bounds):
            yield self.conditions.chunk(index, start, stop)

    async def chunks(self) -> AsyncIterator[Chunk]:
        """Generate the batch chunk by chunk, on the model's device worker.

        The next chunk is generated while the current one is encoded and sent, so
        the device never waits for the network; two chunks at most are held.
        """
        next_chunk: asyncio.Task[Chunk] | None = None
        try:
            for index in range(len(self.bounds)):
                current = next_chunk or asyncio.ensure_future(self._generate_chunk(index))
                chunk = await current
                next_chunk = None
                if index + 1 < len(self.bounds):
                    next_chunk = asyncio.ensure_future(self._generate_chunk(index + 1))
                yield chunk
        finally:
            if next_chunk is not None:  # the client went away
                next_chunk.cancel()

    async def _generate_chunk(self, index: int) -> Chunk:
        start, stop = self.bounds[index]
        conditions = self.conditions.chunk(index, start, stop)  # (n, C)
        seed = self.request.seed
        noise_seed = None if seed is None else chunk_seed(seed, index, NOISE_STREAM)
        started = time.perf_counter()
        features = await self.model.generate(stop - start, conditions, noise_seed)  # (n, F)
        self.metrics.generation_seconds.labels(self.model.name).observe(
            time.perf_counter() - started
        )
        self.metrics.events_generated.labels(self.model.name).inc(stop - start)
        return features, conditions

    async def respond(self) -> Response:
        """The response: whole for a one-chunk batch, streamed otherwise."""
        chunks = self.chunks()
        head: list[Chunk] = []
        report = None
        one_chunk = len(self.bounds) == 1
        if one_chunk:  # generated here: no task to run it ahead of the encoder
            head = [await self._generate_chunk(0)]
        elif self.request.run_validation:
            head = await _first_events(chunks, self.settings.report_max_events)
        if self.request.run_validation:
            if one_chunk and self.request.n_events <= INLINE_REPORT_EVENTS:
                report = self.report(head)
            else:
                report = await anyio.to_thread.run_sync(self.report, head)
        encoder = self._encoder(report)
        headers = {
            **summary_headers(report),
            "X-HEPGAN-Model": self.model.name,
            "X-HEPGAN-Events": str(self.request.n_events),
            "Content-Disposition": f'attachment; filename="{self.model.name}{encoder.suffix}"',
        }
        if self.request.seed is not None:
            headers["X-HEPGAN-Seed"] = str(self.request.seed)
        if one_chunk:  # the whole batch is one chunk: one body, no stream
            small = self.request.n_events * self._columns() <= INLINE_ENCODE_VALUES
            if small and encoder.quick_for_small_batches:
                content = encoder.whole(head)
            else:
                content = await anyio.to_thread.run_sync(encoder.whole, head)
            return Response(content, media_type=encoder.media_type, headers=headers)
        body = self._body(encoder, head, chunks)
        return StreamingResponse(body, media_type=encoder.media_type, headers=headers)

    def _columns(self) -> int:
        """Values per event in the body: features and conditions."""
        card = self.model.artefact.card
        return card.n_features + card.n_conditions

    def report(self, head: list[Chunk]) -> dict[str, Any]:
        """The validation report of the first events of ``head`` (at most report_max_events)."""
        features = np.concatenate([chunk[0] for chunk in head])[: self.settings.report_max_events]
        conditions = np.concatenate([chunk[1] for chunk in head])[: len(features)]
        report = batch_report(
            self.model,
            features,
            conditions,
            n_events_in_batch=self.request.n_events,
            extrapolated=self.conditions.extrapolated,
            histograms=self.request.histograms,
        )
        self.metrics.record_report(self.model.name, report["summary"]["status"])
        return report

    def _encoder(self, report: dict[str, Any] | None) -> StreamEncoder:
        card = self.model.artefact.card
        header = BatchHeader(
            model=self.model.name,
            n_events=self.request.n_events,
            seed=self.request.seed,
            feature_names=list(card.feature_names),
            feature_units=list(card.feature_units),
            condition_names=list(card.condition_names),
            condition_units=list(card.condition_units),
            report=report,
        )
        encoder_class = ENCODERS[self.request.format]
        return encoder_class(header, self.model.artefact.output_columns, card.output.tree)

    async def _body(
        self, encoder: StreamEncoder, head: list[Chunk], rest: AsyncIterator[Chunk]
    ) -> AsyncIterator[bytes]:
        """Encoded bytes; encoding runs in a thread so the event loop stays free."""
        try:
            yield encoder.begin()
            for features, conditions in head:
                yield await anyio.to_thread.run_sync(encoder.add, features, conditions)
            async for features, conditions in rest:
                yield await anyio.to_thread.run_sync(encoder.add, features, conditions)
            tail = encoder.finish(self.condition_chunks())
            while (part := await anyio.to_thread.run_sync(next, tail, None)) is not None:
                yield part
        finally:
            encoder.close()


async def _first_events(chunks: AsyncIterator[Chunk], n_events: int) -> list[Chunk]:
    """Take chunks from ``chunks`` until they hold ``n_events`` events (or it ends)."""
    head: list[Chunk] = []
    held = 0
    async for chunk in chunks:
        head.append(chunk)
        held += len(chunk[0])
        if held >= n_events:
            break
    return head
