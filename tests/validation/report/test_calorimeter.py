"""The calorimeter section of a report: response and resolution by energy, layer images,
sparsity, voxel spectrum, and the resolution failure in the verdict."""

from __future__ import annotations

import numpy as np
import pytest

from hepgan.models.geometry import get_geometry
from hepgan.validation.report.build import build_report
from hepgan.validation.report.calorimeter import (
    MIN_EVENTS_PER_ENERGY_BIN,
    CalorimeterInputs,
    ShowerSample,
    energy_bin_edges,
    layer_images,
    layer_sparsity,
    resolution_standard_error,
    response_by_energy,
    voxel_spectrum,
)
from hepgan.validation.report.observables import ObservableDefinition
from hepgan.validation.report.schema import ReportThresholds, ValidationReport

GEOMETRY = get_geometry("small")  # (10 layers, 4 angles, 3 radii)


def _showers(
    rng: np.random.Generator, n: int, *, resolution: float, response: float = 1.0
) -> ShowerSample:
    """Showers of log-uniform incident energies 1 to 100 GeV whose E_tot / E_inc is normal
    (response, resolution * response), spread over the voxels with a fixed profile; the
    last radius of every layer stays empty (sparsity 2/3)."""
    energy = np.exp(rng.uniform(np.log(1e3), np.log(1e5), n))  # (N,) MeV
    total = energy * rng.normal(response, resolution * response, n)  # (N,) MeV
    profile = np.zeros(GEOMETRY.shape)
    profile[:, :, :2] = rng.uniform(0.5, 1.5, (GEOMETRY.n_layers, GEOMETRY.n_angles, 2))
    profile /= profile.sum()
    voxels = total[:, None] * profile.reshape(1, -1)  # (N, V)
    return ShowerSample(voxels.astype(np.float32), energy)


def _report(
    candidate: ShowerSample, reference: ShowerSample, *, voxel_spectrum: bool = True, **thresholds
):
    definition = ObservableDefinition(kind="showers", geometry=GEOMETRY)
    observables = [
        definition.compute(sample.voxels, sample.incident_energy[:, None])
        for sample in (candidate, reference)
    ]
    return build_report(
        observables[0],
        observables[1],
        candidate_conditions={"incident_energy": candidate.incident_energy},
        reference_conditions={"incident_energy": reference.incident_energy},
        thresholds=ReportThresholds(**thresholds),
        calorimeter=CalorimeterInputs(candidate, reference, GEOMETRY, voxel_spectrum),
    )


def test_resolution_standard_error_matches_the_spread_of_many_samples() -> None:
    rng = np.random.default_rng(1)
    n, c = 400, 0.2
    samples = rng.normal(1.0, c, (4000, n))
    measured = samples.std(axis=1, ddof=1) / samples.mean(axis=1)
    assert np.std(measured) == pytest.approx(resolution_standard_error(c, n), rel=0.05)


def test_response_by_energy_gives_each_bin_its_mean_width_and_errors() -> None:
    rng = np.random.default_rng(2)
    candidate = _showers(rng, 5000, resolution=0.05, response=0.9)
    reference = _showers(rng, 5000, resolution=0.10)
    bins = response_by_energy(candidate, reference, n_bins=4)
    edges = energy_bin_edges(reference.incident_energy, 4)
    assert [row["energy_range_mev"] for row in bins] == [[edges[i], edges[i + 1]] for i in range(4)]
    for row in bins:
        low, high = row["energy_range_mev"]
        inside = (candidate.incident_energy >= low) & (candidate.incident_energy < high)
        response = candidate.response[inside]
        stats = row["candidate"]
        assert stats["n_events"] == inside.sum()
        assert stats["response"] == pytest.approx(response.mean())
        assert stats["response_error"] == pytest.approx(
            response.std(ddof=1) / np.sqrt(len(response))
        )
        assert stats["resolution"] == pytest.approx(response.std(ddof=1) / response.mean())
        assert stats["response"] == pytest.approx(0.9, abs=5 * stats["response_error"])
        assert row["reference"]["resolution"] == pytest.approx(
            0.10, abs=5 * row["reference"]["resolution_error"]
        )
    in_range = (candidate.incident_energy >= edges[0]) & (candidate.incident_energy < edges[-1])
    assert sum(row["candidate"]["n_events"] for row in bins) == in_range.sum() > 4900


