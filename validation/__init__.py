"""Validation, pure functions on arrays, in three packages by job.

- :mod:`hepgan.validation.stats`: the statistical kernels (KS and its p-values, W1, binning,
  divergences, multiple testing).
- :mod:`hepgan.validation.report`: the report of a candidate against a reference (its schema,
  verdict, observables, reference matching, plots) and training's checkpoint-selection scores.
- :mod:`hepgan.validation.judges`: the classifier two-sample test and the GAN-theory check.
"""
