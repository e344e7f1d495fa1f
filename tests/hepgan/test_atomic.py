"""Atomic writes: the final name holds the old file or the complete new one, never a part."""

from __future__ import annotations

from pathlib import Path

import pytest

from hepgan.atomic import atomic_destination, atomic_folder, partial_path


@pytest.mark.parametrize("fsync", [False, True])
def test_success_renames_into_place(tmp_path: Path, fsync: bool) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with atomic_destination(target, fsync=fsync) as partial:
        assert partial == tmp_path / ".out.bin.partial"
        partial.write_bytes(b"new")
        assert target.read_bytes() == b"old"  # not visible before the block ends
    assert target.read_bytes() == b"new"
    assert not partial_path(target).exists()


def test_error_keeps_old_file_and_removes_partial(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="disk full"):
        with atomic_destination(target) as partial:
            partial.write_bytes(b"half")
            raise RuntimeError("disk full")
    assert target.read_bytes() == b"old"
    assert list(tmp_path.iterdir()) == [target]


def _filled(folder: Path, text: str) -> Path:
    folder.mkdir()
    (folder / "file").write_text(text)
    return folder


def test_a_folder_is_renamed_into_place_and_its_parent_kept(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("a user's file")
    target = tmp_path / "model"
    with atomic_folder(target) as partial:
        assert partial.parent == tmp_path and partial.name.startswith(".model.")
        assert list(partial.iterdir()) == []  # a fresh folder, made for this call
        (partial / "file").write_text("new")
        assert not target.exists()  # not visible before the block ends
    assert (target / "file").read_text() == "new"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["keep.txt", "model"]


def test_an_existing_folder_is_kept_unless_replace_is_asked(tmp_path: Path) -> None:
    target = _filled(tmp_path / "model", "old")
    with pytest.raises(FileExistsError), atomic_folder(target) as partial:
        (partial / "file").write_text("new")
    assert (target / "file").read_text() == "old"
    with atomic_folder(target, replace=True) as partial:
        (partial / "file").write_text("new")
    assert (target / "file").read_text() == "new"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["model"]  # the old one removed


def test_an_error_removes_only_the_new_folder(tmp_path: Path) -> None:
    target = _filled(tmp_path / "model", "old")
    with pytest.raises(RuntimeError, match="disk full"), atomic_folder(target, replace=True) as p:
        (p / "file").write_text("half")
        raise RuntimeError("disk full")
    assert (target / "file").read_text() == "old"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["model"]


def test_a_failed_rename_puts_the_old_folder_back(tmp_path: Path) -> None:
    target = _filled(tmp_path / "model", "old")
    with pytest.raises(FileNotFoundError), atomic_folder(target, replace=True) as partial:
        partial.rmdir()  # the new folder is gone when it is to be renamed into place
    assert (target / "file").read_text() == "old"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["model"]
