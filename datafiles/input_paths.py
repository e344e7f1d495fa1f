"""Turn what a user typed (a path, a glob pattern, or a list of them) into existing files."""

from __future__ import annotations

import glob
from collections.abc import Sequence
from pathlib import Path

from hepgan.errors import InputFileError

PathsLike = str | Path | Sequence[str | Path]


class InputFiles(tuple[Path, ...]):
    """Existing files, in reading order, already expanded: what :func:`expand_paths`
    returns, and passes through unchanged, so a read that hands its files on (training ->
    table -> ROOT reader) expands and checks them once."""


def expand_paths(paths: PathsLike) -> InputFiles:
    """Expand ``paths`` into a list of files, in the order given, each pattern sorted by name.

    A name that exists is taken as is, even if it contains ``*``, ``?`` or ``[``;
    otherwise a name with those characters is a glob pattern (``**`` recurses).
    A missing file, a pattern that matches nothing, or a folder raises
    :class:`InputFileError` naming it. A file named twice is read once.
    """
    if isinstance(paths, InputFiles):
        return paths
    entries = [paths] if isinstance(paths, str | Path) else list(paths)
    if not entries:
        raise InputFileError("no input file given")
    files: list[Path] = []
    for entry in entries:
        for path in _expand_one(str(entry)):
            if path not in files:
                files.append(path)
    return InputFiles(files)


def _expand_one(entry: str) -> list[Path]:
    path = Path(entry).expanduser()
    if path.exists() or not glob.has_magic(entry):
        _check_is_file(path)
        return [path]
    matches = sorted(glob.glob(str(path), recursive=True))
    if not matches:
        raise InputFileError(f"no file matches the pattern {entry!r}")
    files = [Path(match) for match in matches if Path(match).is_file()]
    if not files:
        raise InputFileError(f"the pattern {entry!r} matches only folders: {matches[:5]}")
    return files


def _check_is_file(path: Path) -> None:
    if not path.exists():
        where = path.parent if str(path.parent) else Path(".")
        hint = "" if where.is_dir() else f" (the folder {where} does not exist either)"
        raise InputFileError(f"input file not found: {path}{hint}")
    if not path.is_file():
        raise InputFileError(f"input path is a folder, not a file: {path}")
