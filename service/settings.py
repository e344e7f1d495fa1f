"""The service's settings: one class, read from ``HEPGAN_*`` environment variables.

Every field can be set as ``HEPGAN_<FIELD>`` (e.g. ``HEPGAN_MODELS_DIR``,
``HEPGAN_API_KEY``); ``hepgan serve`` flags override the environment. The
README's "Service" section lists them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Configuration of one service process (replicas share nothing else)."""

    model_config = SettingsConfigDict(env_prefix="HEPGAN_", extra="ignore")

    models_dir: Path = Field(Path("models"), description="folder whose sub-folders are artefacts")
    api_key: SecretStr | None = Field(
        None, description="Bearer token required on every route but /healthz and /readyz"
    )
    device: str = Field("auto", description='"auto" (cuda when present), "cpu", "cuda", "cuda:1"')
    max_events_per_request: int = Field(1_000_000, gt=0, description="larger asks get a 422")
    max_body_bytes: int = Field(16 * 1024 * 1024, gt=0, description="larger bodies get a 413")
    chunk_events: int = Field(
        16_384, gt=0, description="events generated and encoded per step; bounds memory"
    )
    report_max_events: int = Field(
        20_000, gt=0, description="a report covers at most this many events of a batch"
    )
    dynamic_batching: Literal["on", "off"] = Field(
        "on",
        description="merge concurrent small unseeded requests into one generator call "
        "(for GPUs; adds no wait when the model is idle)",
    )
    batch_max_wait_ms: float = Field(
        0.0,
        ge=0,
        description="how long a request to an idle model waits for others to join it "
        "(requests arriving while a batch runs are merged anyway)",
    )
    batch_max_events: int = Field(65_536, gt=0, description="largest merged batch")
    batch_request_max_events: int = Field(
        4_096, gt=0, description="only requests up to this size are merged"
    )
    warmup_events: int = Field(256, ge=0, description="events generated per model at start-up")
    max_bytes_in_flight: int = Field(
        1 << 30,
        gt=0,
        description="estimated memory that the requests in flight may hold (bodies, report "
        "samples, chunks); a request beyond it gets a 503 with Retry-After",
    )
    root_max_bytes_per_request: int = Field(
        1 << 30, gt=0, description="largest temporary ROOT file of one request; larger asks get 422"
    )
    root_max_buffered_bytes: int = Field(
        128 << 20,
        gt=0,
        description="largest ROOT body of one request (uncompressed estimate): uproot writes the "
        "whole file before its first byte can be sent, so larger asks get a 422 pointing to the "
        "npz and arrow streams or hepgan generate, before a proxy's read timeout would cut them",
    )
    root_max_bytes_total: int = Field(
        4 << 30,
        gt=0,
        description="temporary ROOT files of all requests in flight; beyond it a 503",
    )
    public_docs: bool = Field(
        False, description="serve /docs, /redoc and /openapi.json without the API key"
    )
    keep_alive_timeout_s: float = Field(
        5.0, gt=0, description="an idle keep-alive connection is closed after this"
    )
    header_timeout_s: float = Field(
        10.0, gt=0, description="a connection whose request head is incomplete after this closes"
    )
    body_timeout_s: float = Field(
        60.0, gt=0, description="a body not received in full this long after its head gets 408"
    )
    max_connections: int = Field(
        256, gt=0, description="concurrent connections; beyond it uvicorn answers 503"
    )
    max_connections_per_client: int = Field(
        64,
        ge=0,
        description="concurrent connections from one client address; beyond it a 503 and the "
        "connection closed (0: no limit; behind a proxy, every client has the proxy's address)",
    )
    max_head_bytes: int = Field(
        64 * 1024, gt=0, description="a request line and headers larger than this get 431"
    )
    max_header_fields: int = Field(100, gt=0, description="more header fields than this get 431")
    send_timeout_s: float = Field(
        60.0,
        gt=0,
        description="a response the client does not read for this long is abandoned: the "
        "connection is closed and what the request held is given back",
    )
