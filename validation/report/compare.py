"""The statistics of many features at once: KS, p-value, W1, JS, separation power, moments.

Features are compared in blocks whose working arrays stay small, several blocks at once on
threads (numpy's sort and the compiled sweep release the GIL); how many threads pay off
for a given size is measured in docs/benchmarks.md.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from hepgan.validation.report.display_histograms import display_histogram
from hepgan.validation.stats.binning import plotting_edges, shared_histograms
from hepgan.validation.stats.divergences import js_and_separation_power, nats_to_bits
from hepgan.validation.stats.ks import ks_pvalue, report_pvalue_method
from hepgan.validation.stats.sorting import SortedColumns, sort_columns
from hepgan.validation.stats.sweep import ks_and_wasserstein

# Elements (events x features) of one block of working arrays: 2 MB of float64.
BLOCK_ELEMENTS = 1 << 18
# Most threads a report uses by default (blocks of features run in parallel).
MAX_DEFAULT_THREADS = 8
# Candidate values (events x features) per thread below which another thread costs more
# than it saves (a service batch of 53 x 10,000 runs faster on one thread).
MIN_THREAD_ELEMENTS = 1 << 20


@functools.cache
def default_threads() -> int:
    """Threads a report uses unless told: the machine's cores, at most 8 (asked once)."""
    return max(1, min(os.cpu_count() or 1, MAX_DEFAULT_THREADS))


def compare_features(
    candidate: Mapping[str, np.ndarray],
    reference: SortedColumns,
    *,
    n_bins: int,
    threads: int,
    histograms: bool = False,
) -> dict[str, np.ndarray]:
    """KS, p-value, W1, JS, separation power, sizes and moments per feature, each (F,).

    With ``histograms``, also the bins JS and the separation power were computed on:
    ``histogram_edges`` (F, B + 1), ``histogram_reference`` and ``histogram_candidate``
    counts (F, B) (:func:`~hepgan.validation.stats.binning.plotting_edges`), and ``display``
    (F,) objects: each feature's histograms to draw, as JSON
    (:func:`~hepgan.validation.report.display_histograms.display_histogram`).

    Candidate: name -> (n,) values, checked finite here, against the sorted reference
    (the same features in order), in blocks of features whose working arrays stay small
    (about 2 MB): fresh large arrays cost a page fault per 4 kB on first touch, small
    ones are recycled by the allocator. Up to ``threads`` blocks are stacked, checked,
    sorted and compared at once (numpy's sort and the compiled sweep release the GIL),
    one thread per MIN_THREAD_ELEMENTS candidate values at most.
    """
    names = tuple(candidate)
    n_events, n_features = len(candidate[names[0]]), len(names)
    threads = max(1, min(threads, n_events * n_features // MIN_THREAD_ELEMENTS))
    # Equal blocks, as many as a multiple of the threads, so none waits on a last short one.
    n_blocks = -(-n_features // max(1, BLOCK_ELEMENTS // n_events))
    n_blocks = min(n_features, -(-n_blocks // threads) * threads)
    block = -(-n_features // n_blocks)

    def compare(start: int) -> dict[str, np.ndarray]:
        block_names = names[start : start + block]
        rows = _float_rows([candidate[name] for name in block_names])  # (F_block, n)
        _check_finite(rows, block_names)
        sorted_block = sort_columns(rows.T, checked=True)
        return _compare_block(
            sorted_block, reference.rows(start, start + block), n_bins, histograms
        )

    starts = range(0, n_features, block)
    workers = min(threads, len(starts))
    if workers == 1:  # no pool to start and wait on
        parts = [compare(start) for start in starts]
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            parts = list(pool.map(compare, starts))
    statistics = parts[0]  # one block: its arrays as they are (the reference's are copies)
    if len(parts) > 1:
        statistics = {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}
    method = report_pvalue_method(n_events, reference.n_events)
    statistics["ks_pvalue"] = ks_pvalue(
        statistics["ks"], n_events, reference.n_events, method=method
    )
    statistics["ks_pvalue_method"] = np.full(n_features, method)
    statistics["js_bits"] = nats_to_bits(statistics["js_nats"])
    statistics["n_candidate"] = np.full(n_features, n_events)
    statistics["n_reference"] = np.full(n_features, reference.n_events)
    return statistics


def _compare_block(
    candidate: SortedColumns, reference: SortedColumns, n_bins: int, with_histograms: bool
) -> dict[str, np.ndarray]:
    """The statistics of one block of features that need the samples, each (F_block,)."""
    swept = ks_and_wasserstein(candidate, reference)
    histograms = shared_histograms(candidate, reference, n_bins=n_bins)
    js_nats, separation = js_and_separation_power(histograms.candidate, histograms.reference)
    statistics = {
        "ks": swept.ks,
        "w1": swept.w1,
        "js_nats": js_nats,
        "separation_power": separation,
        "candidate_mean": candidate.mean,
        "reference_mean": reference.mean.copy(),  # not views of a prepared reference's
        "candidate_std": candidate.std,
        "reference_std": reference.std.copy(),
    }
    if with_histograms:
        statistics["histogram_edges"] = plotting_edges(candidate, reference, histograms)
        statistics["histogram_reference"] = histograms.reference
        statistics["histogram_candidate"] = histograms.candidate
        statistics["display"] = np.array(  # (F_block,) of dicts
            [
                display_histogram(cand, ref).to_json()
                for cand, ref in zip(candidate.values, reference.values, strict=True)
            ],
            dtype=object,
        )
    return statistics


def _float_rows(columns: list[np.ndarray]) -> np.ndarray:
    """The columns stacked as rows, float32 if all are float32, else float64 (as each
    column widened and stacked: a float32 beside a float64 is widened exactly)."""
    columns = [np.asarray(values) for values in columns]
    all_float32 = all(values.dtype == np.float32 for values in columns)
    return np.stack(columns, dtype=np.float32 if all_float32 else np.float64)


def _check_finite(rows: np.ndarray, names: tuple[str, ...]) -> None:
    """Reject NaN and infinities in (F, N) observable rows, naming the first bad observable."""
    finite = np.isfinite(rows).all(axis=1)  # (F,)
    if not finite.all():
        name = names[int(np.argmin(finite))]
        raise ValueError(f"observable {name!r} of the candidate has NaN or infinite values")
