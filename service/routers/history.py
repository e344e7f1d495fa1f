"""GET /v1/models/{name}/history: the training history behind a model's page."""

from __future__ import annotations

import anyio.to_thread
from fastapi import APIRouter

from hepgan.service.dependencies import RegistryDep
from hepgan.service.history import read_history
from hepgan.service.schemas import TrainingHistory

router = APIRouter(prefix="/v1/models", tags=["models"])


@router.get(
    "/{name}/history",
    response_model=TrainingHistory,
    summary="a model's training history: losses and the selection metric by generator step",
    responses={404: {"description": "unknown model; the message lists the models"}},
)
async def get_history(name: str, registry: RegistryDep) -> TrainingHistory:
    model = registry.get(name)
    card = model.artefact.card
    training = card.training.model_dump(mode="json") if card.training else None
    return await anyio.to_thread.run_sync(read_history, model.artefact.folder, training)
