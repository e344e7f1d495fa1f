"""Error messages about ROOT input written for the user: they name the file, the tree and
the branch, list what exists and suggest the nearest names."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hepgan.errors import InputFileError

MAX_LISTED = 40  # names listed in an error message before "... (N in all)"


def damaged_chunk_error(
    events: Any,
    path: Path,
    tree: str,
    names: list[str],
    step_size: int | str,
    entry_start: int,
    err: Exception,
) -> InputFileError:
    """Build the error for a chunk that failed, naming the branches that fail on their own."""
    step = (
        step_size
        if isinstance(step_size, int)
        else events.num_entries_for(step_size, filter_name=set(names).__contains__)
    )
    entry_stop = min(entry_start + max(step, 1), events.num_entries)
    failing = []
    for name in names:
        try:
            events.arrays(
                filter_name=[name].__contains__,
                entry_start=entry_start,
                entry_stop=entry_stop,
                library="ak",
            )
        except Exception:  # probing which branch is damaged; the first error is reported
            failing.append(name)
    culprit = ", ".join(repr(name) for name in failing or names)
    label = "branch" if len(failing or names) == 1 else "branches"
    return InputFileError(
        f"cannot read {label} {culprit} (entries {entry_start}-{entry_stop}) of "
        f"{describe_tree(tree)} in file {path}: the file is truncated or corrupt "
        f"({one_line_reason(err)})"
    )


def nearest_names(name: str, candidates: Sequence[str]) -> str:
    by_case = {candidate.lower(): candidate for candidate in candidates}
    matches = difflib.get_close_matches(name, candidates, n=5, cutoff=0.6)
    if name.lower() in by_case:  # a difference of case only is the likeliest slip
        same_but_case = by_case[name.lower()]
        matches = [same_but_case] + [match for match in matches if match != same_but_case]
    return f" (did you mean {', '.join(repr(match) for match in matches)}?)" if matches else ""


def listing(names: Sequence[str]) -> str:
    shown = ", ".join(names[:MAX_LISTED])
    more = len(names) - MAX_LISTED
    return f"{shown}, ... ({len(names)} in all)" if more > 0 else shown or "(none)"


def describe_tree(tree: str) -> str:
    return f"tree {tree!r}"


def describe_files(files: Sequence[Path]) -> str:
    return f"file {files[0]}" if len(files) == 1 else f"{len(files)} files ({files[0]}, ...)"


def one_line_reason(err: Exception) -> str:
    """``module.Type: message`` on one line (uproot spreads its messages over several)."""
    kind = type(err).__name__
    module = type(err).__module__
    if module != "builtins":
        kind = f"{module}.{kind}"
    message = " ".join(line.strip() for line in str(err).splitlines() if line.strip())
    return f"{kind}: {message[:300]}" if message else kind
