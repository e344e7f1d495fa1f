"""String metadata stored beside the data: the ``TObjString`` objects that
:func:`hepgan.datafiles.root_writer.write_root` writes (a geometry, a report, a card)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hepgan.errors import InputFileError


def stored_json(path: str | Path, key: str) -> Any | None:
    """The JSON object stored under ``key`` in a ROOT file; None for other files or no key.

    A value that is not valid JSON is an :class:`InputFileError` naming the file and key.
    """
    path = Path(path)
    if path.suffix.lower() != ".root":
        return None
    import uproot

    with uproot.open(path) as root_file:
        if key not in root_file:
            return None
        try:
            return json.loads(str(root_file[key]))
        except ValueError as error:
            raise InputFileError(f"{path}: {key!r} is not readable JSON: {error}") from None
