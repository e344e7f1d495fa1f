"""``hepgan export`` never removes what it did not write (issue 26, row 4): model names are one
folder name, an existing model folder or ONNX file is replaced only when an earlier export
wrote it, and the files around the output stay as they were."""

from __future__ import annotations

from pathlib import Path

import pytest

from hepgan.cli import main
from tests.support.tiny import make_tiny_artefact

pytest.importorskip("onnx")

SENTINEL = "keep.txt"


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_artefact(tmp_path_factory.mktemp("export_safety") / "toy", kind="events")


def _folder_with_sentinel(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / SENTINEL).write_text("a user's file")
    return folder


def _contents(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def _export_triton(model: Path, repository: Path, *extra: str) -> list[str]:
    return ["export", "--model", str(model), "--format", "triton", "-o", str(repository), *extra]


@pytest.mark.parametrize(
    "name", ["..", ".", "", "../other", "a/b", "a\\b", ".hidden", "-x", "a b", "x\x00y", "é"]
)
def test_a_name_that_is_not_one_folder_is_refused_and_nothing_is_touched(
    model: Path, tmp_path: Path, capsys, name: str
) -> None:
    folder = _folder_with_sentinel(tmp_path / "DIR")
    before = _contents(folder)
    assert main(_export_triton(model, folder / "repo", f"--name={name}")) == 2
    assert "--name" in capsys.readouterr().err
    assert _contents(folder) == before
    assert not (folder / "repo").exists()


def test_an_absolute_name_does_not_touch_that_folder(model: Path, tmp_path: Path, capsys) -> None:
    """The report's second command: ``--name /abs/folder`` wiped that folder."""
    victim = _folder_with_sentinel(tmp_path / "victim")
    folder = _folder_with_sentinel(tmp_path / "DIR")
    assert main(_export_triton(model, folder / "repo", "--name", str(victim))) == 2
    assert "--name" in capsys.readouterr().err
    assert (victim / SENTINEL).read_text() == "a user's file"
    assert (folder / SENTINEL).exists()


def test_an_artefact_name_that_is_not_a_model_name_asks_for_name(
    tmp_path: Path, capsys, model: Path
) -> None:
    import shutil

    odd = shutil.copytree(model, tmp_path / "my model")  # a space: no Triton model name
    assert main(_export_triton(odd, tmp_path / "repo")) == 2
    message = capsys.readouterr().err
    assert "--name" in message and "'my model'" in message
    assert not (tmp_path / "repo").exists()


def _someone_elses(folder: Path, what: str) -> None:
    """Put at ``folder`` something that hepgan export did not write."""
    if what == "a user's folder":
        _folder_with_sentinel(folder)
    elif what == "another tool's Triton model":  # the same layout, without hepgan's metadata
        (folder / "1").mkdir(parents=True)
        (folder / "1" / "model.onnx").write_bytes(b"their model")
        (folder / "config.pbtxt").write_text('name: "calo" platform: "onnxruntime_onnx"')
    elif what == "a link to a folder":
        folder.symlink_to(_folder_with_sentinel(folder.parent.parent / "elsewhere"))
    else:
        folder.write_text("a user's file")


@pytest.mark.parametrize(
    "what", ["a user's folder", "another tool's Triton model", "a link to a folder", "a file"]
)
def test_a_model_folder_that_export_did_not_write_is_refused(
    model: Path, tmp_path: Path, capsys, what: str
) -> None:
    repository = _folder_with_sentinel(tmp_path / "repo")
    _someone_elses(repository / "calo", what)
    before = _contents(tmp_path)
    assert main(_export_triton(model, repository, "--name", "calo")) == 2
    message = capsys.readouterr().err
    assert "--name" in message and "-o/--output" in message and "not written by" in message
    assert _contents(tmp_path) == before
    assert sorted(path.name for path in repository.iterdir()) == ["calo", SENTINEL]  # no temporary


def test_a_new_repository_appears_whole(model: Path, tmp_path: Path) -> None:
    """A repository that did not exist is made beside its name and renamed into place."""
    parent = _folder_with_sentinel(tmp_path / "DIR")
    assert main(_export_triton(model, parent / "repo", "--name", "calo")) == 0
    assert sorted(_contents(parent)) == [
        SENTINEL,
        "repo/calo/1/model.onnx",
        "repo/calo/config.pbtxt",
    ]
    assert sorted(path.name for path in parent.iterdir()) == [SENTINEL, "repo"]


@pytest.mark.slow
def test_an_earlier_export_is_replaced_and_the_repository_kept(model: Path, tmp_path: Path) -> None:
    repository = _folder_with_sentinel(tmp_path / "repo")
    other = _folder_with_sentinel(repository / "other_model")
    assert main(_export_triton(model, repository, "--name", "calo")) == 0
    first = _contents(repository / "calo")
    assert sorted(first) == ["1/model.onnx", "config.pbtxt"]
    assert main(_export_triton(model, repository, "--name", "calo", "--instances", "2")) == 0
    second = _contents(repository / "calo")
    assert second["config.pbtxt"] != first["config.pbtxt"]  # replaced: the new settings
    assert "count: 2" in second["config.pbtxt"].decode()
    assert sorted(path.name for path in repository.iterdir()) == ["calo", SENTINEL, "other_model"]
    assert _contents(other) == {SENTINEL: b"a user's file"}
    # A file added by hand makes it someone else's folder: refused from then on.
    (repository / "calo" / "2").mkdir()
    (repository / "calo" / "2" / "model.onnx").write_bytes(b"a user's model")
    assert main(_export_triton(model, repository, "--name", "calo")) == 2
    assert (repository / "calo" / "2" / "model.onnx").read_bytes() == b"a user's model"


@pytest.mark.parametrize("existing", ["notes", "folder", "link"])
def test_an_onnx_output_that_export_did_not_write_is_refused(
    model: Path, tmp_path: Path, capsys, existing: str
) -> None:
    folder = _folder_with_sentinel(tmp_path / "DIR")
    output = folder / "model.onnx"
    if existing == "notes":
        output.write_text("my notes")
    elif existing == "folder":
        _folder_with_sentinel(output)
    else:
        output.symlink_to(folder / SENTINEL)
    before = _contents(folder)
    assert main(["export", "--model", str(model), "-o", str(output)]) == 2
    assert "-o/--output" in capsys.readouterr().err
    assert _contents(folder) == before
    assert output.is_symlink() == (existing == "link")


@pytest.mark.slow
def test_an_onnx_file_of_an_earlier_export_is_replaced(model: Path, tmp_path: Path) -> None:
    folder = _folder_with_sentinel(tmp_path / "DIR")
    output = folder / "model.onnx"
    assert main(["export", "--model", str(model), "-o", str(output)]) == 0
    first = output.stat()
    assert main(["export", "--model", str(model), "-o", str(output)]) == 0
    assert output.stat().st_ino != first.st_ino  # a new file renamed into place
    assert sorted(path.name for path in folder.iterdir()) == [SENTINEL, "model.onnx"]
