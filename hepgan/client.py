"""A small Python client of the hepgan service.

    from hepgan.client import Client
    with Client("http://127.0.0.1:8000", api_key=None) as client:
        batch = client.generate("showers", 10_000, conditions={"incident_energy": 5e4}, seed=1)
        batch.features          # (N, F) float32, physical units
        batch.report["summary"]["status"]

Events travel in the binary ``npz`` format (an ``.npz`` archive read with
``allow_pickle=False``); :meth:`Client.download` writes any format to a file
without decoding it.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hepgan.atomic import atomic_destination
from hepgan.errors import HepganError

ConditionValue = float | Sequence[float] | np.ndarray | Mapping[str, Any]


class ServiceError(HepganError):
    """The service answered with an error, or could not be reached; the message says which."""

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


@dataclass
class GeneratedBatch:
    """Events of one request with their validation report."""

    model: str
    seed: int | None
    features: np.ndarray  # (N, F) float32
    conditions: np.ndarray  # (N, C) float64
    feature_names: list[str]
    feature_units: list[str]
    condition_names: list[str]
    condition_units: list[str]
    report: dict[str, Any] | None
    headers: dict[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.features)

    def columns(self) -> dict[str, np.ndarray]:
        """Name -> (N,) column, features then conditions."""
        columns = {name: self.features[:, j] for j, name in enumerate(self.feature_names)}
        columns.update({name: self.conditions[:, j] for j, name in enumerate(self.condition_names)})
        return columns

    def to_awkward(self) -> Any:
        """The events as an awkward record array with one field per branch, as uproot reads
        the ``root`` format: a flat feature or condition is ``float32``/``float64``, the
        features ``voxels[0]`` .. ``voxels[K-1]`` are one field ``voxels`` of type
        ``K * float32``; features first, then conditions."""
        import awkward as ak

        from hepgan.datafiles.datasets import unflatten_columns

        columns = unflatten_columns(self.features, self.feature_names)
        columns.update(unflatten_columns(self.conditions, self.condition_names))
        return ak.zip(
            {name: ak.from_numpy(np.ascontiguousarray(v)) for name, v in columns.items()},
            depth_limit=1,
        )


def _jsonable_conditions(conditions: Mapping[str, ConditionValue] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in (conditions or {}).items():
        if isinstance(value, Mapping):
            out[name] = dict(value)
        elif np.ndim(value) == 0:
            out[name] = float(value)
        else:
            out[name] = np.asarray(value, dtype=np.float64).tolist()
    return out


def read_npz_batch(
    body: bytes | io.BufferedIOBase, *, headers: Mapping[str, str] | None = None
) -> GeneratedBatch:
    """Decode the service's ``npz`` format (an npz archive; never unpickles)."""
    source = io.BytesIO(body) if isinstance(body, bytes) else body
    with np.load(source, allow_pickle=False) as archive:
        meta = json.loads(archive["meta"].item())
        return GeneratedBatch(
            model=meta["model"],
            seed=meta["seed"],
            features=archive["features"],
            conditions=archive["conditions"],
            feature_names=archive["feature_names"].tolist(),
            feature_units=archive["feature_units"].tolist(),
            condition_names=archive["condition_names"].tolist(),
            condition_units=archive["condition_units"].tolist(),
            report=json.loads(archive["report"].item()),
            headers=dict(headers or {}),
        )


class Client:
    """Talks to one hepgan service; ``api_key`` is sent as a Bearer token."""

    def __init__(self, url: str, api_key: str | None = None, *, timeout: float = 600.0) -> None:
        import httpx

        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.url = url.rstrip("/")
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def health(self) -> dict[str, Any]:
        return self._get_json("/healthz")

    def ready(self) -> dict[str, Any]:
        """The /readyz body (also when the service answers 503 because it is still loading)."""
        return self._request("GET", "/readyz", allowed=(503,)).json()

    def wait_until_loaded(self, *, timeout_s: float = 120.0, poll_s: float = 0.1) -> dict[str, Any]:
        """Poll /readyz until the service has finished loading its models; returns that body.

        A service that is not up yet (connection refused) is waited for too.
        """
        import httpx

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                body = self._http.get("/readyz").json()
                if not body["loading"]:
                    return body
            except httpx.TransportError:
                pass
            time.sleep(poll_s)
        raise ServiceError(f"{self.url} did not finish loading its models in {timeout_s} s")

    def models(self) -> list[dict[str, Any]]:
        return self._get_json("/v1/models")["models"]

    def model(self, name: str) -> dict[str, Any]:
        """The full model card of ``name``."""
        return self._get_json(f"/v1/models/{name}")["card"]

    def generate(
        self,
        model: str,
        n_events: int,
        *,
        conditions: Mapping[str, ConditionValue] | None = None,
        seed: int | None = None,
        validate: bool = True,
        extrapolate: bool = False,
    ) -> GeneratedBatch:
        """Generate ``n_events`` events of ``model``; returns them with their report."""
        body = self.request_body(
            n_events, conditions=conditions, seed=seed, validate=validate, extrapolate=extrapolate
        )
        response = self._request("POST", f"/v1/models/{model}/generate", json=body)
        return read_npz_batch(response.content, headers=response.headers)

    def download(
        self,
        model: str,
        n_events: int,
        path: str | Path,
        *,
        format: str = "npz",
        conditions: Mapping[str, ConditionValue] | None = None,
        seed: int | None = None,
        validate: bool = True,
        extrapolate: bool = False,
    ) -> dict[str, str]:
        """Stream a batch in ``format`` to ``path`` (memory stays small); returns the headers."""
        body = self.request_body(
            n_events,
            conditions=conditions,
            seed=seed,
            validate=validate,
            extrapolate=extrapolate,
            format=format,
        )
        import httpx

        url = f"/v1/models/{model}/generate"
        try:
            with (
                atomic_destination(path) as partial,
                self._http.stream("POST", url, json=body) as response,
            ):
                if response.status_code >= 400:
                    response.read()
                    raise self._error(response)
                with open(partial, "wb") as handle:
                    for block in response.iter_bytes():
                        handle.write(block)
        except httpx.HTTPError as error:
            raise ServiceError(f"cannot reach {self.url}{url}: {error}") from None
        return dict(response.headers)

    @staticmethod
    def request_body(
        n_events: int,
        *,
        conditions: Mapping[str, ConditionValue] | None = None,
        seed: int | None = None,
        validate: bool = True,
        extrapolate: bool = False,
        format: str = "npz",
    ) -> dict[str, Any]:
        """The JSON body of a generate request."""
        return {
            "n_events": int(n_events),
            "conditions": _jsonable_conditions(conditions),
            "seed": seed,
            "format": format,
            "validate": validate,
            "extrapolate": extrapolate,
        }

    def _get_json(self, path: str) -> dict[str, Any]:
        return self._request("GET", path).json()

    def _request(
        self, method: str, path: str, *, allowed: tuple[int, ...] = (), **kwargs: Any
    ) -> Any:
        import httpx

        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            raise ServiceError(f"cannot reach {self.url}{path}: {error}") from None
        if response.status_code >= 400 and response.status_code not in allowed:
            raise self._error(response)
        return response

    def _error(self, response: Any) -> ServiceError:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text
        if isinstance(detail, list):  # FastAPI's 422: [{"loc": [...], "msg": ...}]
            detail = "; ".join(
                f"{'.'.join(str(p) for p in item.get('loc', [])[1:])}: {item.get('msg')}"
                for item in detail
            )
        request = response.request
        return ServiceError(
            f"{request.method} {request.url} -> {response.status_code}: {detail}",
            status_code=response.status_code,
        )
