"""Print docs/quality.md's tables (Markdown) from the JSON files of scripts/quality.py.

    python scripts/quality_table.py quality/showers_seed*_test.json
    python scripts/quality_table.py quality/showers_steps*_selection.json   # learning curve
    python scripts/quality_table.py --groups quality/showers_seed1_groups_selection.json

Each row is one model judged on one file: its training steps and minutes, the judge's AUC
with its training record (epochs run, epoch kept, why it stopped), the separation powers,
the response and resolution; a last row gives the mean and the spread (min-max) over rows.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

SHOWER_COLUMNS = (
    ("steps", lambda r: r["training"]["steps"], "{:.0f}"),
    ("minutes", lambda r: r["training"]["wall_seconds"] / 60, "{:.1f}"),
    ("AUC", lambda r: r["classifier_auc"], "{:.3f}"),
    ("AUC (isotonic)", lambda r: r["classifier"]["auc_isotonic"], "{:.3f}"),
    ("S median", lambda r: r["median_separation_power"], "{:.4f}"),
    ("S max", lambda r: r["max_separation_power"], "{:.3f}"),
    ("response", lambda r: 100 * r["max_mean_deviation"], "{:.1f} %"),
    ("resolution", lambda r: 100 * r["max_resolution_deviation"], "{:.1f} %"),
)
EVENT_COLUMNS = (
    ("steps", lambda r: r["training"]["steps"], "{:.0f}"),
    ("minutes", lambda r: r["training"]["wall_seconds"] / 60, "{:.1f}"),
    ("AUC", lambda r: r["classifier_auc"], "{:.3f}"),
    ("max feature KS", lambda r: r["max_feature_ks"], "{:.3f}"),
    ("KS(M)", lambda r: r["mass_ks"], "{:.3f}"),
)


def _judge_record(result: dict) -> str:
    judge = result["classifier"]
    return f"{judge['epochs']} / {judge['best_epoch']} / {judge['stopped_by']}"


def table(paths: list[Path]) -> str:
    """One Markdown row per JSON file, then the mean and the min-max spread of each column."""
    results = [json.loads(path.read_text()) for path in paths]
    columns = SHOWER_COLUMNS if "energy_bins" in results[0] else EVENT_COLUMNS
    names = ["model", *(name for name, _, _ in columns), "judge epochs / kept / stopped by"]
    lines = ["| " + " | ".join(names) + " |", "|" + " --- |" * len(names)]
    values = [[get(result) for _, get, _ in columns] for result in results]
    for path, result, row in zip(paths, results, values, strict=True):
        cells = [fmt.format(value) for (_, _, fmt), value in zip(columns, row, strict=True)]
        lines.append(f"| {path.stem} | " + " | ".join(cells) + f" | {_judge_record(result)} |")
    if len(results) > 1:
        summary = []
        for index, (_, _, fmt) in enumerate(columns):
            column = [row[index] for row in values]
            mean = fmt.format(sum(column) / len(column))
            summary.append(f"{mean} ({fmt.format(min(column))} - {fmt.format(max(column))})")
        lines.append("| mean (min - max) | " + " | ".join(summary) + " | |")
    return "\n".join(lines)


def group_table(path: Path) -> str:
    """The judge's AUC on each input group alone, from a ``--by-group`` JSON."""
    result = json.loads(path.read_text())
    groups = result["auc_by_input_group"]
    lines = ["| judge inputs | AUC |", "| --- | --- |"]
    lines += [f"| {group} (+ E_inc) | {auc:.3f} |" for group, auc in groups.items()]
    lines.append(
        f"| all ({', '.join(result['classifier_inputs'])}) | {result['classifier_auc']:.3f} |"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json", nargs="+", type=Path)
    parser.add_argument("--groups", action="store_true", help="the by-group AUC table")
    args = parser.parse_args(argv)
    if args.groups:
        print("\n\n".join(group_table(path) for path in args.json))
    else:
        print(table(args.json))
    return 0


if __name__ == "__main__":
    sys.exit(main())
