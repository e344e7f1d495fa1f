"""hepgan.memory: glibc keeps freed working arrays for reuse, unless an operator chose."""

from __future__ import annotations

import platform
import resource
import subprocess
import sys

import pytest

GLIBC = platform.libc_ver()[0] == "glibc"

# Allocates and frees a 2 MiB array (above glibc's default 128 KiB mmap threshold) 50 times
# and prints the page faults of the last 40 rounds.
FAULTS_OF_FRESH_ARRAYS = """
import resource, sys
import numpy as np
from hepgan.memory import reuse_freed_memory
print(reuse_freed_memory())
for round in range(50):
    if round == 10:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    np.ones(1 << 18)  # 2 MiB, touched, then freed
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _run(env: dict[str, str]) -> tuple[str, int]:
    result = subprocess.run(
        [sys.executable, "-c", FAULTS_OF_FRESH_ARRAYS],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", **env},
    )
    tuned, faults = result.stdout.split()
    return tuned, int(faults)


@pytest.mark.skipif(not GLIBC, reason="the tuning applies to glibc's malloc only")
def test_freed_arrays_are_reused_instead_of_faulted_in_again() -> None:
    tuned, faults = _run({})
    untuned, untuned_faults = _run({"MALLOC_MMAP_THRESHOLD_": "131072"})
    assert (tuned, untuned) == ("True", "False")  # an operator's setting wins
    # 40 fresh 2 MiB arrays fault in every page each time without the tuning; reused ones do not.
    fresh_pages = 40 * (2 << 20) // resource.getpagesize()
    assert untuned_faults >= 0.9 * fresh_pages
    assert faults < 0.1 * fresh_pages
