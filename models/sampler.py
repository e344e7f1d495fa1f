"""The one way events are generated: noise and conditions through the generator and back to
physical units. Training's validation, the artefact, ``hepgan generate`` and the service all
call :meth:`Sampler.generate`, and the card's report and the service's are built alike, so the
same events get the same scores: the card's reference report is the service's report of the
card's events (the reference conditions, the noise of the training seed + 2).

A seed fixes the noise: ``torch.Generator().manual_seed(s)`` with ``s`` the first word of
``numpy.random.SeedSequence(seed)``, drawn on the CPU in batches of ``batch_size`` events, so
the same seed, conditions and batch size give the same noise on any device, and on one
machine the same events bit for bit. On another device the events agree to float32
rounding of a different summation order (cuBLAS against the CPU's BLAS), not bit for bit:
tests/cuda/test_cuda_paths.py holds every value to within 1e-4 of its column's largest
value plus 1e-5 of itself, for showers 99.9 % of the voxels (a voxel within rounding of
the readout threshold may be empty on one device only) and each shower's sum to 1e-3.

The service calls :meth:`Sampler.generate` once per chunk of ``HEPGAN_CHUNK_EVENTS`` events,
with the chunk's own seed ``chunk_seed(seed, chunk, 0)`` (:mod:`hepgan.service.conditions`),
so that a request's events do not depend on how it is batched or streamed; a request with a
seed therefore gets other events than one call with that seed, and a service report of the
training seed + 2 scores other draws of the model than the card's (tests/service/
test_card_agrees_with_service.py).

When the feature transform carries an acceptance (:mod:`hepgan.models.transforms.acceptance`),
events outside it are redrawn with the next noise of the same seed, in rounds over all the
events still outside, at most :data:`MAX_REDRAW_ROUNDS` times: the model's distribution
restricted to the acceptance. An event still outside after that (a model that puts under
half its events inside leaves fewer than one in 2^32 of them) is kept as drawn, so
generation never stalls.

When it carries a shower symmetry (:mod:`hepgan.models.transforms.symmetry`), each generated
shower is rotated or reflected by a random element of the group, drawn by
``numpy.random.default_rng([s, 1])`` with ``s`` the noise's torch seed: the same seed gives
the same showers.

Neither step is part of :meth:`Sampler.generate_from_noise` or the exported graphs, which map
given noise to events one to one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import torch

from hepgan.models.networks import Generator
from hepgan.models.transforms import FeatureTransform

# Values (events x transformed features) per generator call: bounds the float64 working
# arrays of the inverse transform (8 bytes each, a few copies) for wide showers.
VALUES_PER_BATCH = 1 << 24
MAX_BATCH_EVENTS = 65536
MAX_REDRAW_ROUNDS = 32


def noise_seed(seed: int | None) -> int:
    """The torch seed of a user's seed (fresh entropy for None): SeedSequence's first word."""
    return int(np.random.SeedSequence(seed).generate_state(1)[0])


def default_batch_size(n_features: int) -> int:
    """Events per generator call: 65536, fewer for wide outputs (at most 2^24 values)."""
    return max(1, min(MAX_BATCH_EVENTS, VALUES_PER_BATCH // max(n_features, 1)))


class Sampler:
    """A generator network with the transforms fitted for it; ``n_features`` physical
    features per event (the voxels of a shower)."""

    def __init__(
        self,
        generator: Generator,
        feature_transform: FeatureTransform,
        condition_transform: FeatureTransform,
        *,
        n_features: int,
    ) -> None:
        self.generator = generator
        self.n_features = n_features
        self.feature_transform = feature_transform
        self.condition_transform = condition_transform

    def generate(
        self,
        conditions: np.ndarray,
        *,
        seed: int | None,
        device: str | torch.device = "cpu",
        batch_size: int | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """Events (N, F) float32 in physical units for physical conditions (N, C).

        ``batch_size`` (default :func:`default_batch_size`) is part of what a seed means.
        The generator runs in eval mode and is put back in the mode it was in. Events
        outside the transform's acceptance are redrawn, showers get a random element of its
        symmetry (module docstring). ``progress``, when given, is called with the number of
        events of each batch of the first pass as it is done (they add up to N).
        """
        conditions = np.asarray(conditions, dtype=np.float64)  # (N, C)
        batch_size = batch_size or default_batch_size(self.generator.config.n_features)
        torch_seed = noise_seed(seed)
        noise_source = torch.Generator().manual_seed(torch_seed)

        def draw(rows_conditions: np.ndarray, done: Callable[[int], None] | None) -> np.ndarray:
            noise_batches = (
                self.generator.sample_noise(
                    min(batch_size, len(rows_conditions) - start),
                    generator=noise_source,
                    device=device,
                )  # (B, Z), drawn on the CPU generator
                for start in range(0, len(rows_conditions), batch_size)
            )
            return self._run(noise_batches, rows_conditions, done)

        events = draw(conditions, progress)  # (N, F)
        acceptance = self.feature_transform.acceptance
        if acceptance is not None:
            for _ in range(MAX_REDRAW_ROUNDS):
                outside = np.flatnonzero(~acceptance.contains(events))
                if not len(outside):
                    break
                events[outside] = draw(conditions[outside], None)
        symmetry = self.feature_transform.symmetry
        if symmetry is not None:
            events = symmetry.apply(events, np.random.default_rng([torch_seed, 1]))
        return events

    def generate_from_noise(
        self, noise: np.ndarray, conditions: np.ndarray, *, device: str | torch.device = "cpu"
    ) -> np.ndarray:
        """Events (N, F) float32 for given noise (N, Z) ~ N(0, 1) and physical conditions
        (N, C): what an exported graph (:mod:`hepgan.models.export`) computes. Batches of
        :func:`default_batch_size` bound the working memory; the events do not depend on them."""
        noise = np.asarray(noise, dtype=np.float32)  # (N, Z)
        conditions = np.asarray(conditions, dtype=np.float64).reshape(len(noise), -1)  # (N, C)
        batch_size = default_batch_size(self.generator.config.n_features)
        noise_batches = (
            torch.from_numpy(noise[start : start + batch_size]).to(device)
            for start in range(0, len(noise), batch_size)
        )
        return self._run(noise_batches, conditions)

    def _run(
        self,
        noise_batches: Iterator[torch.Tensor],
        conditions: np.ndarray,
        progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """Events (N, F) float32 for consecutive noise batches covering conditions (N, C), with
        the generator in eval mode (put back in the mode it was in); ``progress`` gets each
        batch's number of events once it is done."""
        transformed = self.condition_transform.forward(conditions)  # (N, C)
        batches, start = [], 0
        was_training = self.generator.training
        if was_training:  # walking the modules costs a tiny batch 30 us: only when needed
            self.generator.eval()
        try:
            with torch.inference_mode():
                for noise in noise_batches:
                    stop = start + len(noise)
                    batches.append(
                        self._events(noise, transformed[start:stop], conditions[start:stop])
                    )
                    start = stop
                    if progress is not None:
                        progress(len(noise))
        finally:
            if was_training:
                self.generator.train()
        if not batches:
            return np.zeros((0, self.n_features), dtype=np.float32)
        return np.concatenate(batches).astype(np.float32, copy=False)  # (N, F)

    def _events(
        self, noise: torch.Tensor, transformed: np.ndarray, conditions: np.ndarray
    ) -> np.ndarray:
        """One generator call: noise (B, Z) and transformed conditions (B, C) -> physical (B, F)."""
        batch_conditions = torch.from_numpy(transformed).to(noise.device)
        output = self.generator(noise, batch_conditions).float().cpu().numpy()
        return self.feature_transform.inverse(output, conditions)
