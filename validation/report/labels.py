"""Axis labels for figures: an observable's symbol and unit, e.g. ``$m_{\\mu\\mu}$ [GeV]``.

Physicists read a figure by its symbols; the report's names (``e_layer_03``,
``M_from_four_vectors``) are for machines. Names without a known symbol keep their
name, with the unit in brackets.
"""

from __future__ import annotations

import functools
import html
import re

# Event features of the dimuon sample (index 1 or 2: the muon) and the derived mass.
_EVENT_SYMBOLS = {
    "E": r"E_{{{i}}}",
    "px": r"p_{{x,{i}}}",
    "py": r"p_{{y,{i}}}",
    "pz": r"p_{{z,{i}}}",
    "pt": r"p_{{T,{i}}}",
    "eta": r"\eta_{{{i}}}",
    "phi": r"\phi_{{{i}}}",
    "Q": r"q_{{{i}}}",
}
_FIXED_SYMBOLS = {
    "M": r"m_{\mu\mu}",
    "M_from_four_vectors": r"m_{\mu\mu}",
    "pt_pair_from_four_vectors": r"p_{T,\mu\mu}",
    "y_pair_from_four_vectors": r"y_{\mu\mu}",
    # the files hold calibrated energies (visible / sampling fraction): the total, not E_vis
    "e_total_over_incident": r"E_{\mathrm{tot}}/E_{\mathrm{inc}}",
    "longitudinal_cog_x0": r"\langle t \rangle",
    "n_nonzero": r"N_{\mathrm{voxels} > 0}",
    "voxel_energy": r"E_{\mathrm{voxel}}",
    "incident_energy": r"E_{\mathrm{inc}}",
}
# Per-layer shower observables: prefix -> symbol with the layer as {k}.
_LAYER_SYMBOLS = {
    "e_layer": r"E_{{\mathrm{{layer}}\ {k}}}",
    "centre_x_layer": r"\langle x \rangle_{{{k}}}",
    "centre_y_layer": r"\langle y \rangle_{{{k}}}",
    "width_x_layer": r"\sigma_{{x,{k}}}",
    "width_y_layer": r"\sigma_{{y,{k}}}",
    "n_hits_layer": r"N_{{\mathrm{{hits}},{k}}}",
}


def symbol(name: str) -> str | None:
    """The mathtext symbol of observable ``name`` (without $), or None if none is known."""
    if name in _FIXED_SYMBOLS:
        return _FIXED_SYMBOLS[name]
    layer = re.fullmatch(r"(.+)_(\d+)", name)
    if layer and layer.group(1) in _LAYER_SYMBOLS:
        return _LAYER_SYMBOLS[layer.group(1)].format(k=int(layer.group(2)))
    event = re.fullmatch(r"([A-Za-z]+)([12])(?:_from_four_vectors)?", name)
    if event and event.group(1) in _EVENT_SYMBOLS:
        return _EVENT_SYMBOLS[event.group(1)].format(i=event.group(2))
    return None


def axis_label(name: str, unit: str = "") -> str:
    """``$symbol$ [unit]`` (or the name where no symbol is known); no brackets without a unit."""
    known = symbol(name)
    text = f"${known}$" if known else name
    return f"{text} [{unit}]" if unit else text


# mathtext commands -> the characters a browser shows (plotly titles take <sub> but no TeX).
_HTML_COMMANDS = {
    r"\mu": "\u03bc",
    r"\eta": "\u03b7",
    r"\phi": "\u03c6",
    r"\sigma": "\u03c3",
    r"\langle": "\u27e8",
    r"\rangle": "\u27e9",
    r"\ ": " ",
}


def _mathtext_to_html(text: str) -> str:
    """A :func:`symbol` as HTML: ``\\mathrm{x}`` -> x, ``_{x}`` -> <sub>x</sub>, Greek letters
    and angle brackets as characters (the symbols here use nothing else)."""
    text = re.sub(r"\\mathrm\{([^{}]*)\}", r"\1", text)
    for command, character in _HTML_COMMANDS.items():
        text = text.replace(command, character)
    text = re.sub(r"_\{([^{}]*)\}", r"<sub>\1</sub>", text)
    return re.sub(r"_(\w)", r"<sub>\1</sub>", text)


@functools.lru_cache(maxsize=4096)  # a service's reports ask for the same few names
def html_label(name: str, unit: str = "") -> str:
    """:func:`axis_label` as HTML for the page's plots, e.g. ``m<sub>μμ</sub> [GeV]``."""
    known = symbol(name)
    text = _mathtext_to_html(known) if known else html.escape(name)
    return f"{text} [{html.escape(unit)}]" if unit else text
