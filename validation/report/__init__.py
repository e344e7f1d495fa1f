"""The validation report of a candidate sample against a reference: its construction
(:mod:`.build`: ``build_report``, ``build_report_dict``), JSON schema, verdict, physics
observables, reference matching, file tables, labels and plots, and the checkpoint-selection
scores training computes on its validation split."""

from typing import Any

# The path README documented before the split (hepgan.validation.report.build_report), kept
# by a lazy attribute: importing this package does not import the report's statistics.
_MOVED_TO_BUILD = ("build_report", "build_report_dict")


def __getattr__(name: str) -> Any:
    if name in _MOVED_TO_BUILD:
        from hepgan.validation.report import build

        return getattr(build, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
