"""The unit of a data file's column, guessed from its name: what training stores in a model
card and what ``hepgan validate`` labels a plot with, from one table."""

from __future__ import annotations

import re

# Event-feature units by name (GeV for energies and momenta, as in the CMS dimuon sample).
_UNIT_PATTERNS = (
    (re.compile(r"^(E|px|py|pz|pt|p|M|m|mass|MET|met|ht|HT)(\d*|_.*)$"), "GeV"),
    (re.compile(r"^.*_(E|Px|Py|Pz|pt|mass|px|py|pz|sumEt)(\[\d+\])?$"), "GeV"),
    (re.compile(r"^(phi|.*_phi)(\d*)(\[\d+\])?$"), "rad"),
    (re.compile(r"^(Q|charge|.*_[cC]harge)(\d*)(\[\d+\])?$"), "e"),
)


def guess_unit(name: str, kind: str) -> str:
    """The unit of a column by its name: MeV for shower energies, GeV for event energies and
    momenta, rad for angles, e for charges; '' where the name says nothing."""
    if kind == "showers":
        return "MeV"
    for pattern, unit in _UNIT_PATTERNS:
        if pattern.match(name):
            return unit
    return ""
