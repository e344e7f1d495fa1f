"""``hepgan export --format triton --backend python``: the Python backend's repository (model.py
beside the graph), under the same safety rules as the ONNX Runtime one: a model folder is
replaced only when an export wrote it (either backend, and after Triton has imported
model.py), and nothing else is removed. tests/models/test_triton_server.py runs it in a real
Triton."""

from __future__ import annotations

from pathlib import Path

import pytest

from hepgan.cli import main
from hepgan.commands.export import TRITON_BACKENDS
from hepgan.models.export.triton import BACKENDS, PYTHON_MODEL_SOURCE
from tests.cli.test_export_safety import SENTINEL, _contents, _export_triton, _folder_with_sentinel
from tests.support.tiny import make_tiny_artefact

pytest.importorskip("onnx")

PYTHON = ("--backend", "python")


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_artefact(tmp_path_factory.mktemp("python_backend") / "toy", kind="events")


def test_the_cli_offers_every_backend() -> None:
    assert TRITON_BACKENDS == tuple(BACKENDS)


def test_the_python_backend_repository(model: Path, tmp_path: Path) -> None:
    repository = tmp_path / "repo"
    assert main(_export_triton(model, repository, "--name", "calo", *PYTHON)) == 0
    files = _contents(repository)
    assert sorted(files) == ["calo/1/model.onnx", "calo/1/model.py", "calo/config.pbtxt"]
    assert files["calo/1/model.py"] == PYTHON_MODEL_SOURCE.read_bytes()
    config = files["calo/config.pbtxt"].decode()
    assert 'backend: "python"' in config and "platform" not in config


def test_a_bad_backend_is_refused(model: Path, tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(_export_triton(model, tmp_path / "repo", "--backend", "tensorrt"))
    assert exit_info.value.code == 2
    assert "--backend" in capsys.readouterr().err
    assert not (tmp_path / "repo").exists()


@pytest.mark.slow
def test_backends_replace_each_others_exports_and_nothing_else(model: Path, tmp_path: Path) -> None:
    repository = _folder_with_sentinel(tmp_path / "repo")
    assert main(_export_triton(model, repository, "--name", "calo")) == 0
    assert main(_export_triton(model, repository, "--name", "calo", *PYTHON)) == 0
    assert sorted(_contents(repository / "calo")) == ["1/model.onnx", "1/model.py", "config.pbtxt"]
    # Triton's Python backend imported model.py and left its byte code: still an export's.
    cache = repository / "calo" / "1" / "__pycache__"
    cache.mkdir()
    (cache / "model.cpython-311.pyc").write_bytes(b"byte code")
    assert main(_export_triton(model, repository, "--name", "calo")) == 0
    assert sorted(_contents(repository / "calo")) == ["1/model.onnx", "config.pbtxt"]
    assert 'platform: "onnxruntime_onnx"' in (repository / "calo" / "config.pbtxt").read_text()
    assert sorted(path.name for path in repository.iterdir()) == ["calo", SENTINEL]


@pytest.mark.parametrize("added", ["1/__pycache__/notes.txt", "1/helper.py", "1/model.pyc"])
def test_other_files_beside_model_py_are_refused(
    model: Path, tmp_path: Path, capsys, added: str
) -> None:
    repository = tmp_path / "repo"
    assert main(_export_triton(model, repository, "--name", "calo", *PYTHON)) == 0
    path = repository / "calo" / added
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"a user's file")
    before = _contents(tmp_path)
    assert main(_export_triton(model, repository, "--name", "calo", *PYTHON)) == 2
    assert "not written by" in capsys.readouterr().err
    assert _contents(tmp_path) == before
