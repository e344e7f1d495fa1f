"""Hand the process's free heap memory back to the operating system (glibc ``malloc_trim``).

After a burst of large requests glibc keeps the freed memory in its arenas for
reuse, so RSS stays near the peak although nothing uses it. ``malloc_trim(0)``
returns every free page of every arena. It walks the heaps (milliseconds for
gigabytes), so the service calls it in a thread, and only when the requests in
flight have drained after a large release (:mod:`hepgan.service.admission`). On a
C library without it (musl, macOS) this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools


@functools.cache
def _malloc_trim():  # -> the C function, or None
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    trim = getattr(ctypes.CDLL(name), "malloc_trim", None)
    if trim is not None:
        trim.argtypes = [ctypes.c_size_t]
        trim.restype = ctypes.c_int
    return trim


def release_free_memory() -> bool:
    """Return free heap pages to the system; True if some were (False without glibc)."""
    trim = _malloc_trim()
    return bool(trim(0)) if trim is not None else False
