"""Turn a request's ``conditions`` into per-chunk (n, C) arrays, after checking them.

A condition may be one value for all events, one value per event, or a range
with a distribution; one left out is resampled from the reference sample's
conditions (jointly, so their correlations are kept). Values are checked
against the training range unless the request says ``"extrapolate": true``. The check and
the rule drawing a range are :mod:`hepgan.models.conditions`, shared with ``hepgan generate``.
Each chunk's random draws come from its own seed stream, so a chunk can be
recomputed (the npz and JSON encoders write conditions after the features)
and the same seed always gives the same conditions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from hepgan.models.conditions import draw_range, outside_training_range
from hepgan.service.errors import RequestInputError
from hepgan.service.schemas import ConditionRange, ConditionSpec

# Seed-stream labels: generator noise and condition draws of one chunk never share a stream.
NOISE_STREAM = 0
CONDITION_STREAM = 1


def chunk_seed(entropy: int, chunk_index: int, stream: int) -> int:
    """A 32-bit seed for one (chunk, stream), derived with NumPy's SeedSequence."""
    return int(np.random.SeedSequence([entropy, chunk_index, stream]).generate_state(1)[0])


class ConditionPlan:
    """The conditions of one request, drawable chunk by chunk."""

    def __init__(
        self,
        specs: Mapping[str, ConditionSpec],
        *,
        names: Sequence[str],
        ranges: Mapping[str, Sequence[float]],
        sample_reference: Callable[[int, int], np.ndarray],  # (n, seed) -> (n, C) reference rows
        n_events: int,
        entropy: int,
        extrapolate: bool,
    ) -> None:
        self.names = list(names)
        self.n_events = n_events
        self._entropy = entropy
        self._sample_reference = sample_reference
        self._outside: dict[str, str] = {}  # name -> why it is outside the training range
        unknown = sorted(set(specs) - set(self.names))
        if unknown:
            known = ", ".join(self.names) or "none"
            raise RequestInputError(
                ("conditions", unknown[0]), f"unknown condition; this model's conditions: {known}"
            )
        self._specs = {name: self._checked(name, specs[name], ranges) for name in specs}
        outside = [name for name, message in self._outside.items() if message]
        if outside and not extrapolate:
            raise RequestInputError(("conditions", outside[0]), self._outside[outside[0]])
        # True when some condition lies outside the training range (the report says so).
        self.extrapolated = bool(outside)
        self._missing = [i for i, name in enumerate(self.names) if name not in specs]

    def _checked(
        self,
        name: str,
        spec: ConditionSpec,
        ranges: Mapping[str, Sequence[float]],
    ) -> float | np.ndarray | ConditionRange:
        if isinstance(spec, list):
            spec = np.asarray(spec, dtype=np.float64)  # (N,)
            if len(spec) != self.n_events:
                raise RequestInputError(
                    ("conditions", name),
                    f"{len(spec)} per-event values given for n_events={self.n_events}",
                )
            low, high = (float(spec.min()), float(spec.max())) if len(spec) else (0.0, 0.0)
        elif isinstance(spec, ConditionRange):
            low, high = spec.low, spec.high
        else:
            low = high = float(spec)
        if not (np.isfinite(low) and np.isfinite(high)):
            raise RequestInputError(("conditions", name), "values must be finite")
        if isinstance(spec, ConditionRange) and not np.isfinite(high - low):
            # U(min, max) draws min + (max - min) u: the width must be a finite number too.
            raise RequestInputError(
                ("conditions", name),
                f"the range [{low:g}, {high:g}] is too wide: max - min must be a finite number",
            )
        self._outside[name] = (
            outside_training_range(low, high, ranges[name], how_to_allow='send "extrapolate": true')
            or ""
        )
        return spec

    def chunk(self, chunk_index: int, start: int, stop: int) -> np.ndarray:
        """Conditions of events [start, stop), shape (stop - start, C), float64."""
        n = stop - start
        rng = np.random.default_rng(chunk_seed(self._entropy, chunk_index, CONDITION_STREAM))
        values = np.empty((n, len(self.names)), dtype=np.float64)  # (n, C)
        if self._missing:
            resampled = self._sample_reference(n, int(rng.integers(2**32)))  # (n, C)
            values[:, self._missing] = resampled[:, self._missing]
        for column, name in enumerate(self.names):
            spec = self._specs.get(name)
            if spec is None:
                continue
            if isinstance(spec, np.ndarray):
                values[:, column] = spec[start:stop]
            elif isinstance(spec, ConditionRange):
                values[:, column] = draw_range(spec.low, spec.high, n, rng, spec.distribution)
            else:
                values[:, column] = spec
        return values
