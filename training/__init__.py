"""The training job: its configuration, data and split, the Trainer and its loop, losses,
checkpoints, DDP and the artefact export. Submodules are imported explicitly; the readers
and writers live in :mod:`hepgan.datafiles`, the example-data simulators in
:mod:`hepgan.simulators`."""
