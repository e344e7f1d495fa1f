"""Atomic writes: the final name holds the old file or the complete new one, never a part."""

from __future__ import annotations

from pathlib import Path

import pytest

from hepgan.atomic import atomic_destination, partial_path


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
