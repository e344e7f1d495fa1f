"""The model cards: what each model generates, its units, conditions and valid ranges."""

from __future__ import annotations

from fastapi import APIRouter

from hepgan.service.dependencies import RegistryDep
from hepgan.service.public_card import public_card
from hepgan.service.registry import card_summary
from hepgan.service.schemas import ModelDetail, ModelList, ModelSummary

router = APIRouter(prefix="/v1/models", tags=["models"])


@router.get("", response_model=ModelList, summary="the models served, and the broken ones")
async def list_models(registry: RegistryDep) -> ModelList:
    return ModelList(
        models=[
            ModelSummary(**card_summary(model)) for _, model in sorted(registry.models.items())
        ],
        broken=dict(registry.broken),
    )


@router.get(
    "/{name}",
    response_model=ModelDetail,
    summary="one model's card: features, units, conditions, provenance, validation scores "
    "(without paths, training configuration or library versions)",
    responses={404: {"description": "unknown model; the message lists the models"}},
)
async def get_model(name: str, registry: RegistryDep) -> ModelDetail:
    model = registry.get(name)
    return ModelDetail(name=model.name, card=public_card(model.artefact.card))
