"""``hepgan generate`` behaves like the service (issue 27, part 4): the same refusal of
conditions outside the training range, the same rule for drawing a range, and output files
in the input's layout (geometry object, HDF5 attributes, derived dimuon branches)."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest
import uproot

from hepgan.cli import main
from hepgan.models.artefact import load_artefact
from hepgan.service.conditions import ConditionPlan
from hepgan.service.errors import RequestInputError
from hepgan.service.schemas import GenerateRequest
from tests.support.dimuon import make_dimuon_artefact
from tests.support.tiny import make_tiny_artefact


@pytest.fixture(scope="module")
def showers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_artefact(tmp_path_factory.mktemp("parity") / "showers", kind="showers")


@pytest.fixture(scope="module")
def dimuon(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_dimuon_artefact(tmp_path_factory.mktemp("parity") / "dimuon")


def _service_plan(model: Path, conditions: dict, n_events: int, entropy: int) -> ConditionPlan:
    """The service's conditions of this request body (``hepgan.service.conditions``)."""
    card = load_artefact(model).card
    request = GenerateRequest.model_validate({"n_events": n_events, "conditions": conditions})
    return ConditionPlan(
        request.conditions,
        names=card.condition_names,
        ranges=card.condition_ranges,
        sample_reference=lambda n, seed: np.zeros((n, 1)),
        n_events=n_events,
        entropy=entropy,
        extrapolate=False,
    )


def _service_refusal(model: Path, conditions: dict) -> str:
    """The message the service's condition check gives for this request body."""
    with pytest.raises(RequestInputError) as error:
        _service_plan(model, conditions, 10, 1)
    return str(error.value)


def _training_range(model: Path) -> tuple[float, float]:
    return tuple(load_artefact(model).card.condition_ranges["incident_energy"])


def test_out_of_range_condition_is_refused_with_the_services_message(
    showers: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    high = _training_range(showers)[1]
    energy = 5 * high
    output = tmp_path / "far.root"
    argv = ["generate", "--model", str(showers), "-n", "5", "--seed", "1", "-o", str(output)]
    status = main([*argv, "--condition", f"incident_energy={energy}"])
    assert status == 2 and not output.exists()
    cli_message = capsys.readouterr().err
    service_message = _service_refusal(showers, {"incident_energy": energy})
    assert service_message.startswith("conditions.incident_energy: ")
    # "5e+05 is outside the training range [lo, hi]", then how to allow it
    common = service_message.removeprefix("conditions.incident_energy: ").split(";")[0]
    assert common.endswith("]") and f"{energy:g} is outside the training range" in common
    assert f"--condition incident_energy: {common}; pass --extrapolate to allow it" in cli_message

    low_range = f"incident_energy={_training_range(showers)[0] / 10}:{high}"
    assert main([*argv, "--condition", low_range]) == 2
    assert "is outside the training range" in capsys.readouterr().err

    assert main([*argv, "--condition", f"incident_energy={energy}", "--extrapolate"]) == 0
    with uproot.open(output) as handle:
        np.testing.assert_array_equal(handle["showers"]["incident_energy"].array(), energy)


def test_cli_and_service_draw_a_range_by_one_rule(showers: Path, tmp_path: Path) -> None:
    low, high = _training_range(showers)
    output = tmp_path / "range.root"
    spec = f"incident_energy={low}:{high}"
    argv = ["generate", "--model", str(showers), "-n", "4000", "--seed", "2", "-o", str(output)]
    assert main([*argv, "--condition", spec]) == 0
    with uproot.open(output) as handle:
        energies = handle["showers"]["incident_energy"].array(library="np")
    plan = _service_plan(showers, {"incident_energy": {"min": low, "max": high}}, 4000, 2)
    served = plan.chunk(0, 0, 4000)[:, 0]
    geometric_mean = np.sqrt(low * high)  # the median of a log-uniform draw
    for values in (energies, served):
        assert low <= values.min() and values.max() <= high
        # the median's standard error for 4000 draws is about 2 % of the log-width
        assert abs(np.log(np.median(values) / geometric_mean)) < 0.05 * np.log(high / low)


def test_shower_outputs_keep_the_geometry_and_attributes(showers: Path, tmp_path: Path) -> None:
    card = load_artefact(showers).card
    root_output = tmp_path / "new" / "folder" / "showers.root"
    argv = ["generate", "--model", str(showers), "-n", "20", "--seed", "3"]
    assert main([*argv, "-o", str(root_output)]) == 0  # the folder is created
    with uproot.open(root_output) as handle:
        assert json.loads(str(handle["geometry"])) == card.geometry
        assert str(handle["model"]) == "showers"
    h5_output = tmp_path / "showers.h5"
    assert main([*argv, "-o", str(h5_output)]) == 0
    with h5py.File(h5_output, "r") as handle:
        assert json.loads(handle.attrs["geometry"]) == card.geometry
        assert handle.attrs["model"] == "showers"


def test_sharded_output_creates_its_folder_and_keeps_the_geometry(
    showers: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "prod" / "showers.root"
    argv = ["generate", "--model", str(showers), "-n", "30", "--seed", "4", "-o", str(output)]
    assert main([*argv, "--rank", "0", "--world-size", "1"]) == 0
    assert "hepgan generate rank 0: 30/30 events (100%)" in capsys.readouterr().err
    shard = output.with_name("showers.rank00000.root")
    with uproot.open(shard) as handle:
        assert json.loads(str(handle["geometry"])) == load_artefact(showers).card.geometry
        assert handle["showers"].num_entries == 30


def test_dimuon_output_has_the_derived_branches(dimuon: Path, tmp_path: Path) -> None:
    output = tmp_path / "dimuon_gan.root"
    argv = ["generate", "--model", str(dimuon), "-n", "200", "--seed", "5", "-o", str(output)]
    assert main(argv) == 0
    with uproot.open(output) as handle:
        events = handle["events"].arrays(library="np")
    derived = ["pt1", "eta1", "phi1", "pt2", "eta2", "phi2", "M"]
    assert set(derived) <= set(events)
    for i in "12":
        e, px, py, pz = (
            events[f"{name}{i}"].astype(np.float64) for name in ("E", "px", "py", "pz")
        )
        np.testing.assert_allclose(events[f"pt{i}"], np.hypot(px, py), rtol=1e-12)
        np.testing.assert_allclose(events[f"phi{i}"], np.arctan2(py, px), rtol=1e-12)
        np.testing.assert_allclose(
            np.sinh(events[f"eta{i}"]) * events[f"pt{i}"], pz, rtol=1e-9, atol=1e-9
        )
    total = {
        name: events[f"{name}1"].astype(np.float64) + events[f"{name}2"]
        for name in ("E", "px", "py", "pz")
    }
    mass_squared = total["E"] ** 2 - total["px"] ** 2 - total["py"] ** 2 - total["pz"] ** 2
    np.testing.assert_allclose(events["M"], np.sqrt(np.maximum(mass_squared, 0)), rtol=1e-9)
    assert events["M"].dtype == np.float64 and events["Q1"].dtype == np.int32
