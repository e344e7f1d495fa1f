"""Write files so that a reader never sees a half-written one.

Every file the project writes for others to read (ROOT and HDF5 outputs, checkpoints,
artefact files, downloaded batches) is written to ``.NAME.partial`` beside its final
name and renamed into place only once complete; ``os.replace`` is atomic on POSIX.
"""

from __future__ import annotations

import os
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
