"""Rewrite an artefact's model.json as an attacker or a careless hand would, checksum resealed.

Tests of the other defences (file names, pickles, checksums of the files) edit the card
and recompute its ``card_sha256``, as anyone able to edit it could: those defences must
hold although the card is consistent.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hepgan.models.card import CARD_CHECKSUM_FIELD, card_sha256


def read_card(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "model.json").read_text())


def write_resealed_card(folder: Path, card: dict[str, Any]) -> None:
    """Write ``card`` as ``folder``/model.json with a card_sha256 that matches it."""
    card = {**card, CARD_CHECKSUM_FIELD: card_sha256(card)}
    (folder / "model.json").write_text(json.dumps(card))
