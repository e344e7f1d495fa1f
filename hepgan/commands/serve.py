"""``hepgan serve --models DIR``: serve every model artefact under DIR over HTTP (uvicorn).

Flags override the ``HEPGAN_*`` environment (see README, "Service"); they are
passed to the app, and to each worker process, through that environment. A
folder that fails to load is listed by ``/readyz`` and the others are served.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from hepgan.commands import new_command
from hepgan.errors import ConfigError

if TYPE_CHECKING:
    from hepgan.service.settings import Settings


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = new_command(
        subparsers,
        "serve",
        help="serve model artefacts over HTTP (generate events with a validation report)",
        description=(
            "Serve every model artefact folder under --models over HTTP. Other settings "
            "(HEPGAN_API_KEY, HEPGAN_MAX_EVENTS_PER_REQUEST, ...) come from the environment."
        ),
    )
    parser.add_argument(
        "--models", type=Path, required=True, help="folder whose sub-folders are model artefacts"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8000, help="TCP port to listen on")
    parser.add_argument(
        "--workers", type=int, default=1, help="server processes (each loads every model)"
    )
    parser.add_argument(
        "--device",
        default=None,
        help='"auto", "cpu", "cuda" or "cuda:N" (default: HEPGAN_DEVICE, else auto)',
    )
    parser.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug"],
        help="uvicorn log level",
    )
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    if not args.models.is_dir():
        raise ConfigError(f"--models: folder {args.models} does not exist")
    if not 0 < args.port < 65536:
        raise ConfigError(f"--port must be between 1 and 65535, got {args.port}")
    if args.workers < 1:
        raise ConfigError(f"--workers must be >= 1, got {args.workers}")
    os.environ["HEPGAN_MODELS_DIR"] = str(args.models.resolve())
    if args.device is not None:
        os.environ["HEPGAN_DEVICE"] = args.device
    settings = _check_settings()
    import uvicorn

    from hepgan.service.http_protocol import IMPORT_PATH as HEAD_TIMEOUT_PROTOCOL

    print(
        f"hepgan serve: models from {args.models}; web page at http://{args.host}:{args.port}/ "
        f"(API docs at /docs, readiness at /readyz)",
        file=sys.stderr,
    )
    uvicorn.run(
        "hepgan.service.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=args.log_level,
        http=HEAD_TIMEOUT_PROTOCOL,
        timeout_keep_alive=settings.keep_alive_timeout_s,
        limit_concurrency=settings.max_connections,
    )
    return 0


def _check_settings() -> Settings:
    """Fail early, in one line, on a bad HEPGAN_* variable instead of in every worker."""
    from pydantic import ValidationError

    from hepgan.service.settings import Settings

    try:
        return Settings()
    except ValidationError as error:
        first = error.errors()[0]
        name = "HEPGAN_" + str(first["loc"][0]).upper()
        raise ConfigError(f"{name}: {first['msg']}") from None