def test_energy_bins_with_too_few_events_are_left_out() -> None:
    rng = np.random.default_rng(3)
    reference = _showers(rng, 2000, resolution=0.1)
    few = MIN_EVENTS_PER_ENERGY_BIN - 1
    low_only = reference.events(np.argsort(reference.incident_energy)[:few])
    assert response_by_energy(low_only, reference) == []


def test_layer_images_and_sparsity_per_layer() -> None:
    voxels = np.zeros((2, GEOMETRY.n_voxels), dtype=np.float32)
    image = voxels.reshape(2, *GEOMETRY.shape)
    image[0, 3, 1, 2] = 4.0  # layer 3, angle 1, radius 2
    image[1, 3, 1, 2] = 2.0
    image[1, 0, 0, 0] = 6.0
    means = layer_images(voxels, GEOMETRY)
    assert means.shape == GEOMETRY.shape
    assert means[3, 1, 2] == 3.0 and means[0, 0, 0] == 3.0 and means.sum() == 6.0
    per_layer = GEOMETRY.n_angles * GEOMETRY.n_radii
    sparsity = layer_sparsity(voxels, GEOMETRY)
    expected = np.zeros(GEOMETRY.n_layers)
    expected[3] = 1 / per_layer  # hit in both showers
    expected[0] = 0.5 / per_layer  # hit in one
    np.testing.assert_allclose(sparsity, expected)


def test_voxel_spectrum_counts_every_positive_voxel_on_log_bins() -> None:
    rng = np.random.default_rng(4)
    candidate = rng.exponential(1.0, (50, 12)) * (rng.random((50, 12)) > 0.3)
    reference = rng.exponential(2.0, (80, 12))
    spectrum = voxel_spectrum(candidate, reference, n_bins=10)
    edges = np.array(spectrum["edges"])
    np.testing.assert_allclose(edges[1:] / edges[:-1], edges[1] / edges[0])  # log-spaced
    assert sum(spectrum["candidate_counts"]) == (candidate > 0).sum()
    assert sum(spectrum["reference_counts"]) == (reference > 0).sum()
    display = spectrum["display"]  # as drawn: densities per MeV of every positive voxel
    assert display["log_x"] and display["edges"] == spectrum["edges"]
    np.testing.assert_allclose(
        display["candidate"]["density"],
        np.array(spectrum["candidate_counts"]) / ((candidate > 0).sum() * np.diff(edges)),
    )
    np.testing.assert_allclose(display["x"], np.sqrt(edges[1:] * edges[:-1]))
    assert voxel_spectrum(np.zeros((3, 4)), reference) is None


def test_a_too_narrow_resolution_is_a_named_failure() -> None:
    rng = np.random.default_rng(5)
    report = _report(_showers(rng, 3000, resolution=0.02), _showers(rng, 3000, resolution=0.12))
    section = report.calorimeter
    assert section is not None and len(section.energy_bins) == 5
    assert section.geometry_shape == GEOMETRY.shape
    narrow = [reason for reason in report.summary.reasons if "too narrow" in reason]
    assert len(narrow) == 5 and report.summary.status == "fail"
    assert "combined standard errors" in narrow[0]


def test_a_matching_resolution_gives_no_calorimeter_reason() -> None:
    rng = np.random.default_rng(6)
    report = _report(_showers(rng, 3000, resolution=0.1), _showers(rng, 3000, resolution=0.1))
    assert not [reason for reason in report.summary.reasons if "resolution" in reason]


