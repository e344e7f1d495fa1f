"""The reliability suite (docs/reliability.md): load, fuzz, faults, security on real processes."""
