"""One generation path and one report: the scores written into the model card at the end of
training equal the service's report of the same events (same seed, same conditions)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hepgan.models.artefact import load_artefact
from hepgan.service.metrics import ServiceMetrics
from hepgan.service.registry import ModelRegistry
from hepgan.service.reports import batch_report
from hepgan.service.settings import Settings
from tests.support.tiny import make_tiny_artefact


@pytest.mark.parametrize("kind", ["events", "showers"])
def test_card_scores_equal_the_service_report(tmp_path: Path, kind: str) -> None:
    folder = make_tiny_artefact(tmp_path / "models" / kind, kind=kind, steps=3, seed=4)
    artefact = load_artefact(folder)
    card_summary = artefact.card.validation["reference_report"]
    # The card's report: the reference conditions as stored, seed = training seed + 2.
    _, conditions = artefact.reference()
    conditions = conditions.astype(np.float64)  # (M, C)
    events = artefact.generate(
        len(conditions), conditions=conditions, seed=artefact.card.training.seed + 2
    )  # (M, F)
    registry = ModelRegistry(
        settings=Settings(models_dir=tmp_path / "models", warmup_events=0, device="cpu"),
        metrics=ServiceMetrics(),
    )
    registry.load_all()
    try:
        report = batch_report(
            registry.get(kind),
            events,
            conditions,
            n_events_in_batch=len(events),
            extrapolated=False,
        )
    finally:
        registry.close()
    summary = report["summary"]
    assert summary["n_observables"] == card_summary["n_observables"] > 0
    for field in ("status", "worst_observable", "n_failing", "n_candidate", "n_reference"):
        assert summary[field] == card_summary[field], field
    for field in ("worst_ks", "mean_js_nats", "ks_critical_value"):
        assert summary[field] == pytest.approx(card_summary[field], rel=1e-12, abs=1e-15), field
