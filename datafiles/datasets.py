"""One entry point for tabular training data, whatever the file format.

:func:`read_table` dispatches on the suffix: ROOT files go to
:func:`~hepgan.datafiles.root_reader.read_events`, CaloChallenge HDF5 files to
:func:`~hepgan.datafiles.calochallenge.read_calochallenge` (returned with the
same column names as a shower ROOT file: ``incident_energy`` and ``voxels``).
:func:`flatten_columns` turns the columns into the (N, F) matrix a model trains on, and
:func:`unflatten_columns` back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

import numpy as np

from hepgan.datafiles.input_paths import PathsLike, expand_paths
from hepgan.errors import ConfigError, InputFileError

ROOT_SUFFIXES = (".root",)
HDF5_SUFFIXES = (".h5", ".hdf5")
DATA_FILE_SUFFIXES = ROOT_SUFFIXES + HDF5_SUFFIXES  # what read_table reads and hepgan writes


def file_format(path: str | Path) -> Literal["root", "hdf5"]:
    """How a data file is written (and read), by its suffix in any case: ``"root"`` for
    .root, ``"hdf5"`` (CaloChallenge) for .h5 and .hdf5; any other is a :class:`ConfigError`."""
    suffix = Path(path).suffix.lower()
    if suffix in ROOT_SUFFIXES:
        return "root"
    if suffix in HDF5_SUFFIXES:
        return "hdf5"
    raise ConfigError(f"{path} must end in one of {', '.join(DATA_FILE_SUFFIXES)}")


def is_hdf5(path: str | Path) -> bool:
    """Whether ``path`` names a CaloChallenge HDF5 file (by its suffix), which has no trees."""
    return Path(path).suffix.lower() in HDF5_SUFFIXES


SHOWER_COLUMNS = ("incident_energy", "voxels")  # (N,) and (N, V), MeV


def read_table(
    paths: PathsLike,
    *,
    tree: str | None = None,
    branches: Sequence[str] | None = None,
    cut: str | None = None,
    max_objects: int = 4,
    step_size: int | str = "100 MB",
    progress: bool = True,
) -> dict[str, np.ndarray]:
    """Read ``paths`` (ROOT or CaloChallenge HDF5, not mixed) into ``{column: (N,) or (N, K)}``.

    ROOT: ``tree`` None means the only TTree/RNTuple in the first file (an error
    lists them if there are several); ``branches`` None means every numeric
    branch; the other options are those of ``read_events``.
    HDF5: ``{"incident_energy": (N,) MeV, "voxels": (N, V) MeV}``, files concatenated;
    ``branches`` may pick among those two; ``tree`` and ``cut`` do not apply.
    """
    files = expand_paths(paths)
    suffix = _common_suffix(files)
    if suffix in HDF5_SUFFIXES:
        return _read_calochallenge_files(files, tree=tree, branches=branches, cut=cut)
    from hepgan.datafiles.root_reader import read_events

    if tree is None or branches is None:
        tree, all_branches = _describe_first_root_file(files[0], tree)
        branches = all_branches if branches is None else branches
    return read_events(
        files,
        tree=tree,
        branches=branches,
        cut=cut,
        max_objects=max_objects,
        step_size=step_size,
        progress=progress,
    )


def flatten_columns(
    columns: Mapping[str, np.ndarray], *, dtype: type[np.floating] = np.float32
) -> tuple[np.ndarray, list[str]]:
    """Stack columns into one (N, F) array of ``dtype`` and name its F features.

    A 1-D column ``x`` (N,) is one feature ``x``; a 2-D column ``v`` (N, K) is K
    features ``v[0]`` .. ``v[K-1]``. Features keep the order of ``columns``.
    """
    if not columns:
        raise ConfigError("no columns to flatten")
    lengths = {name: len(values) for name, values in columns.items()}
    if len(set(lengths.values())) > 1:
        raise ConfigError(f"columns differ in number of events: {lengths}")
    blocks: list[np.ndarray] = []
    names: list[str] = []
    for name, values in columns.items():
        values = np.asarray(values)
        if values.ndim == 1:
            blocks.append(values[:, None])  # (N, 1)
            names.append(name)
        elif values.ndim == 2:
            blocks.append(values)  # (N, K)
            names.extend(f"{name}[{index}]" for index in range(values.shape[1]))
        else:
            raise ConfigError(f"column {name!r} must be (N,) or (N, K), got shape {values.shape}")
    n_events = next(iter(lengths.values()))
    features = np.empty((n_events, len(names)), dtype=dtype)  # (N, F)
    start = 0
    for block in blocks:
        features[:, start : start + block.shape[1]] = block
        start += block.shape[1]
    return features, names


def unflatten_columns(features: np.ndarray, names: Sequence[str]) -> dict[str, np.ndarray]:
    """The inverse of :func:`flatten_columns`: features (N, F) named ``x`` or ``v[0]`` ..
    ``v[K-1]`` -> {``x``: (N,), ``v``: (N, K)} in the order of ``names``; a run of ``v[i]``
    with i = 0 .. K-1 in order is one column, anything else stays a column of its own."""
    features = np.asarray(features)  # (N, F)
    columns: dict[str, np.ndarray] = {}
    start = 0
    while start < len(names):
        stem = names[start].removesuffix("[0]")
        stop = start + 1
        if stem != names[start]:
            while stop < len(names) and names[stop] == f"{stem}[{stop - start}]":
                stop += 1
            columns[stem] = features[:, start:stop]  # (N, K)
        else:
            columns[names[start]] = features[:, start]  # (N,)
        start = stop
    return columns


def _common_suffix(files: Sequence[Path]) -> str:
    suffixes = {path.suffix.lower() for path in files}
    for path in files:
        if path.suffix.lower() not in DATA_FILE_SUFFIXES:
            raise InputFileError(
                f"cannot tell the format of {path}: expected a name ending in "
                f"{', '.join(DATA_FILE_SUFFIXES)}"
            )
    if len({suffix in HDF5_SUFFIXES for suffix in suffixes}) > 1:
        raise InputFileError(f"cannot mix ROOT and HDF5 files in one input: {sorted(suffixes)}")
    return suffixes.pop()


def _describe_first_root_file(path: Path, tree: str | None) -> tuple[str, list[str]]:
    """Resolve ``tree`` (the only one in the file when None) and list its numeric branches."""
    from hepgan.datafiles import root_reader

    with root_reader.open_root(path) as root_file:
        if tree is None:
            trees = root_reader.tree_names(root_file)
            if len(trees) != 1:
                found = f"it holds {', '.join(trees)}" if trees else "it holds none"
                raise InputFileError(
                    f"file {path}: name the tree to read (expected exactly one TTree or "
                    f"RNTuple; {found})"
                )
            tree = trees[0]
        events = root_reader.find_tree(root_file, path, tree)
        names = root_reader.numeric_branches(events)
    if not names:
        raise InputFileError(f"tree {tree!r} in file {path} has no numeric branch")
    return tree, names


def _read_calochallenge_files(
    files: Sequence[Path],
    *,
    tree: str | None,
    branches: Sequence[str] | None,
    cut: str | None,
) -> dict[str, np.ndarray]:
    from hepgan.datafiles.calochallenge import read_calochallenge

    if tree is not None or cut is not None:
        option = "tree" if tree is not None else "cut"
        raise ConfigError(f"{option} applies to ROOT files only, not to HDF5 {files[0]}")
    wanted = list(SHOWER_COLUMNS if branches is None else branches)
    unknown = [name for name in wanted if name not in SHOWER_COLUMNS]
    if unknown or not wanted:
        raise ConfigError(
            f"branches {unknown or wanted} not in a CaloChallenge file; "
            f"choose from {', '.join(SHOWER_COLUMNS)}"
        )
    parts = [read_calochallenge(path) for path in files]
    voxel_counts = {
        path.name: showers.shape[1] for path, (_, showers) in zip(files, parts, strict=True)
    }
    if len(set(voxel_counts.values())) > 1:
        raise InputFileError(f"files have different numbers of voxels: {voxel_counts}")
    columns = {
        "incident_energy": np.concatenate([incident for incident, _ in parts]),  # (N,) MeV
        "voxels": np.concatenate([showers for _, showers in parts]),  # (N, V) MeV
    }
    return {name: columns[name] for name in wanted}
