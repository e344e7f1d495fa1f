"""Readers and writers (ROOT via uproot, CaloChallenge HDF5), the example-data
simulators, and the training job. Submodules are imported explicitly."""
