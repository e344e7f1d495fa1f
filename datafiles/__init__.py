"""Data files: ROOT (TTree, RNTuple) and CaloChallenge HDF5 readers and writers, input paths
and cuts. Pure I/O: knows files, branches and arrays; nothing of models or training.
"""
