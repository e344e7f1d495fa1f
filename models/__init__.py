"""Generator and critic networks, feature transforms, detector geometry and the model artefact.

Submodules are imported explicitly (``from hepgan.models.geometry import ...``);
this package imports nothing heavy by itself.
"""
