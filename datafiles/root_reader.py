"""Read events from ROOT files (TTree or RNTuple) into fixed-width NumPy columns.

Column layout returned by :func:`read_events`, in the order the branches were asked for:

- a flat branch ``x`` (``float``, ``int32_t``, ``bool``...) -> ``x`` (N,);
- a fixed-size array branch ``v`` (``float[368]``, ``std::array<float,368>``) -> ``v`` (N, 368);
  multi-dimensional ones (``float[3][4]``) are flattened to (N, 12) in C order;
- a jagged branch ``X`` (``float[]``, ``RVec<float>``) -> ``X`` (N, max_objects): the first
  ``max_objects`` objects of each event **in stored order** (sort them upstream, e.g. by pT,
  if "leading" should mean the hardest), **padded with zeros** (0, 0.0 or False, in the
  branch's dtype) when an event has fewer objects, plus ``X_n`` (N,) int64: the number of
  objects in the event *before* truncation, so padding is told apart from a real zero.

Dtypes are the branches' own (``float32`` stays ``float32``). Files are read one after
another and each in chunks of ``step_size`` with ``uproot``'s ``iterate``, so only one
chunk of raw arrays is in memory at a time: inputs larger than memory work as long as the
fixed-width result fits. Every file is checked (tree, branches, types) before any
data is read, so a mistake in the last file is reported at once.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from hepgan.datafiles.input_paths import PathsLike, expand_paths
from hepgan.datafiles.root_cuts import Cut, parse_cut
from hepgan.datafiles.root_messages import (
    damaged_chunk_error,
    describe_files,
    describe_tree,
    listing,
    nearest_names,
    one_line_reason,
)
from hepgan.errors import ConfigError, InputFileError

TREE_CLASSES = ("TTree", "ROOT::RNTuple")
MULTIPLICITY_SUFFIX = "_n"
_MEMORY_SIZE = re.compile(r"^\s*\d+(\.\d*)?\s*([kmgt]i?)?b\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class BranchLayout:
    """How a branch maps to columns: ``flat`` (N,), ``fixed`` (N, width) or ``jagged``."""

    kind: Literal["flat", "fixed", "jagged"]
    dtype: np.dtype
    width: int  # values per event for "fixed", 1 otherwise
    typename: str  # as ROOT names it, for messages


def read_events(
    paths: PathsLike,
    *,
    tree: str,
    branches: Sequence[str],
    cut: str | None = None,
    max_objects: int = 4,
    step_size: int | str = "100 MB",
    progress: bool = True,
) -> dict[str, np.ndarray]:
    """Read ``branches`` of ``tree`` (a TTree or RNTuple) from every file in ``paths``.

    ``paths``: a path, a glob pattern, or a list of them (see :func:`expand_paths`).
    ``cut``: keep only events where this expression is true (see :mod:`root_cuts`);
    the branches it uses are read but not returned unless listed in ``branches``.
    ``max_objects``: columns kept per jagged branch. ``step_size``: entries per chunk
    (int) or memory per chunk (``"100 MB"``). ``progress``: a tqdm bar on stderr when
    it is a terminal. Returns ``{column: array}`` in the layout of the module docstring.
    Raises :class:`InputFileError` (naming file and tree/branch) or :class:`ConfigError`.
    """
    names = _check_branch_names(branches)
    _check_options(max_objects=max_objects, step_size=step_size)
    selection = parse_cut(cut) if cut is not None else None
    to_read = names + [name for name in (selection.names if selection else ()) if name not in names]
    files = expand_paths(paths)

    layouts, n_entries_total = _inspect_files(files, tree, to_read, selection)
    _check_output_names(names, layouts)
    if n_entries_total == 0:
        raise InputFileError(f"{describe_tree(tree)} has no entries in {describe_files(files)}")

    parts: dict[str, list[np.ndarray]] = {}
    with _progress_bar(n_entries_total, tree, enabled=progress) as bar:
        for path in files:
            for chunk in _read_chunks(path, tree, to_read, step_size):
                bar.update(len(chunk))
                if selection is not None:
                    chunk = chunk[_evaluate_cut(selection, chunk)]
                for name in names:
                    for column, values in _to_columns(
                        name, chunk[name], layouts[name], max_objects
                    ):
                        parts.setdefault(column, []).append(values)
    return {column: np.concatenate(chunks) for column, chunks in parts.items()}


def _inspect_files(
    files: Sequence[Path], tree: str, names: Sequence[str], selection: Cut | None
) -> tuple[dict[str, BranchLayout], int]:
    """Check tree, branches and types in every file before reading data; count the entries."""
    first_layouts: dict[str, BranchLayout] | None = None
    n_entries = 0
    for path in files:
        with open_root(path) as root_file:
            events = find_tree(root_file, path, tree)
            layouts = branch_layouts(events, path, tree, names, cut=selection)
            n_entries += events.num_entries
        if first_layouts is None:
            first_layouts = layouts
        else:
            _check_same_layouts(first_layouts, layouts, path, files[0])
    assert first_layouts is not None  # expand_paths never returns an empty list
    return first_layouts, n_entries


def find_tree(root_file: Any, path: Path, tree: str) -> Any:
    """Return the TTree or RNTuple ``tree`` of an open file, or raise naming the trees there."""
    wanted = tree.strip("/").split(";")[0]
    classes = _object_classes(root_file)
    if wanted not in classes:
        trees = tree_names(root_file)
        there = (
            f"trees in this file: {', '.join(trees)}"
            if trees
            else f"it holds no TTree or RNTuple, only: {listing(sorted(classes))}"
        )
        raise InputFileError(
            f"no tree {wanted!r}{nearest_names(wanted, trees)} in file {path}; {there}"
        )
    if classes[wanted] not in TREE_CLASSES:
        raise InputFileError(
            f"{wanted!r} in file {path} is a {classes[wanted]}, not a TTree or RNTuple"
        )
    try:
        return root_file[wanted]
    except Exception as err:  # the tree's own metadata (streamers, branch list) is unreadable
        raise InputFileError(
            f"cannot read {describe_tree(wanted)} in file {path}: the file is truncated or "
            f"corrupt ({one_line_reason(err)})"
        ) from err


def tree_names(root_file: Any) -> list[str]:
    """Sorted paths of the TTrees and RNTuples in an open file (subfolders included)."""
    return sorted(name for name, kind in _object_classes(root_file).items() if kind in TREE_CLASSES)


def _object_classes(root_file: Any) -> dict[str, str]:
    """``{object path: class name}`` for every object in an open file (subfolders included)."""
    return {key.split(";")[0]: kind for key, kind in root_file.classnames(recursive=True).items()}


def branch_layouts(
    events: Any, path: Path, tree: str, names: Sequence[str], *, cut: Cut | None = None
) -> dict[str, BranchLayout]:
    """Check that every branch in ``names`` exists and is numeric; return its layout."""
    available = list(events.keys())
    typenames = events.typenames()
    layouts = {}
    for name in names:
        where = f"{describe_tree(tree)} in file {path}"
        if name not in available:
            used_in = f" (used in the cut {cut.expression!r})" if cut and name in cut.names else ""
            raise InputFileError(
                f"no branch {name!r}{nearest_names(name, available)}{used_in} in {where}; "
                f"branches there: {listing(available)}"
            )
        typename = typenames.get(name) or "unknown"
        layout = _layout(_awkward_form(events, name), typename)
        if layout is None:
            raise InputFileError(
                f"branch {name!r} in {where} has type {typename!r}: "
                "expected numbers (flat, fixed-size array, or jagged array of numbers)"
            )
        layouts[name] = layout
    return layouts


def numeric_branches(events: Any) -> list[str]:
    """Names of the branches of ``events`` that :func:`read_events` can read, in stored order.

    Sub-fields of RNTuple collections (``_collection0.Muon_pt``) are left out: each
    is also a top-level field.
    """
    typenames = events.typenames()
    is_rntuple = events.classname == "ROOT::RNTuple"
    return [
        name
        for name in events.keys()
        if not (is_rntuple and "." in name)
        and _layout(_awkward_form(events, name), typenames.get(name, "")) is not None
    ]


def _check_branch_names(branches: Sequence[str]) -> list[str]:
    if isinstance(branches, str):
        raise ConfigError(f"branches must be a list of names, not the string {branches!r}")
    names = list(branches)
    if not names:
        raise ConfigError("branches is empty: name at least one branch to read")
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ConfigError(f"branches names {', '.join(duplicates)} more than once")
    return names


def _check_options(*, max_objects: int, step_size: int | str) -> None:
    if isinstance(max_objects, bool) or not isinstance(max_objects, int) or max_objects < 1:
        raise ConfigError(f"max_objects must be an integer >= 1, got {max_objects!r}")
    if isinstance(step_size, str):
        if not _MEMORY_SIZE.match(step_size):
            raise ConfigError(
                f"step_size {step_size!r} is not a memory size such as '100 MB' or '1 GiB'"
            )
    elif isinstance(step_size, bool) or not isinstance(step_size, int) or step_size < 1:
        raise ConfigError(f"step_size must be entries >= 1 or a memory size, got {step_size!r}")


def _check_same_layouts(
    first: dict[str, BranchLayout], current: dict[str, BranchLayout], path: Path, first_path: Path
) -> None:
    for name, layout in first.items():
        other = current[name]
        if (other.kind, other.width) != (layout.kind, layout.width):
            raise InputFileError(
                f"branch {name!r} is {other.typename} in file {path} "
                f"but {layout.typename} in file {first_path}: files cannot be combined"
            )


def _check_output_names(names: list[str], layouts: dict[str, BranchLayout]) -> None:
    for name in names:
        multiplicity = name + MULTIPLICITY_SUFFIX
        if layouts[name].kind == "jagged" and multiplicity in names:
            raise ConfigError(
                f"branch {multiplicity!r} clashes with the multiplicity column of the "
                f"jagged branch {name!r}; read one of them"
            )


def open_root(path: Path) -> Any:
    """Open a ROOT file with uproot (use as a context manager), or raise naming the file."""
    import uproot

    try:
        return uproot.open(path)
    except Exception as err:  # uproot raises many types for bad bytes; all mean "unreadable"
        raise InputFileError(
            f"cannot open {path} as a ROOT file (not ROOT, truncated or corrupt): "
            f"{one_line_reason(err)}"
        ) from err


def _awkward_form(events: Any, name: str) -> Any:
    """The awkward form of one branch or field, or None when uproot cannot interpret it."""
    from uproot.interpretation.identify import UnknownInterpretation

    if events.classname == "ROOT::RNTuple":
        return events.to_akform(filter_name=[name])[0].content(name)
    try:
        return events[name].interpretation.awkward_form(events.file)
    except UnknownInterpretation:
        return None


def _layout(form: Any, typename: str) -> BranchLayout | None:
    """Classify an awkward form as flat / fixed / jagged numbers, or None for anything else."""
    import awkward as ak

    forms = ak.forms
    if form is None or form.parameters.get("__array__") is not None:  # strings, chars, bytes
        return None
    if isinstance(form, forms.NumpyForm):
        dtype = np.dtype(form.primitive)
        if dtype.kind not in "biuf":  # bool, signed, unsigned, floating; not complex or times
            return None
        width = math.prod(form.inner_shape)
        kind = "fixed" if form.inner_shape else "flat"
        return BranchLayout(kind=kind, dtype=dtype, width=width, typename=typename)
    if not isinstance(form, forms.RegularForm | forms.ListOffsetForm | forms.ListForm):
        return None  # records, unions, options: not a column of numbers
    inner = _layout(form.content, typename)
    if inner is None or inner.kind == "jagged":
        return None
    if isinstance(form, forms.RegularForm):
        return BranchLayout("fixed", inner.dtype, form.size * inner.width, typename)
    if inner.kind == "flat":
        return BranchLayout("jagged", inner.dtype, 1, typename)
    return None  # lists of fixed-size arrays


def _read_chunks(path: Path, tree: str, names: list[str], step_size: int | str) -> Iterator[Any]:
    """Yield awkward record arrays of ``names``, ``step_size`` at a time, from one file."""
    wanted = set(names)
    with open_root(path) as root_file:
        events = find_tree(root_file, path, tree)
        chunks = events.iterate(
            filter_name=wanted.__contains__, step_size=step_size, library="ak", report=True
        )
        next_entry = 0
        while True:
            try:
                chunk, report = next(chunks)
            except StopIteration:
                return
            except Exception as err:  # any failure to decode bytes means a damaged file
                raise damaged_chunk_error(
                    events, path, tree, names, step_size, next_entry, err
                ) from err
            next_entry = report.tree_entry_stop
            yield chunk


def _evaluate_cut(selection: Cut, chunk: Any) -> np.ndarray:
    return selection.evaluate({name: chunk[name] for name in selection.names})  # (n,) bool


def _to_columns(
    name: str, values: Any, layout: BranchLayout, max_objects: int
) -> list[tuple[str, np.ndarray]]:
    """Turn one chunk of a branch into its output columns (see the module docstring)."""
    import awkward as ak

    if layout.kind != "jagged":
        array = np.asarray(ak.to_numpy(values), dtype=layout.dtype)
        return [
            (name, array.reshape(len(array), layout.width) if layout.kind == "fixed" else array)
        ]
    counts = np.asarray(ak.to_numpy(ak.num(values, axis=1)), dtype=np.int64)  # (n,)
    padded = ak.fill_none(ak.pad_none(values, max_objects, clip=True), layout.dtype.type(0))
    leading = np.asarray(ak.to_numpy(padded), dtype=layout.dtype)  # (n, max_objects)
    return [(name, leading), (name + MULTIPLICITY_SUFFIX, counts)]


def _progress_bar(total: int, tree: str, *, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(
        total=total,
        desc=f"reading {tree}",
        unit=" events",
        file=sys.stderr,
        disable=None if enabled else True,
    )
