"""The model card as the API shows it: what a client needs, without the training machine's
internals.

``GET /v1/models/{name}`` may be public (no API key set), so it leaves out what only the
people who trained the model need, and what tells an outsider about their machines: the
full training configuration (absolute output folder, input paths), the input files'
folders (their names, checksums and sizes stay) and the exact library versions (the
hepgan version stays). The full card stays in the artefact's ``model.json``.
"""

from __future__ import annotations

from pathlib import PureWindowsPath
from typing import Any

from hepgan.models.card import ModelCard

PUBLIC_VERSIONS = ("hepgan",)


def public_card(card: ModelCard) -> dict[str, Any]:
    """``card`` as JSON-able data, without paths, the training configuration or versions."""
    data = card.model_dump(mode="json", exclude={"training": {"config"}})
    versions = data["versions"]
    data["versions"] = {name: versions[name] for name in PUBLIC_VERSIONS if name in versions}
    if data["training"] is not None:
        data["training"]["data_files"] = [
            {
                "name": PureWindowsPath(entry["path"]).name,  # splits on / and \\ alike
                "sha256": entry["sha256"],
                "size_bytes": entry["size_bytes"],
            }
            for entry in data["training"]["data_files"]
        ]
    return data
