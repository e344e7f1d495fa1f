"""Statistics, physics observables, validation reports and plots: pure functions on arrays."""
