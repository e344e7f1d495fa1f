"""Physics-based generators of example data: the "Geant4" the GAN learns to replace."""
