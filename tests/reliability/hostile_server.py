"""The hostile-input server's settings (scaled down for CI; docs/reliability.md, "Hostile
input") and what every hostile-input test asserts. The server itself is the ``hostile``
fixture of conftest.py, shared by test_reliability_hostile*.py."""

from __future__ import annotations

from tests.reliability.watch import MIB, Watch

BUDGET_BYTES = 64 << 20
ROOT_PER_REQUEST_BYTES = 8 << 20
ROOT_TOTAL_BYTES = 12 << 20
HEADER_TIMEOUT_S = 1.0
BODY_TIMEOUT_S = 2.0
MAX_CONNECTIONS = 24
MAX_CONNECTIONS_PER_CLIENT = 12
SEND_TIMEOUT_S = 2.0
RSS_MARGIN_MIB = 32  # RSS after a request within this of before (after the warm-up)
HOSTILE_SETTINGS = {  # on top of conftest.SERVER_LIMITS
    "HEPGAN_MAX_EVENTS_PER_REQUEST": "1000000",
    "HEPGAN_MAX_BODY_BYTES": str(16 << 20),
    "HEPGAN_CHUNK_EVENTS": "4096",
    "HEPGAN_REPORT_MAX_EVENTS": "4096",
    "HEPGAN_MAX_BYTES_IN_FLIGHT": str(BUDGET_BYTES),
    "HEPGAN_ROOT_MAX_BYTES_PER_REQUEST": str(ROOT_PER_REQUEST_BYTES),
    "HEPGAN_ROOT_MAX_BYTES_TOTAL": str(ROOT_TOTAL_BYTES),
    "HEPGAN_HEADER_TIMEOUT_S": str(HEADER_TIMEOUT_S),
    "HEPGAN_BODY_TIMEOUT_S": str(BODY_TIMEOUT_S),
    "HEPGAN_KEEP_ALIVE_TIMEOUT_S": "1",
    "HEPGAN_MAX_CONNECTIONS": str(MAX_CONNECTIONS),
    "HEPGAN_MAX_CONNECTIONS_PER_CLIENT": str(MAX_CONNECTIONS_PER_CLIENT),
    "HEPGAN_SEND_TIMEOUT_S": str(SEND_TIMEOUT_S),
}
SHOWERS = "/v1/models/showers/generate"
EDITED_CARD = "edited-card"  # model.json with one character changed after saving
NO_CARD = "empty"  # a folder without model.json


def holds(watch: Watch, *, margin_mib: float = RSS_MARGIN_MIB) -> None:
    """/healthz answered within 1 s all along, and RSS after within ``margin_mib`` of before."""
    assert watch.health_failures == 0 and watch.health_max_s < 1.0, watch.figures()
    assert (watch.rss_after - watch.rss_before) / MIB < margin_mib, watch.figures()
