"""The ``hepgan`` subcommands, one module each.

Each module defines ``add_parser(subparsers) -> None``, which registers its
subcommand with :func:`new_command` and sets ``run`` (a callable taking the
parsed arguments and returning the exit status) as a parser default. Modules
import nothing heavy at import time: torch, uproot and friends are imported
inside ``run``, so ``hepgan --help`` stays fast.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from hepgan.errors import ConfigError


def common_options(*, top_level: bool = False) -> argparse.ArgumentParser:
    """Options shared by ``hepgan`` and every subcommand (added via ``parents=``).

    Only the top-level parser gives ``--debug`` a default: a subcommand's
    default would overwrite a ``--debug`` written before the subcommand's name.
    """
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug",
        action="store_true",
        default=False if top_level else argparse.SUPPRESS,
        help="show the full traceback of an error instead of a one-line message",
    )
    return common


def new_command(
    subparsers: argparse._SubParsersAction, name: str, *, help: str, description: str | None = None
) -> argparse.ArgumentParser:
    """Register subcommand ``name`` with the common options and return its parser."""
    return subparsers.add_parser(
        name,
        help=help,
        description=description or help,
        parents=[common_options()],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )


def parse_condition_flag(text: str) -> tuple[str, float, float]:
    """``--condition NAME=VALUE`` or ``NAME=LO:HI`` -> (name, low, high); a VALUE gives low == high.

    Raises :class:`ConfigError` naming the flag unless the bounds are finite with LO <= HI.
    """
    name, equals, spec = text.partition("=")
    try:
        if not equals or not name:
            raise ValueError
        bounds = [float(part) for part in spec.split(":")]
        if len(bounds) > 2:
            raise ValueError
    except ValueError:
        raise ConfigError(f"--condition {text!r}: expected NAME=VALUE or NAME=LO:HI") from None
    low, high = bounds[0], bounds[-1]
    if not (math.isfinite(low) and math.isfinite(high)) or low > high:
        raise ConfigError(f"--condition {text!r}: give a finite VALUE or LO:HI with LO <= HI")
    return name, low, high


def output_format(path: str | Path) -> str:
    """``-o/--output``'s file format, "root" or "hdf5"
    (:func:`hepgan.datafiles.datasets.file_format`); a wrong suffix is named with the flag."""
    from hepgan.datafiles.datasets import file_format

    try:
        return file_format(path)
    except ConfigError as error:
        raise ConfigError(f"-o/--output: {error}") from None
