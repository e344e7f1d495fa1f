"""Write files so that a reader never sees a half-written one.

Every file the project writes for others to read (ROOT and HDF5 outputs, checkpoints,
artefact files, downloaded batches) is written to ``.NAME.partial`` beside its final
name and renamed into place only once complete; ``os.replace`` is atomic on POSIX.
A folder (a Triton model) is filled in a fresh sibling folder and renamed the same way
(:func:`atomic_folder`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def partial_path(path: Path, writer: str = "") -> Path:
    """The temporary name ``.NAME.partial`` (``.NAME.WRITER.partial`` for a named writer) used
    while ``path`` is being written."""
    return path.with_name(f".{path.name}{'.' + writer if writer else ''}.partial")


@contextmanager
def atomic_destination(
    path: str | Path, *, fsync: bool = False, writer: str = ""
) -> Iterator[Path]:
    """Yield a temporary path to write; on success rename it to ``path``, on error remove it.

    With ``fsync`` the data are flushed to disk before the rename, so that after a power
    loss the final name holds either the old file or the complete new one. Processes that
    may write the same ``path`` at once give distinct ``writer`` names, so that their
    temporary files differ; the last rename wins.
    """
    path = Path(path)
    partial = partial_path(path, writer)
    try:
        yield partial
        if fsync:
            with open(partial, "rb") as handle:
                os.fsync(handle.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _sibling_folder(path: Path, suffix: str) -> Path:
    """A new, empty folder ``.NAME.XXXXXXXX.SUFFIX`` beside ``path``, made for this caller."""
    return Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=f".{suffix}"))


@contextmanager
def atomic_folder(path: str | Path, *, replace: bool = False) -> Iterator[Path]:
    """Yield a new, empty folder beside ``path`` to fill; on success rename it to ``path``,
    on error remove it (and only it).

    ``path`` must not exist (:class:`FileExistsError` otherwise), unless ``replace``: then the
    folder there (which the caller has judged replaceable) is renamed aside, the new one renamed
    into place, and the old one removed; if the second rename fails the old one is put back.
    Nothing but the folders this function made is ever removed.
    """
    path = Path(path)
    partial = _sibling_folder(path, "partial")
    try:
        yield partial
        if not (replace and os.path.lexists(path)):
            if os.path.lexists(path):  # rename() would silently replace an empty folder
                raise FileExistsError(f"{path} exists")
            os.rename(partial, path)
            return
        aside = _sibling_folder(path, "old")
        os.rename(path, aside)  # onto the empty folder just made: POSIX allows it
        try:
            os.rename(partial, path)
        except BaseException:
            os.rename(aside, path)
            raise
        shutil.rmtree(aside, ignore_errors=True)  # a leftover here loses nothing
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
