"""hepgan: fast simulation for high-energy physics with conditional GANs.

The package ties its parts together (see the README's Layout section):
``hepgan.models`` (networks, transforms, the model artefact), ``hepgan.training``
(the training job), ``hepgan.validation`` (statistics, observables, reports),
``hepgan.service`` (the HTTP service), ``hepgan.datafiles`` (ROOT/HDF5 readers and
writers) and ``hepgan.simulators`` (the example-data simulators). Importing it is
cheap: nothing heavy is imported here.
"""

__version__ = "0.1.0"
