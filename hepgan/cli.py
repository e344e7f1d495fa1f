"""The ``hepgan`` command line: ``hepgan simulate | train | generate | validate | serve | request``.

Subcommands live in :mod:`hepgan.commands`, one module each, found at start-up.
An error a user can act on (:class:`hepgan.errors.HepganError`) is printed as
one line and the process exits with status 2; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

from hepgan import __version__, commands
from hepgan.errors import HepganError

# The order subcommands are listed in ``hepgan --help``; others follow alphabetically.
PREFERRED_ORDER = ("simulate", "train", "generate", "export", "validate", "serve", "request")


def _command_modules() -> list[str]:
    found = {info.name for info in pkgutil.iter_modules(commands.__path__)}
    ordered = [name for name in PREFERRED_ORDER if name in found]
    return ordered + sorted(found - set(ordered))


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="hepgan",
        description="Fast simulation for high-energy physics with conditional GANs.",
        parents=[commands.common_options(top_level=True)],
    )
    parser.add_argument("--version", action="version", version=f"hepgan {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in _command_modules():
        importlib.import_module(f"hepgan.commands.{name}").add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0 success, 2 user error)."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except HepganError as error:
        if args.debug:
            raise
        print(f"hepgan {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"hepgan {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
