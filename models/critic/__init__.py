"""Critics that see more than the transformed features: physics observables computed in the
graph from their input, and the batch's spread.

- :mod:`.physics_critic`: the critic, the minibatch standard deviation, and the base of
  its standardised observable columns;
- :mod:`.shower_observables`: shower observables of the critic's input, through the
  shower transform's differentiable inverse (:mod:`hepgan.models.transforms.torch_chain`);
- :mod:`.particle_kinematics`: each particle's pT, eta and E of an event's four-vectors.

Submodules are imported explicitly; this package imports nothing by itself.
"""
