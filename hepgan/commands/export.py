"""``hepgan export``: an artefact as one ONNX file, or as a Triton model repository."""

from __future__ import annotations

import argparse

from hepgan.commands import new_command
from hepgan.errors import ConfigError

FORMATS = ("onnx", "triton")
TRITON_BACKENDS = ("onnxruntime", "python")  # hepgan.models.export.triton.BACKENDS


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = new_command(
        subparsers,
        "export",
        help="export a model as ONNX (C++ frameworks) or a Triton model repository",
        description="Write the model as one ONNX graph from (noise, conditions) to events in "
        "physical units, transforms included, with the model card in its metadata; or a Triton "
        "model repository (REPO/NAME/config.pbtxt, REPO/NAME/1/model.onnx, and with --backend "
        "python REPO/NAME/1/model.py, which runs the graph with onnxruntime in any Triton). "
        "Needs the onnx "
        "package: pip install 'hepgan[onnx]'. An existing FILE.onnx or REPO/NAME is replaced "
        "only when an earlier export wrote it; nothing else is ever removed.",
    )
    parser.add_argument("--model", required=True, help="model artefact folder")
    parser.add_argument("--format", choices=FORMATS, default="onnx", help="what to write")
    parser.add_argument(
        "-o", "--output", required=True, help="FILE.onnx (onnx) or the repository folder (triton)"
    )
    parser.add_argument(
        "--name",
        default=None,
        help="triton: model name, one folder name of letters, digits, '_', '-', '.' "
        "(default: the artefact folder's)",
    )
    parser.add_argument(
        "--max-batch-size", type=int, default=None, help="triton: largest batch (default: auto)"
    )
    parser.add_argument(
        "--backend",
        choices=TRITON_BACKENDS,
        default="onnxruntime",
        help="triton: Triton's ONNX Runtime platform (full Triton images) or its Python backend "
        "running the same graph with onnxruntime (any Triton, e.g. the nvidia-pytriton wheel's)",
    )
    parser.add_argument("--instances", type=int, default=1, help="triton: model instances")
    parser.add_argument(
        "--instance-kind", default="KIND_CPU", help="triton: KIND_CPU or KIND_GPU instances"
    )
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from hepgan.models.artefact import load_artefact
    from hepgan.models.export.onnx_file import check_replaceable, export_onnx, require
    from hepgan.models.export.triton import check_model_name, export_triton

    output = Path(args.output)
    if args.format == "onnx" and output.suffix.lower() != ".onnx":
        raise ConfigError(f"-o/--output: {output} must end in .onnx for --format onnx")
    if args.format == "triton" and args.name is not None:
        check_model_name(args.name)
    require("onnx")  # before loading the artefact, so a missing package is said at once
    if args.format == "onnx":
        check_replaceable(output)
    artefact = load_artefact(args.model)
    if args.format == "onnx":
        export_onnx(artefact, output)
        print(f"wrote model {artefact.name} as ONNX to {output}")
        return 0

    folder = export_triton(
        artefact,
        output,
        name=args.name,
        max_batch_size=args.max_batch_size,
        instances=args.instances,
        kind=args.instance_kind,
        backend=args.backend,
    )
    print(
        f"wrote Triton model {folder.name} ({args.backend} backend) to repository {output} "
        f"({folder})"
    )
    return 0
