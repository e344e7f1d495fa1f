"""``hepgan validate``: judge a candidate sample against a reference sample.

Both files are ROOT or CaloChallenge HDF5, compared by
:func:`hepgan.validation.report.files.compare_files` on
:func:`hepgan.validation.report.tables.table_observables`: shower files on the shower
observables of their geometry (stored in the file, else the preset with their voxel
count; any other count is compared voxel by voxel), with the reference matched to the
candidate's incident energies; event files on their features plus the derived
observables. Prints a summary table; writes the JSON report and PNG plots on request.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hepgan.commands import new_command
from hepgan.errors import ConfigError, InputFileError
from hepgan.progress import Progress

ROWS_SHOWN = 15  # observables listed in the terminal table, worst KS first


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = new_command(
        subparsers,
        "validate",
        help="compare a candidate sample with a reference sample: KS, JS, W1, report, plots",
    )
    parser.add_argument("--reference", type=Path, required=True, help="reference file (.root, .h5)")
    parser.add_argument("--candidate", type=Path, required=True, help="candidate file (.root, .h5)")
    parser.add_argument("--tree", default=None, help="TTree name (default: the file's only tree)")
    parser.add_argument(
        "--features", default=None, help="comma-separated branches to compare (default: all)"
    )
    parser.add_argument("--report", type=Path, default=None, help="write the JSON report here")
    parser.add_argument("--plots", type=Path, default=None, help="write PNG overlays here")
    parser.add_argument(
        "--classifier",
        action="store_true",
        help="add the high-level classifier two-sample test (ROC AUC, calibrated JS)",
    )
    parser.add_argument(
        "--significance",
        type=float,
        default=0.01,
        help="level of the KS tests after the multiple-testing correction",
    )
    parser.add_argument(
        "--correction", choices=("holm", "benjamini-hochberg"), default="holm", help="correction"
    )
    parser.add_argument("--bins", type=int, default=50, help="reference-quantile bins for JS")
    parser.add_argument("--seed", type=int, default=0, help="seed of the classifier test")
    parser.add_argument(
        "--fail-on-fail", action="store_true", help="exit with status 1 when the report fails"
    )
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    from hepgan.validation.report.files import compare_files
    from hepgan.validation.report.schema import ReportThresholds

    if not 0.0 < args.significance < 1.0:
        raise ConfigError(f"--significance must lie in (0, 1), got {args.significance}")
    if args.bins < 2:
        raise ConfigError(f"--bins must be at least 2, got {args.bins}")
    if args.seed < 0:
        raise ConfigError(f"--seed must be >= 0, got {args.seed}")
    features = _feature_list(args.features)
    for flag, path in (("--reference", args.reference), ("--candidate", args.candidate)):
        if not path.is_file():
            raise InputFileError(f"{flag}: file {path} does not exist")
    if args.report is not None and not args.report.parent.is_dir():
        raise ConfigError(f"--report: folder {args.report.parent} does not exist")
    comparison = compare_files(
        args.candidate,
        args.reference,
        tree=args.tree,
        branches=features,
        thresholds=ReportThresholds(
            significance=args.significance, correction=args.correction, n_bins=args.bins
        ),
    )
    report, candidate, matched = comparison.report, comparison.candidate, comparison.reference
    if args.classifier:
        with Progress("validate --classifier", total=None, unit="epochs") as progress:
            report.classifier = _classifier(
                (candidate.observables, candidate.conditions),
                (matched.observables, matched.conditions),
                args.seed,
                progress=lambda _, loss: progress.update(1, f"validation BCE {loss:.4f}"),
            )
    _print_summary(report, args)
    if args.report is not None:
        args.report.write_text(report.model_dump_json(indent=2) + "\n")
        print(f"report written to {args.report}")
    if args.plots is not None:
        from hepgan.validation.report.plots import plot_overlays

        with Progress("validate --plots", total=None, unit="plots") as progress:
            written = plot_overlays(
                candidate.observables,
                matched.observables,
                args.plots,
                report=report,
                progress=lambda _: progress.update(1),
            )
        print(f"{len(written)} plots written to {args.plots}")
    return 1 if args.fail_on_fail and report.summary.status == "fail" else 0


def _feature_list(text: str | None) -> list[str] | None:
    if text is None:
        return None
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise ConfigError("--features: give at least one branch name, e.g. --features E1,px1")
    return names


def _classifier(candidate: tuple, matched_reference: tuple, seed: int, *, progress=None):
    """The high-level classifier two-sample test (CaloChallenge style, trained to
    convergence): for showers on the energy, centres, widths and hit counts per layer and
    the incident energy, for events on the per-event observables. Each argument is
    (observables, conditions or None)."""
    from hepgan.validation.judges.high_level_classifier import (
        classifier_inputs,
        high_level_classifier_test,
    )

    def inputs(observables: dict, conditions: dict | None):
        energy = None if conditions is None else conditions.get("incident_energy")
        return classifier_inputs(observables, energy)

    return high_level_classifier_test(
        inputs(*candidate), inputs(*matched_reference), seed=seed, progress=progress
    ).score()


def _print_summary(report, args: argparse.Namespace) -> None:
    summary = report.summary
    out = sys.stdout
    print(f"candidate {args.candidate} ({summary.n_candidate} events)", file=out)
    print(f"reference {args.reference} ({summary.n_reference} events used)", file=out)
    if report.conditions is not None:
        for variable in report.conditions.variables:
            where = (
                f"window {variable.window[0]:.6g} to {variable.window[1]:.6g}"
                if variable.mode == "window"
                else f"{len(variable.bins_used or [])} of {len(variable.edges or []) + 1} bins"
            )
            print(f"reference matched on {variable.name}: {where}", file=out)
    header = f"{'observable':<28} {'KS':>8} {'p-value':>10} {'JS nats':>10} {'W1':>11} {'S':>8}"
    print(header, file=out)
    print("-" * len(header), file=out)
    worst_first = sorted(report.observables, key=lambda score: score.ks, reverse=True)
    for score in worst_first[:ROWS_SHOWN]:
        flag = " *" if score.failing else ""
        print(
            f"{score.name[:28]:<28} {score.ks:8.4f} {score.ks_pvalue:10.3g} "
            f"{score.js_nats:10.3g} {score.w1:11.4g} {score.separation_power:8.4f}{flag}",
            file=out,
        )
    if len(worst_first) > ROWS_SHOWN:
        print(f"... {len(worst_first) - ROWS_SHOWN} more observables in the report", file=out)
    print(
        f"worst KS {summary.worst_ks:.4f} ({summary.worst_observable}); KS critical value "
        f"{summary.ks_critical_value:.4f} at {summary.significance}; mean JS "
        f"{summary.mean_js_nats:.3g} nats ({summary.mean_js_bits:.3g} bits)",
        file=out,
    )
    print(
        f"{summary.n_failing} of {summary.n_observables} observables fail the KS test "
        f"({summary.correction} correction, * above)",
        file=out,
    )
    if report.classifier is not None:
        print(
            f"classifier AUC {report.classifier.auc:.3f} (0.5 = indistinguishable), "
            f"JS estimate {report.classifier.js_estimate_nats:.3g} nats; trained "
            f"{report.classifier.epochs} epochs, kept epoch {report.classifier.best_epoch}, "
            f"stopped by {report.classifier.stopped_by}",
            file=out,
        )
    print(f"status: {summary.status.upper()}", file=out)
    for reason in summary.reasons:
        print(f"  - {reason}", file=out)
