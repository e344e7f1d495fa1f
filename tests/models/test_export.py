"""ONNX export: onnxruntime on the exported graph gives the artefact's events; the card is in
the metadata; ``hepgan export`` writes ONNX files and Triton model repositories."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from hepgan.cli import main
from hepgan.models.artefact import CARD_FILE, load_artefact, sha256_of
from tests.support.dimuon import make_dimuon_artefact
from tests.support.onnx_parity import onnx_and_sampler, worst_ulps
from tests.support.tiny import make_tiny_artefact

ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")


@pytest.fixture(scope="module")
def artefacts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("export")
    return {
        "showers": make_tiny_artefact(root / "showers", kind="showers"),
        "toy-events": make_tiny_artefact(root / "toy_events", kind="events"),
        "dimuon": make_dimuon_artefact(root / "dimuon"),
    }


def _session(path: Path):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


# ONNX Runtime and the artefact's path: the same float32 generator, the same float64
# transforms. Measured (benchmarks/bench_onnx_parity.py, docs/onnx.md), per column, at most
# 2.4 float32 ULPs of the column's largest value, most values bit for bit (a muon's pz near
# zero inherits its error from the larger numbers it is computed from). An error of 5e-6
# relative is 42 to 84 ULPs at the column's largest value.
MAX_ULPS = 4


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["showers", "toy-events", "dimuon"])
@pytest.mark.parametrize("n_events", [1, 1000])
def test_onnxruntime_gives_the_artefacts_events(
    artefacts: dict[str, Path], tmp_path: Path, kind: str, n_events: int
) -> None:
    artefact = load_artefact(artefacts[kind])
    path = tmp_path / "model.onnx"
    assert main(["export", "--model", str(artefacts[kind]), "-o", str(path)]) == 0
    # The artefact's own path for the noise Sampler draws from seed 7 (without the random
    # rotations of showers, which happen after it: tests/models/test_shower_symmetry.py).
    events, expected = onnx_and_sampler(artefact, _session(path), n_events=n_events, seed=7)
    assert events.dtype == np.float32 and events.shape == expected.shape
    worst = worst_ulps(events, expected)  # (F,)
    assert worst.max() <= MAX_ULPS, dict(
        zip(artefact.card.feature_names, worst.tolist(), strict=True)
    )
    if artefact.card.kind == "showers":  # the readout threshold keeps the same empty voxels
        np.testing.assert_array_equal(events == 0, expected == 0)


@pytest.mark.slow
def test_the_card_is_in_the_metadata(artefacts: dict[str, Path], tmp_path: Path) -> None:
    artefact = load_artefact(artefacts["showers"])
    path = tmp_path / "showers.onnx"
    main(["export", "--model", str(artefacts["showers"]), "--format", "onnx", "-o", str(path)])
    model = onnx.load(str(path))
    meta = {entry.key: entry.value for entry in model.metadata_props}
    card = artefact.card
    assert json.loads(meta["hepgan.feature_names"]) == card.feature_names
    assert json.loads(meta["hepgan.feature_units"]) == card.feature_units
    assert json.loads(meta["hepgan.condition_names"]) == ["incident_energy"]
    assert json.loads(meta["hepgan.condition_units"]) == ["MeV"]
    assert json.loads(meta["hepgan.condition_ranges"]) == {
        name: list(bounds) for name, bounds in card.condition_ranges.items()
    }
    assert meta["hepgan.artefact_sha256"] == sha256_of(artefacts["showers"] / CARD_FILE)
    assert json.loads(meta["hepgan.checksums"]) == card.checksums
    opset = next(entry.version for entry in model.opset_import if entry.domain in ("", "ai.onnx"))
    assert int(meta["hepgan.opset"]) == opset
    assert json.loads(meta["hepgan.transforms"]) == card.transforms
    session = _session(path)
    assert session.get_modelmeta().custom_metadata_map == meta
    inputs = {item.name: item.shape for item in session.get_inputs()}
    assert inputs == {
        "noise": ["batch", card.architecture["latent_dim"]],
        "conditions": ["batch", 1],
    }
    assert [(out.name, out.shape) for out in session.get_outputs()] == [
        ("events", ["batch", card.n_features])
    ]


def _model_config_module():
    """Triton's ModelConfig protobuf class, from tritonclient's generated module (loaded by
    path: tritonclient.grpc's package init wants grpcio, which the [http] extra lacks)."""
    tritonclient = pytest.importorskip("tritonclient")
    pytest.importorskip("google.protobuf")
    path = Path(tritonclient.__file__).parent / "grpc" / "model_config_pb2.py"
    spec = importlib.util.spec_from_file_location("triton_model_config_pb2", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_triton_repository_parses_as_a_model_config(
    artefacts: dict[str, Path], tmp_path: Path
) -> None:
    from google.protobuf import text_format

    repository = tmp_path / "repo"
    args = ["export", "--model", str(artefacts["showers"]), "--format", "triton"]
    assert main([*args, "-o", str(repository), "--name", "calo", "--instances", "2"]) == 0
    assert sorted(p.relative_to(repository).as_posix() for p in repository.rglob("*")) == [
        "calo",
        "calo/1",
        "calo/1/model.onnx",
        "calo/config.pbtxt",
    ]
    protos = _model_config_module()
    config = text_format.Parse(
        (repository / "calo" / "config.pbtxt").read_text(), protos.ModelConfig()
    )
    card = load_artefact(artefacts["showers"]).card
    assert config.name == "calo" and config.platform == "onnxruntime_onnx"
    assert config.max_batch_size > 0
    inputs = {item.name: (item.data_type, list(item.dims)) for item in config.input}
    fp32 = protos.DataType.Value("TYPE_FP32")
    assert inputs == {
        "noise": (fp32, [card.architecture["latent_dim"]]),
        "conditions": (fp32, [1]),
    }
    assert [(out.name, list(out.dims)) for out in config.output] == [("events", [card.n_features])]
    assert config.HasField("dynamic_batching")
    assert [(group.count, group.kind) for group in config.instance_group] == [
        (2, protos.ModelInstanceGroup.Kind.Value("KIND_CPU"))
    ]
    parameters = {key: value.string_value for key, value in config.parameters.items()}
    assert json.loads(parameters["hepgan.feature_names"]) == card.feature_names
    assert parameters["hepgan.kind"] == "showers"
    # The graph in the repository matches the configuration's tensors.
    session = _session(repository / "calo" / "1" / "model.onnx")
    assert [item.name for item in session.get_inputs()] == ["noise", "conditions"]
    assert [item.name for item in session.get_outputs()] == ["events"]


def test_export_names_the_missing_package(
    artefacts: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setitem(sys.modules, "onnx", None)  # as if onnx were not installed
    args = ["export", "--model", str(artefacts["toy-events"]), "-o", str(tmp_path / "m.onnx")]
    assert main(args) == 2
    message = capsys.readouterr().err
    assert "pip install 'hepgan[onnx]'" in message and "'onnx'" in message
    assert not (tmp_path / "m.onnx").exists()


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["-o", "model.txt"], "-o/--output"),
        (["--format", "triton", "--instances", "0", "-o", "repo"], "--instances"),
        (["--format", "triton", "--instance-kind", "GPU", "-o", "repo"], "--instance-kind"),
    ],
)
def test_export_flags_are_checked(
    artefacts: dict[str, Path], tmp_path: Path, monkeypatch, capsys, args, flag
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["export", "--model", str(artefacts["toy-events"]), *args]) == 2
    assert flag in capsys.readouterr().err
