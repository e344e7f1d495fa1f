"""hepgan: fast simulation for high-energy physics with conditional GANs.

The package ties four parts together (see DESIGN.md): ``hepgan.models``
(networks, transforms, the model artefact), ``hepgan.training`` (readers,
example-data simulators, the training job), ``hepgan.validation`` (statistics,
observables, reports) and ``hepgan.service`` (the HTTP service). Importing it
is cheap: nothing heavy is imported here.
"""

__version__ = "0.1.0"