def test_huge_samples_are_not_failed_for_a_difference_below_the_relative_tolerance() -> None:
    rng = np.random.default_rng(7)
    candidate = _showers(rng, 200_000, resolution=0.095)
    reference = _showers(rng, 200_000, resolution=0.100)
    kept = _report(candidate, reference)
    strict = _report(candidate, reference, resolution_relative_tolerance=0.0)
    assert not [reason for reason in kept.summary.reasons if "resolution" in reason]
    assert [reason for reason in strict.summary.reasons if "too narrow" in reason]


def test_the_reference_of_the_section_is_the_condition_matched_one() -> None:
    rng = np.random.default_rng(8)
    reference = _showers(rng, 4000, resolution=0.1)
    low = reference.events(np.flatnonzero(reference.incident_energy < 5e3))
    report = _report(low, reference)
    n_matched = report.summary.n_reference
    assert sum(row.reference.n_events for row in report.calorimeter.energy_bins) <= n_matched
    assert max(row.energy_range_mev[1] for row in report.calorimeter.energy_bins) < 1e4


def test_reports_without_showers_have_no_section_and_keep_their_fields() -> None:
    rng = np.random.default_rng(9)
    sample = {"x": rng.normal(size=500)}
    report = build_report(sample, {"x": rng.normal(size=500)}, units={"x": "GeV"})
    assert report.calorimeter is None
    assert report.labels == {"x": "x [GeV]"}


def test_validate_plots_draw_the_calorimeter_section(tmp_path) -> None:
    from hepgan.validation.report.plots import plot_overlays

    rng = np.random.default_rng(10)
    candidate = _showers(rng, 2000, resolution=0.05)
    reference = _showers(rng, 2000, resolution=0.1)
    report = _report(candidate, reference)
    written = plot_overlays({}, {}, tmp_path, report=report)
    assert sorted(path.name for path in written) == [
        "layer_images.png",
        "response_resolution.png",
        "sparsity.png",
        "voxel_spectrum.png",
    ]
    assert all(path.stat().st_size > 10_000 for path in written)


@pytest.mark.slow  # about 30 s: every observable's figure
def test_hepgan_validate_reports_and_plots_the_calorimeter_metrics(tmp_path, capsys) -> None:
    from hepgan.cli import main
    from hepgan.datafiles.root_writer import write_root

    rng = np.random.default_rng(12)
    paths = {}
    for name, resolution in (("reference", 0.1), ("candidate", 0.02)):
        showers = _showers(rng, 1500, resolution=resolution)
        columns = {"incident_energy": showers.incident_energy, "voxels": showers.voxels}
        paths[name] = write_root(tmp_path / f"{name}.root", columns, tree="showers")
    report_path, plots = tmp_path / "report.json", tmp_path / "plots"
    arguments = ["validate", "--reference", str(paths["reference"])]
    arguments += ["--candidate", str(paths["candidate"]), "--report", str(report_path)]
    assert main([*arguments, "--plots", str(plots)]) == 0
    printed = capsys.readouterr().out
    assert "resolution sigma/mean of E_tot/E_inc too narrow" in printed
    report = ValidationReport.model_validate_json(report_path.read_text())
    assert len(report.calorimeter.energy_bins) == 5
    assert {"response_resolution.png", "layer_images.png"} <= {p.name for p in plots.iterdir()}


def test_the_voxel_spectrum_is_left_out_unless_asked_for() -> None:
    rng = np.random.default_rng(13)
    candidate, reference = (_showers(rng, 500, resolution=0.1) for _ in range(2))
    sections = [
        _report(candidate, reference, voxel_spectrum=asked).calorimeter for asked in (True, False)
    ]
    assert sections[0].voxel_spectrum is not None and sections[1].voxel_spectrum is None
    assert sections[0].energy_bins == sections[1].energy_bins


def test_a_bin_whose_showers_hold_no_energy_is_left_out_not_divided_by_zero() -> None:
    rng = np.random.default_rng(14)
    reference = _showers(rng, 2000, resolution=0.1)
    empty = ShowerSample(np.zeros_like(reference.voxels), reference.incident_energy)
    assert response_by_energy(empty, reference) == []
