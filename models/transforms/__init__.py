"""Feature transforms fitted at training time, stored with the model, inverted at generation.

The networks never see physical units: training maps features (MeV voxels, GeV
four-momenta, charges) into a space where every column is roughly N(0, 1), and
generation maps the generator's output back. A transform is a chain of steps
(:class:`FeatureTransform`), each a small class with ``forward``/``inverse`` and
JSON-able parameters, so the artefact carries numbers only (never code) and serving
never refits.

- :mod:`.steps`: the two kinds of step and the rule each follows;
- :mod:`.columns`: column-wise steps (logs, standardisation, quantiles, thresholds);
- :mod:`.kinematics`: four-vector steps (mass shell, the two-body pair frame);
- :mod:`.showers`: shower steps (energy shares and response);
- :mod:`.symmetry`: the rotations and reflections given to generated showers;
- :mod:`.acceptance`: the region events are redrawn into;
- :mod:`.chain`: the chain and its JSON form;
- :mod:`.settings`: the recipes' settings (``[shower]``, ``[events]``) and their defaults;
- :mod:`.recipes`: what training fits for events, showers and conditions;
- :mod:`.torch_ops`, :mod:`.torch_chain`: the steps and chains in torch (export, the critic).
"""

from hepgan.models.transforms.chain import FeatureTransform
from hepgan.models.transforms.recipes import (
    FittedTransforms,
    dequantise_empty_voxels,
    fit_condition_transform,
    fit_conditional_standardise,
    fit_event_transform,
    fit_shower_transform,
    fit_transforms,
    readout_threshold,
)
from hepgan.models.transforms.settings import EventTransformSettings, ShowerTransformSettings

__all__ = [
    "EventTransformSettings",
    "FeatureTransform",
    "FittedTransforms",
    "ShowerTransformSettings",
    "dequantise_empty_voxels",
    "fit_condition_transform",
    "fit_conditional_standardise",
    "fit_event_transform",
    "fit_shower_transform",
    "fit_transforms",
    "readout_threshold",
]
