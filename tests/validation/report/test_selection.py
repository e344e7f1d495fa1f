"""Training's checkpoint-selection scores: the report's KS and separation power, averaged."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from hepgan.validation.report.build import build_report
from hepgan.validation.report.selection import SelectionReference


def _observables(seed: int, n: int, shift: float) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "energy": rng.normal(50.0 + shift, 5.0, n),
        "width": rng.gamma(2.0 + shift, 1.5, n),
        "depth": rng.uniform(0.0, 10.0 + shift, n),
    }


@pytest.mark.parametrize("selection_metric", ["ks", "separation_power"])
def test_scores_are_the_reports_statistics_and_their_mean(selection_metric: str) -> None:
    reference, generated = _observables(0, 3000, 0.0), _observables(1, 1200, 0.4)
    record = SelectionReference.from_observables(reference).scores(generated, selection_metric)
    report = build_report(generated, reference)
    names = list(reference)
    for name in names:
        scipy_ks = stats.ks_2samp(generated[name], reference[name]).statistic
        assert record["ks"][name] == pytest.approx(scipy_ks, rel=1e-12)
        assert record["separation_power"][name] == pytest.approx(
            report.score(name).separation_power, rel=1e-12
        )
    ks, separation = list(record["ks"].values()), list(record["separation_power"].values())
    assert record["mean_ks"] == pytest.approx(np.mean(ks))
    assert record["mean_separation_power"] == pytest.approx(np.mean(separation))
    chosen = ks if selection_metric == "ks" else separation
    assert record["metric"] == pytest.approx(np.mean(chosen))
    assert record["worst_ks"] == max(ks)
    assert record["worst_observable"] == names[int(np.argmax(ks))]


def test_the_reference_is_reused_and_an_unknown_metric_refused() -> None:
    reference = SelectionReference.from_observables(_observables(0, 2000, 0.0))
    first = reference.scores(_observables(1, 500, 0.0), "ks")
    assert reference.scores(_observables(1, 500, 0.0), "ks") == first
    assert reference.scores(_observables(2, 500, 1.0), "ks")["metric"] > first["metric"]
    with pytest.raises(ValueError, match="selection_metric must be one of ks, separation_power"):
        reference.scores(_observables(1, 500, 0.0), "auc")
