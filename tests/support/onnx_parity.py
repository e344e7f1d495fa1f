"""ONNX Runtime against the artefact's own path, for the same noise, in float32 ULPs.

    events, expected = onnx_and_sampler(artefact, session, n_events=1000, seed=7)
    worst = worst_ulps(events, expected)  # (F,) per column, ULPs of the column's scale

Used by tests/models/test_export.py (the tolerance) and benchmarks/bench_onnx_parity.py
(the measured figure in docs/onnx.md).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def sampler_inputs(artefact: Any, *, n_events: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The noise (N, Z) float32 ``Sampler`` draws in one batch from ``seed``, and conditions
    (N, C) in physical units sampled from the reference with ``seed``."""
    import torch

    from hepgan.models.sampler import noise_seed

    conditions = artefact.sample_conditions(n_events, seed=seed)
    latent_dim = artefact.card.architecture["latent_dim"]
    source = torch.Generator().manual_seed(noise_seed(seed))
    return torch.randn(n_events, latent_dim, generator=source).numpy(), conditions


def onnx_and_sampler(
    artefact: Any, session: Any, *, n_events: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Events (N, F) float32 of the ONNX ``session`` and of
    ``artefact.sampler.generate_from_noise`` for :func:`sampler_inputs`."""
    noise, conditions = sampler_inputs(artefact, n_events=n_events, seed=seed)
    feeds = {"noise": noise}
    if artefact.card.n_conditions:
        feeds["conditions"] = conditions.astype(np.float32)
    (events,) = session.run(["events"], feeds)
    return events, artefact.sampler.generate_from_noise(noise, conditions)


def worst_ulps(got: np.ndarray, expected: np.ndarray, *, of: str = "column") -> np.ndarray:
    """Per column (F,), the largest |got - expected| in float32 units in the last place:
    ULPs of the column's largest |expected| value (``of="column"``: the absolute resolution
    float32 has at the column's scale, which a component passing near zero, as a muon's pz
    does, inherits from the larger numbers it is computed from), or ULPs of each expected
    value itself (``of="value"``). Two float32 roundings of one float64 result differ by at
    most 1 ULP of the value; a value that should be exactly 0 and is not counts as many."""
    expected = np.asarray(expected, dtype=np.float32)
    if not len(expected):
        return np.zeros(expected.shape[1])
    difference = np.abs(np.asarray(got, dtype=np.float64) - expected.astype(np.float64))
    magnitude = np.abs(expected)  # (N, F)
    if of == "column":
        magnitude = magnitude.max(axis=0, keepdims=True)  # (1, F)
    elif of != "value":
        raise ValueError(f"of must be 'column' or 'value', got {of!r}")
    spacing = np.broadcast_to(np.spacing(magnitude).astype(np.float64), difference.shape)
    ulps = np.divide(difference, spacing, out=np.zeros_like(difference), where=difference > 0)
    return ulps.max(axis=0)
