"""The test suite: pytest, mirroring the package layout; shared helpers in tests.support."""
