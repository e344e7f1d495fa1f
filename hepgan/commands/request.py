"""``hepgan request MODEL -n N -o FILE``: ask a running service for events, write them to a file.

The body is streamed to the file as it arrives (any size), in the format given
by --format or the file's suffix; the validation summary from the response
headers is printed to stderr.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from hepgan.commands import new_command, parse_condition_flag
from hepgan.errors import ConfigError

FORMAT_BY_SUFFIX = {".npz": "npz", ".root": "root", ".arrows": "arrow", ".json": "json"}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = new_command(
        subparsers,
        "request",
        help="request events from a running hepgan service and write them to a file",
    )
    parser.add_argument("model", help="model name (see GET /v1/models)")
    parser.add_argument("-n", "--events", type=int, required=True, help="number of events")
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        help="output file; .npz, .root, .arrows or .json picks the format",
    )
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="service address")
    parser.add_argument(
        "--condition",
        action="append",
        default=[],
        metavar="NAME=SPEC",
        help="NAME=VALUE for all events, or NAME=LO:HI drawn log-uniformly when 0 < LO (else "
        "uniformly), as in hepgan generate; repeatable; conditions left out follow the "
        "reference sample",
    )
    parser.add_argument("--seed", type=int, default=None, help="random seed (>= 0)")
    parser.add_argument(
        "--format",
        choices=["npz", "root", "arrow", "json", "npy"],
        default=None,
        help="output format (default: from the --output suffix); npy is an alias of npz",
    )
    parser.add_argument("--no-validate", action="store_true", help="skip the validation report")
    parser.add_argument(
        "--extrapolate", action="store_true", help="allow conditions outside the training range"
    )
    parser.add_argument(
        "--api-key-env",
        default="HEPGAN_API_KEY",
        help="environment variable holding the API key (keys never go on the command line)",
    )
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    from hepgan.client import Client

    if args.events < 1:
        raise ConfigError(f"-n/--events must be a positive integer, got {args.events}")
    if args.seed is not None and args.seed < 0:
        raise ConfigError(f"--seed must be >= 0, got {args.seed}")
    if not args.output.parent.is_dir():
        raise ConfigError(f"-o/--output: folder {args.output.parent} does not exist")
    output_format = args.format or FORMAT_BY_SUFFIX.get(args.output.suffix)
    if output_format is None:
        known = ", ".join(FORMAT_BY_SUFFIX)
        raise ConfigError(
            f"-o/--output: cannot tell the format from {args.output.name!r}; "
            f"use a suffix ({known}) or --format"
        )
    conditions = dict(_parse_condition(text) for text in args.condition)
    with Client(args.url, api_key=os.environ.get(args.api_key_env)) as client:
        headers = client.download(
            args.model,
            args.events,
            args.output,
            format=output_format,
            conditions=conditions,
            seed=args.seed,
            validate=not args.no_validate,
            extrapolate=args.extrapolate,
        )
    summary = {
        key.lower().removeprefix("x-hepgan-"): value
        for key, value in headers.items()
        if key.lower().startswith("x-hepgan-")
    }
    print(f"wrote {args.events} events of {args.model} to {args.output}", file=sys.stderr)
    print("  " + ", ".join(f"{key}: {value}" for key, value in summary.items()), file=sys.stderr)
    return 0


def _parse_condition(text: str) -> tuple[str, Any]:
    """``NAME=VALUE`` or ``NAME=LO:HI`` -> (name, request value), as in ``hepgan generate``."""
    from hepgan.models.conditions import range_distribution

    name, low, high = parse_condition_flag(text)
    if low == high:
        return name, low
    return name, {"min": low, "max": high, "distribution": range_distribution(low)}
