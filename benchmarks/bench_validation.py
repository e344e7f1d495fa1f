"""Benchmark: the validation report of 10,000 x 368 candidate events against a 100,000-event
reference, against scipy.stats.ks_2samp called feature by feature, in the same run.

The features look like CaloChallenge voxel energies (log-normal, 30 % exact zeros, so
ties): the report computes KS + p-value, JS, separation power and W1 for all 368
features. The reference is sorted once (:class:`PreparedReference`, as a service does
for a model's fixed reference sample); the time of that preparation is printed too,
as is a report that sorts the reference from scratch (the first one in the process, so
it also pays for first touching its memory), and the first report with the prepared
reference.

    python -m benchmarks.bench_validation [--candidate 10000] [--reference 100000]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np


def _features(rng: np.random.Generator, n_events: int, n_features: int) -> np.ndarray:
    values = rng.lognormal(mean=0.0, sigma=1.5, size=(n_events, n_features))  # (N, F) MeV
    values[rng.uniform(size=values.shape) < 0.3] = 0.0
    return values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidate", type=int, default=10_000, help="candidate events")
    parser.add_argument("--reference", type=int, default=100_000, help="reference events")
    parser.add_argument("--features", type=int, default=368, help="features per event")
    parser.add_argument(
        "--dtype",
        choices=("float64", "float32"),
        default="float64",
        help="precision of both samples (CaloChallenge files and generators give float32)",
    )
    parser.add_argument("--repeats", type=int, default=3, help="timed report repeats (median)")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads; the report's array work is memory-bound, and on a shared 2-core "
        "machine more OpenMP threads than free cores stall each other",
    )
    parser.add_argument(
        "--report-threads",
        type=int,
        default=None,
        help="blocks of features compared at once by the report (default: the machine's "
        "cores, at most 8); the 1-thread report is timed too",
    )
    args = parser.parse_args()

    import scipy
    import torch
    from scipy import stats

    from hepgan.validation.report.build import build_report
    from hepgan.validation.report.compare import default_threads
    from hepgan.validation.report.reference import PreparedReference

    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    candidate = _features(rng, args.candidate, args.features).astype(args.dtype)
    reference = _features(rng, args.reference, args.features).astype(args.dtype)
    names = [f"voxel_{index:03d}" for index in range(args.features)]
    candidate_columns = {name: candidate[:, index] for index, name in enumerate(names)}
    reference_columns = {name: reference[:, index] for index, name in enumerate(names)}

    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores "
        f"(load average {os.getloadavg()[0]:.1f}), "
        f"torch {torch.__version__} ({torch.get_num_threads()} threads), scipy {scipy.__version__}"
    )
    print(f"candidate {candidate.shape}, reference {reference.shape}, {args.dtype}")

    start = time.perf_counter()
    scipy_results = [
        stats.ks_2samp(candidate[:, index], reference[:, index]) for index in range(args.features)
    ]
    scipy_seconds = time.perf_counter() - start
    print(f"scipy.stats.ks_2samp, feature by feature (KS + p-value): {scipy_seconds:.3f} s")

    start = time.perf_counter()
    report = build_report(candidate_columns, reference_columns)
    cold_seconds = time.perf_counter() - start
    print(
        "hepgan report, reference sorted inside (KS, p, JS, S, W1; first touch of its memory): "
        f"{cold_seconds:.3f} s"
    )

    start = time.perf_counter()
    prepared = PreparedReference(reference_columns)
    prepared.sorted_events(tuple(names), None)
    prepare_seconds = time.perf_counter() - start
    print(f"hepgan PreparedReference (sort 100k x {args.features} once): {prepare_seconds:.3f} s")

    start = time.perf_counter()
    build_report(candidate_columns, prepared)
    print(f"hepgan report, prepared reference, first one: {time.perf_counter() - start:.3f} s")

    report_threads = args.report_threads or default_threads()
    warm_seconds = {}
    for threads in sorted({1, report_threads}):
        timings, cpu_seconds = [], 0.0
        for _ in range(args.repeats):
            start, cpu_start = time.perf_counter(), time.process_time()
            report = build_report(candidate_columns, prepared, threads=threads)
            timings.append(time.perf_counter() - start)
            cpu_seconds += time.process_time() - cpu_start
        warm_seconds[threads] = statistics.median(timings)
        print(
            f"hepgan report, prepared reference, {threads} thread(s) (KS, p, JS, S, W1): "
            f"{warm_seconds[threads]:.3f} s "
            f"(median of {args.repeats}: {', '.join(f'{t:.3f}' for t in timings)}; "
            f"cores busy: CPU time / wall time = {cpu_seconds / sum(timings):.2f})"
        )

    ks_difference = max(
        abs(score.ks - result.statistic)
        for score, result in zip(report.observables, scipy_results, strict=True)
    )
    p_difference = max(
        abs(score.ks_pvalue - result.pvalue)
        for score, result in zip(report.observables, scipy_results, strict=True)
    )
    print(f"report's p-values: {report.summary.ks_pvalue_method}; scipy's: method='auto'")
    print(f"max |KS - scipy| = {ks_difference:.2e}, max |p - scipy| = {p_difference:.2e}")
    for threads, seconds in warm_seconds.items():
        print(
            f"speed-up, prepared reference, {threads} thread(s): {scipy_seconds / seconds:.1f}x "
            "(target >= 20x)"
        )
    print(f"speed-up, reference sorted inside: {scipy_seconds / cold_seconds:.1f}x")


if __name__ == "__main__":
    main()
