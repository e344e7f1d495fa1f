"""A candidate file judged against a reference file: what ``hepgan validate`` reports.

Each file (ROOT or CaloChallenge HDF5) is read whole and its columns become observables
(:func:`~hepgan.validation.report.tables.table_observables`, with the geometry stored in a
ROOT file when there is one). When the files carry conditions (showers: the incident
energy), the reference is matched to the candidate's once
(:func:`~hepgan.validation.report.conditions.match_reference`); the report, the plots and the
classifier test all see those matched events.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hepgan.datafiles.datasets import read_table
from hepgan.datafiles.metadata import stored_json
from hepgan.errors import ConfigError, InputFileError
from hepgan.validation.report.build import build_report
from hepgan.validation.report.calorimeter import CalorimeterInputs
from hepgan.validation.report.conditions import match_reference
from hepgan.validation.report.schema import ReportThresholds, ValidationReport
from hepgan.validation.report.tables import TableObservables, table_observables


@dataclass(frozen=True)
class FileComparison:
    """The report of a candidate file against a reference file, and what it compared."""

    report: ValidationReport
    candidate: TableObservables
    reference: TableObservables  # the reference events matched to the candidate's conditions


def read_observables(
    path: Path, *, tree: str | None = None, branches: Sequence[str] | None = None
) -> TableObservables:
    """The observables of a file's columns (``tree`` and ``branches`` as in ``read_table``).

    A float column with NaN or infinite values, or a table no observables can be made of,
    is an :class:`InputFileError` naming the file."""
    table = read_table(path, tree=tree, branches=branches, progress=None)
    for name, values in table.items():
        if np.issubdtype(np.asarray(values).dtype, np.floating) and not np.all(np.isfinite(values)):
            raise InputFileError(f"{path}: column {name!r} holds NaN or infinite values")
    try:
        return table_observables(table, stored_geometry=stored_json(path, "geometry"))
    except ConfigError as error:
        raise InputFileError(f"{path}: {error}") from None


def compare_files(
    candidate_path: Path,
    reference_path: Path,
    *,
    tree: str | None = None,
    branches: Sequence[str] | None = None,
    thresholds: ReportThresholds | None = None,
) -> FileComparison:
    """Judge the candidate file against the reference file (see the module docstring).

    Both must give the same observables, and both conditions or neither."""
    reference = read_observables(reference_path, tree=tree, branches=branches)
    candidate = read_observables(candidate_path, tree=tree, branches=branches)
    only_in_one = sorted(set(candidate.observables) ^ set(reference.observables))
    if only_in_one:
        raise InputFileError(
            f"{candidate_path} and {reference_path} do not hold the same columns: "
            f"{', '.join(only_in_one)} only in one of them"
        )
    if (candidate.conditions is None) != (reference.conditions is None):
        with_conditions = candidate_path if candidate.conditions is not None else reference_path
        raise InputFileError(
            f"only {with_conditions} holds conditions (incident_energy beside 2-D voxels); "
            f"give both files the same columns"
        )
    match = None
    if candidate.conditions is not None:
        match = match_reference(candidate.conditions, reference.conditions)
    report = build_report(
        candidate.observables,
        reference.observables,
        reference_match=match,
        units=reference.units,
        thresholds=thresholds,
        calorimeter=_calorimeter_inputs(candidate, reference),
    )
    matched = reference if match is None else reference.events(match[0])
    return FileComparison(report, candidate, matched)


def _calorimeter_inputs(
    candidate: TableObservables, reference: TableObservables
) -> CalorimeterInputs | None:
    """Both files' showers and their geometry for the report's calorimeter section, when both
    hold showers of one geometry."""
    if candidate.showers is None or reference.showers is None:
        return None
    if candidate.geometry != reference.geometry:
        return None
    return CalorimeterInputs(candidate.showers, reference.showers, reference.geometry)
