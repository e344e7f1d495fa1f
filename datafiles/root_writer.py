"""Write events to ROOT files with uproot.

Layout: one TTree, a branch per column. 1-D columns become flat branches,
2-D columns of shape (N, K) fixed-size array branches (``float[K]``), e.g. the
``voxels`` branch of a shower file. Optional string metadata (a validation
report, a model card) is stored as ``TObjString`` objects beside the tree, so
``uproot.open(path)["report"]`` reads it back.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from hepgan.atomic import atomic_destination
from hepgan.errors import InputFileError


def write_root(
    path: str | Path,
    columns: Mapping[str, np.ndarray],
    *,
    tree: str,
    metadata: Mapping[str, str] | None = None,
    rows_per_basket: int = 10_000,
) -> Path:
    """Write ``columns`` (name -> (N,) or (N, K) array, all the same N) as TTree ``tree``.

    Rows are written in baskets of ``rows_per_basket`` events, so a reader can
    stream the file chunk by chunk. Returns the path written. The file is
    written next to its final name and renamed into place, so a reader never
    sees a half-written file.
    """
    import uproot

    path = Path(path)
    lengths = {name: len(values) for name, values in columns.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"columns differ in length: {lengths}")
    for name, values in columns.items():
        if np.asarray(values).ndim not in (1, 2):
            raise ValueError(f"column {name!r} must be 1-D or 2-D, got shape {np.shape(values)}")
    if not path.parent.exists():
        raise InputFileError(f"cannot write {path}: folder {path.parent} does not exist")
    arrays = {name: np.ascontiguousarray(values) for name, values in columns.items()}
    # mktree, not ``output[tree] = arrays``: since uproot 5.7 assignment writes an RNTuple.
    branch_types = {name: (values.dtype, values.shape[1:]) for name, values in arrays.items()}
    n_events = next(iter(lengths.values()), 0)
    with atomic_destination(path) as partial, uproot.recreate(partial) as output:
        writable_tree = output.mktree(tree, branch_types)
        for start in range(0, n_events, rows_per_basket):
            writable_tree.extend(
                {name: values[start : start + rows_per_basket] for name, values in arrays.items()}
            )
        for key, text in (metadata or {}).items():
            output[key] = text
    return path
