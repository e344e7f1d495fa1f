"""hepgan.client.Client, ``hepgan request`` and ``hepgan serve`` against real servers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import uproot

from hepgan.cli import main
from hepgan.client import Client, ServiceError, read_npz_batch
from tests.support.live_server import serve
from tests.support.ports import free_port, loopback_url
from tests.support.threaded_server import ThreadedServer


def test_generate_returns_arrays_and_the_report(server: ThreadedServer, tmp_path: Path) -> None:
    conditions = {"incident_energy": np.full(40, 8000.0)}
    with Client(server.url) as client:
        batch = client.generate("showers_tiny", 40, conditions=conditions, seed=3)
        client.download(
            "showers_tiny", 40, tmp_path / "b.root", format="root", conditions=conditions, seed=3
        )
    assert batch.model == "showers_tiny" and batch.seed == 3 and len(batch) == 40
    assert batch.features.shape == (40, 120) and batch.features.dtype == np.float32
    np.testing.assert_array_equal(batch.conditions, np.full((40, 1), 8000.0))
    assert batch.report["summary"]["n_candidate"] == 40
    assert batch.headers["x-hepgan-validation-status"] == batch.report["summary"]["status"]
    columns = batch.columns()
    assert list(columns)[:2] == ["voxels[0]", "voxels[1]"]
    np.testing.assert_array_equal(columns["incident_energy"], 8000.0)
    events = batch.to_awkward()
    # One field per branch, of the type uproot reads from the same batch as a ROOT file.
    with uproot.open(tmp_path / "b.root") as handle:
        from_root = handle["showers"].arrays(library="ak")
    assert sorted(events.fields) == sorted(from_root.fields) == ["incident_energy", "voxels"]
    for name in from_root.fields:
        assert str(events[name].type) == str(from_root[name].type)
        np.testing.assert_array_equal(events[name].to_numpy(), from_root[name].to_numpy())
    assert str(events["voxels"].type) == "40 * 120 * float32"


def test_model_listing_and_card(server: ThreadedServer) -> None:
    with Client(server.url) as client:
        assert client.health() == {"status": "ok"}
        assert client.ready()["ready"] is True
        assert [model["name"] for model in client.models()] == [
            "dimuon_exact",
            "dimuon_untrained",
            "showers_tiny",
        ]
        assert client.model("dimuon_exact")["feature_names"] == ["E1", "E2", "Q1"]


def test_errors_name_the_field(server: ThreadedServer) -> None:
    with Client(server.url) as client, pytest.raises(ServiceError) as error:
        client.generate("showers_tiny", 5, conditions={"incident_energy": 1.0})
    assert error.value.status_code == 422
    assert "conditions.incident_energy: 1 is outside the training range" in str(error.value)


def test_unreachable_service_is_a_clear_error() -> None:
    url = loopback_url(free_port())  # a port nobody listens on
    with Client(url) as client, pytest.raises(ServiceError) as error:
        client.models()
    assert f"cannot reach {url}/v1/models" in str(error.value)


def test_request_command_writes_a_root_file(
    server: ThreadedServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "showers.root"
    status = main(
        [
            "request",
            "showers_tiny",
            "-n",
            "2500",
            "--url",
            server.url,
            "--condition",
            "incident_energy=2000:40000",
            "--seed",
            "9",
            "-o",
            str(output),
        ]
    )
    assert status == 0
    with uproot.open(output) as file:
        energies = file["showers"]["incident_energy"].array(library="np")
        report = json.loads(str(file["report"]))
    assert len(energies) == 2500 and energies.min() >= 2000 and energies.max() <= 40000
    assert 8000 < np.median(energies) < 10000  # log-uniform: median sqrt(2000 * 40000) = 8944
    assert report["scope"]["events_in_batch"] == 2500
    stderr = capsys.readouterr().err
    assert f"wrote 2500 events of showers_tiny to {output}" in stderr
    assert f"validation-status: {report['summary']['status']}" in stderr


@pytest.mark.parametrize("name", ["npz", "npy"])
def test_request_command_writes_npz_by_its_name_and_its_alias(
    name: str, server: ThreadedServer, tmp_path: Path
) -> None:
    output = tmp_path / "showers.bin"  # a suffix that names no format: --format decides
    argv = ["request", "showers_tiny", "-n", "40", "--url", server.url, "--seed", "2"]
    assert main([*argv, "--format", name, "-o", str(output)]) == 0
    batch = read_npz_batch(output.read_bytes())
    assert batch.model == "showers_tiny" and batch.features.shape == (40, 120)


def test_request_command_reports_service_errors_in_one_line(
    server: ThreadedServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["request", "nope", "-n", "5", "--url", server.url, "-o", str(tmp_path / "x.npz")]
    assert main(argv) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("hepgan request: error: POST ")
    assert line.endswith(
        "-> 404: unknown model 'nope'; available models: dimuon_exact, "
        "dimuon_untrained, showers_tiny"
    )
    assert not (tmp_path / "x.npz").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-n", "0"], "-n/--events must be a positive integer, got 0"),
        (["-n", "5", "--condition", "incident_energy"], "--condition 'incident_energy': expected"),
        (["-n", "5", "--condition", "incident_energy=1:2:3"], "expected NAME=VALUE or NAME=LO:HI"),
        (["-n", "5", "--format", "npz", "-o", "/no/such/folder/x.npz"], "-o/--output: folder"),
    ],
)
def test_request_command_checks_flags(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if "-o" not in argv:
        argv = [*argv, "-o", str(tmp_path / "x.npz")]
    assert main(["request", "showers_tiny", *argv]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_serve_command_serves_the_folder_and_lists_the_broken_one(
    model_dir: Path, tmp_path: Path
) -> None:
    no_warmup = {"HEPGAN_WARMUP_EVENTS": "0"}
    with (
        serve(model_dir, log=tmp_path / "serve.log", environment=no_warmup) as server,
        Client(server.url) as client,
    ):
        ready = client.ready()
        assert ready["models"] == ["dimuon_exact", "dimuon_untrained", "showers_tiny"]
        assert list(ready["broken"]) == ["broken"]
        assert len(client.generate("dimuon_exact", 10, seed=1)) == 10


def test_serve_command_checks_its_flags(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--models", str(tmp_path / "missing")]) == 2
    assert f"--models: folder {tmp_path / 'missing'} does not exist" in capsys.readouterr().err
    assert main(["serve", "--models", str(tmp_path), "--port", "70000"]) == 2
    assert "--port must be between 1 and 65535, got 70000" in capsys.readouterr().err
    assert main(["serve", "--models", str(tmp_path), "--workers", "0"]) == 2
    assert "--workers must be >= 1, got 0" in capsys.readouterr().err
