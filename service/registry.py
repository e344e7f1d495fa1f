"""The models a service process serves: loaded from ``models_dir`` at start-up, in a thread.

Each sub-folder of ``models_dir`` is one artefact. A folder that fails to load
(bad checksum, missing file, unknown format) is listed under ``broken`` with
the reason and the others are served anyway. Loading runs in the background so
``/healthz`` answers at once and ``/readyz`` says when every model is warm.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from hepgan.devices import resolve_device
from hepgan.errors import ArtefactError, ConfigError
from hepgan.service.batching import DynamicBatcher
from hepgan.service.errors import ModelNotReadyError, UnknownModelError
from hepgan.service.metrics import ServiceMetrics
from hepgan.service.model import LoadedModel
from hepgan.service.reports import batch_report
from hepgan.service.settings import Settings
from hepgan.service.workers import DeviceWorker

log = logging.getLogger("hepgan.service")


@dataclass
class ModelRegistry:
    """Name -> loaded model, plus the folders that could not be loaded and why."""

    settings: Settings
    metrics: ServiceMetrics
    models: dict[str, LoadedModel] = field(default_factory=dict)
    broken: dict[str, str] = field(default_factory=dict)
    loading: bool = True
    workers: dict[str, DeviceWorker] = field(default_factory=dict)

    def load_all(self) -> None:
        """Load and warm up every artefact folder under ``settings.models_dir`` (blocking)."""
        try:
            folders = _artefact_folders(self.settings.models_dir)
            if not folders:
                self.broken["."] = "no artefact folders found"
            try:
                device = str(resolve_device(self.settings.device, flag="HEPGAN_DEVICE"))
            except ConfigError as error:  # e.g. cuda on a node without a GPU: say so in /readyz
                self.broken["."] = str(error)
                return
            for folder in folders:
                try:
                    self.models[folder.name] = self._load(folder, device)
                except Exception as error:  # one bad folder must not stop the rest
                    log.exception("cannot serve model folder %s", folder)
                    reason = f"{type(error).__name__}: {_without_inputs(error)}"
                    self.broken[folder.name] = _relative_paths(reason, self.settings.models_dir)
        finally:
            self.loading = False

    def _load(self, folder: Path, device: str) -> LoadedModel:
        from hepgan.models.artefact import load_artefact
        from hepgan.validation.report.conditions import PreparedConditions
        from hepgan.validation.report.observables import ObservableDefinition
        from hepgan.validation.report.reference import PreparedReference

        root = self.settings.models_dir.resolve()
        if not folder.resolve().is_relative_to(root):
            raise ArtefactError(f"{folder} leads outside the models folder: refused")
        artefact = load_artefact(folder)
        artefact.to(device)
        reference_features, reference_conditions = artefact.reference()  # (M, F), (M, C)
        definition = ObservableDefinition.of_card(artefact.card)
        observables = definition.compute(reference_features, reference_conditions)
        reference_conditions = np.asarray(reference_conditions, dtype=np.float64)
        names = artefact.card.condition_names
        model = LoadedModel(
            name=folder.name,
            artefact=artefact,
            device=device,
            worker=self.workers.setdefault(device, DeviceWorker(device)),
            reference_conditions=reference_conditions,
            prepared_conditions=PreparedConditions(
                {name: reference_conditions[:, j] for j, name in enumerate(names)}
            ),
            observables=definition,
            reference=PreparedReference(observables),
            observable_units=definition.units(list(observables)),
        )
        if self.settings.dynamic_batching == "on":
            model.batcher = DynamicBatcher(
                model.generate_unbatched,
                max_wait_s=self.settings.batch_max_wait_ms / 1000,
                max_events=self.settings.batch_max_events,
                observe=self.metrics.merged_requests.labels(folder.name).observe,
            )
            model.batch_request_max_events = self.settings.batch_request_max_events
        _warm_up(model, self.settings.warmup_events)
        log.info("serving model %s on %s", folder.name, device)
        return model

    def get(self, name: str) -> LoadedModel:
        """The model called ``name``; 404 listing the models, or 503 while still loading."""
        if name in self.models:
            return self.models[name]
        if self.loading:
            raise ModelNotReadyError(f"models are still loading; {name!r} is not ready yet")
        available = ", ".join(sorted(self.models)) or "none"
        reason = f" (it failed to load: {self.broken[name]})" if name in self.broken else ""
        raise UnknownModelError(f"unknown model {name!r}{reason}; available models: {available}")

    def close(self) -> None:
        for worker in self.workers.values():
            worker.close()


def _artefact_folders(models_dir: Path) -> list[Path]:
    if not models_dir.is_dir():
        return []
    return sorted(path for path in models_dir.iterdir() if path.is_dir())


def _without_inputs(error: Exception) -> str:
    """``str(error)`` with a card's validation errors stated without the values they refused:
    pydantic quotes each bad value (``input_value='/home/alice/...'``), and /readyz is public.
    """
    cause = error.__cause__ or error.__context__
    message = str(error)
    if isinstance(cause, ValidationError):
        fields = "; ".join(
            f"{'.'.join(map(str, item['loc'])) or 'card'}: {item['msg']}"
            for item in cause.errors(include_url=False, include_context=False, include_input=False)
        )
        message = message.replace(str(cause), f"invalid fields: {fields}")
    return message


def _relative_paths(message: str, models_dir: Path) -> str:
    """``message`` with the models folder's path left out: /readyz and 404s are public, and
    the server's folders are nobody's business (``/srv/models/x/model.json`` -> ``x/model.json``).
    """
    prefixes = {str(models_dir.resolve()), str(models_dir.absolute())}
    for prefix in sorted(prefixes, key=len, reverse=True):
        message = message.replace(prefix + "/", "").replace(prefix, ".")
    return message


def _warm_up(model: LoadedModel, n_events: int) -> None:
    """Generate and validate one small batch so the first request pays no set-up cost."""
    if n_events == 0:
        return
    rows = np.arange(n_events) % len(model.reference_conditions)
    conditions = model.reference_conditions[rows]  # (n, C)
    features = model.artefact.generate(n_events, conditions=conditions, seed=0, device=model.device)
    batch_report(model, features, conditions, n_events_in_batch=n_events, extrapolated=False)


def card_summary(model: LoadedModel) -> dict[str, Any]:
    """The fields of the model card a client needs to build a request."""
    card = model.artefact.card
    return {
        "name": model.name,
        "kind": card.kind,
        "feature_names": list(card.feature_names),
        "feature_units": list(card.feature_units),
        "condition_names": list(card.condition_names),
        "condition_units": list(card.condition_units),
        "condition_ranges": {k: list(v) for k, v in card.condition_ranges.items()},
    }
