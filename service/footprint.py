"""What one generate request holds while it runs: estimated memory and temporary disk, bytes.

The estimates are what admission control charges (:mod:`hepgan.service.admission`).
A request holds at most its report sample (``report_max_events``, rounded up to
whole chunks) and two chunks (the one being sent and the one generated ahead), each
event as F float32 features and C float64 conditions; :data:`EVENT_COPIES` counts
the other forms an event takes meanwhile (network input and output, the encoded
bytes, the report's observables). Per-event conditions sent in the body are held
for the whole request, 8 bytes each. docs/reliability.md compares the estimate with
the measured RSS per request in flight.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from hepgan.models.card import OutputColumn

EVENT_COPIES = 4
JSON_VALUE_BYTES = 16  # a float32 in JSON: up to 9 significant digits, sign, exponent, comma
ROOT_FILE_OVERHEAD_BYTES = 1 << 20  # keys, streamers, the report and meta strings


def request_memory_bytes(
    n_events: int,
    *,
    n_features: int,
    n_conditions: int,
    per_event_conditions: int,
    chunk_events: int,
    report_events: int,
) -> int:
    """Estimated peak memory of a request, bytes; ``report_events`` is 0 without a report."""
    head = math.ceil(min(n_events, report_events) / chunk_events) * chunk_events
    held = min(n_events, head + 2 * chunk_events)
    event_bytes = 4 * n_features + 8 * n_conditions
    return held * event_bytes * EVENT_COPIES + 8 * n_events * per_event_conditions


def whole_response_bytes(
    n_events: int, *, n_features: int, n_conditions: int, json_text: bool
) -> int:
    """Estimated peak memory of a response built whole (the inference protocol's), bytes:
    every event held in its :data:`EVENT_COPIES` forms, plus its JSON text (at most
    :data:`JSON_VALUE_BYTES` per feature value) when the events go out as JSON."""
    event_bytes = 4 * n_features + 8 * n_conditions
    text = JSON_VALUE_BYTES * n_features * n_events if json_text else 0
    return n_events * event_bytes * EVENT_COPIES + text


def root_file_bytes(n_events: int, columns: Iterable[OutputColumn]) -> int:
    """Upper estimate of a ROOT output file, bytes: the columns uncompressed plus overhead."""
    event_bytes = sum((c.stop - c.start) * np.dtype(c.dtype).itemsize for c in columns)
    return n_events * event_bytes + ROOT_FILE_OVERHEAD_BYTES
