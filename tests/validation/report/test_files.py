"""A candidate file against a reference file: one reference match shared by the report, the
plots' and the classifier's reference events; bad files refused naming the file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hepgan.datafiles.root_writer import write_root
from hepgan.errors import InputFileError
from hepgan.models.geometry import get_geometry
from hepgan.validation.report.build import build_report
from hepgan.validation.report.calorimeter import CalorimeterInputs
from hepgan.validation.report.conditions import match_reference
from hepgan.validation.report.files import compare_files, read_observables


def _shower_columns(n: int, seed: int, *, n_voxels: int, energy: float | None = None) -> dict:
    """Toy showers: exponential voxel energies scaled to 0.9 of E_inc (MeV)."""
    rng = np.random.default_rng(seed)
    incident = np.full(n, energy) if energy else 10 ** rng.uniform(3, 5, n)
    shape = rng.exponential(1.0, (n, n_voxels))
    voxels = shape / shape.sum(axis=1, keepdims=True) * incident[:, None] * 0.9
    return {"incident_energy": incident, "voxels": voxels.astype(np.float32)}


def test_the_report_compares_the_matched_reference_events_it_returns(tmp_path: Path) -> None:
    n_voxels = get_geometry("small").n_voxels
    reference_path = write_root(
        tmp_path / "reference.root", _shower_columns(3000, 1, n_voxels=n_voxels), tree="showers"
    )
    candidate_path = write_root(
        tmp_path / "candidate.root",
        _shower_columns(300, 2, n_voxels=n_voxels, energy=20_000.0),
        tree="showers",
    )
    comparison = compare_files(candidate_path, reference_path)
    reference = read_observables(reference_path)
    candidate = read_observables(candidate_path)
    chosen, _ = match_reference(candidate.conditions, reference.conditions)
    assert 0 < len(chosen) < 3000
    for name, values in reference.observables.items():
        np.testing.assert_array_equal(comparison.reference.observables[name], values[chosen])
    np.testing.assert_array_equal(
        comparison.reference.conditions["incident_energy"],
        reference.conditions["incident_energy"][chosen],
    )
    expected = build_report(
        candidate.observables,
        reference.observables,
        candidate_conditions=candidate.conditions,
        reference_conditions=reference.conditions,
        units=reference.units,
        calorimeter=CalorimeterInputs(candidate.showers, reference.showers, get_geometry("small")),
    )
    assert comparison.report == expected
    assert comparison.report.calorimeter is not None  # the files' showers, matched
    matched_showers = comparison.reference.showers
    np.testing.assert_array_equal(matched_showers.voxels, reference.showers.voxels[chosen])
    assert comparison.report.summary.n_reference == len(chosen)
    unmatched = build_report(
        candidate.observables, comparison.reference.observables, units=reference.units
    )
    assert [score.ks for score in unmatched.observables] == [
        score.ks for score in comparison.report.observables
    ]


def test_event_files_compare_every_reference_event(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    reference_path = write_root(tmp_path / "r.root", {"x": rng.normal(size=500)}, tree="t")
    candidate_path = write_root(tmp_path / "c.root", {"x": rng.normal(size=200)}, tree="t")
    comparison = compare_files(candidate_path, reference_path)
    assert comparison.reference.conditions is None and comparison.report.conditions is None
    np.testing.assert_array_equal(
        comparison.reference.observables["x"], read_observables(reference_path).observables["x"]
    )
    assert comparison.report.summary.n_reference == 500


def test_bad_files_are_refused_naming_the_file(tmp_path: Path) -> None:
    n_voxels = 7  # no preset geometry: the voxels are compared one by one
    showers = _shower_columns(200, 4, n_voxels=n_voxels)
    with_energies = write_root(tmp_path / "showers.root", showers, tree="t")
    voxels_only = write_root(tmp_path / "voxels.root", {"voxels": showers["voxels"]}, tree="t")
    with pytest.raises(InputFileError, match=f"only {with_energies} holds conditions"):
        compare_files(with_energies, voxels_only)
    with pytest.raises(InputFileError, match=f"only {with_energies} holds conditions"):
        compare_files(voxels_only, with_energies)
    other = write_root(tmp_path / "other.root", {"y": np.ones(10)}, tree="t")
    with pytest.raises(InputFileError, match="do not hold the same columns: .*only in one"):
        compare_files(other, voxels_only)
    not_finite = write_root(tmp_path / "nan.root", {"x": np.array([1.0, np.nan])}, tree="t")
    with pytest.raises(InputFileError, match=f"{not_finite}: column 'x' holds NaN or infinite"):
        read_observables(not_finite)
