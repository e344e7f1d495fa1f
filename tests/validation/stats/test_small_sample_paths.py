"""The short cuts a tiny sample takes through the report give what the general paths give."""

from __future__ import annotations

import numpy as np

from hepgan.validation.report.observables import shower_observable_units
from hepgan.validation.stats.binning import shared_histograms
from hepgan.validation.stats.sorting import sort_columns


def test_histogram_counts_match_numpy() -> None:
    candidate = sort_columns(np.random.default_rng(3).normal(size=(500, 4)))
    reference = sort_columns(np.random.default_rng(4).normal(size=(3000, 4)))
    pair = shared_histograms(candidate, reference, n_bins=10)
    for feature in range(4):
        # Bins [edge_b, edge_b+1) with open outer bins: #{x < edge} differences.
        edges = np.concatenate([[-np.inf], pair.edges[feature], [np.inf]])
        for sample, counts in ((candidate, pair.candidate), (reference, pair.reference)):
            below = np.searchsorted(sample.values[feature], edges, side="left")
            np.testing.assert_array_equal(counts[feature], np.diff(below))
            assert counts.dtype == np.float64


def test_units_are_a_fresh_dict_each_time() -> None:
    names = ["e_layer_00", "centre_x_layer_01", "n_hits"]
    first = shower_observable_units(names)
    assert first == {"e_layer_00": "MeV", "centre_x_layer_01": "mm", "n_hits": ""}
    first["e_layer_00"] = "changed by a caller"
    assert shower_observable_units(names)["e_layer_00"] == "MeV"
