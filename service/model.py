"""One model as the service holds it: the artefact, its device worker, its batcher and the
prepared reference that every report compares against."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from hepgan.service.batching import DynamicBatcher
from hepgan.service.workers import DeviceWorker, one_torch_thread

# A CPU batch of at most this many values (events x features) is generated on the event loop:
# 16 showers of 120 voxels (1,920 values) take about 0.2 ms on one core, while the hop to the
# device thread and back cost a small request more CPU time than that (docs/benchmarks.md).
INLINE_GENERATE_VALUES = 1 << 13

if TYPE_CHECKING:
    from hepgan.models.artefact import ModelArtefact
    from hepgan.validation.report.conditions import PreparedConditions
    from hepgan.validation.report.observables import ObservableDefinition
    from hepgan.validation.report.reference import PreparedReference


@dataclass
class LoadedModel:
    """One artefact ready to serve, with what every report compares against."""

    name: str
    artefact: ModelArtefact
    device: str
    worker: DeviceWorker
    reference_conditions: np.ndarray  # (M, C)
    prepared_conditions: PreparedConditions  # the same by name, sorted and binned once for reports
    observables: ObservableDefinition  # what every report of this model compares
    reference: PreparedReference  # the reference's observables, sorted once for every report
    observable_units: dict[str, str]  # unit of each observable, named once at load
    batcher: DynamicBatcher | None = None
    batch_request_max_events: int = 0

    @property
    def condition_names(self) -> list[str]:
        return list(self.artefact.card.condition_names)

    async def generate(self, n_events: int, conditions: np.ndarray, seed: int | None) -> np.ndarray:
        """Features (n_events, F) in physical units for conditions (n_events, C), on the
        device's worker thread, or here for a tiny CPU batch (:data:`INLINE_GENERATE_VALUES`),
        on one torch thread.

        Other small unseeded requests go through the dynamic batcher when it is on. A tiny CPU
        batch does not: generated on the event loop, it leaves no time for others to queue up.
        """
        n_values = n_events * self.artefact.card.n_features
        if self.device == "cpu" and n_values <= INLINE_GENERATE_VALUES:
            with one_torch_thread():
                return self.artefact.generate(
                    n_events, conditions=conditions, seed=seed, device=self.device
                )
        if self.batcher is not None and seed is None and n_events <= self.batch_request_max_events:
            return await self.batcher.generate(n_events, conditions)
        return await self.generate_unbatched(n_events, conditions, seed)

    async def generate_unbatched(
        self, n_events: int, conditions: np.ndarray, seed: int | None = None
    ) -> np.ndarray:
        """One generator call for this request (or a merged batch) alone."""
        return await self.worker.call(
            self.artefact.generate,
            n_events,
            conditions=conditions,
            seed=seed,
            device=self.device,
        )
