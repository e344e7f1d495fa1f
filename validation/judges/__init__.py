"""Judges of a generator beyond per-observable statistics: the high-level classifier
two-sample test and the GAN-theory identity V(G, D*) = 2 JS - 2 ln 2."""
