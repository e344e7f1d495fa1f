"""Helpers shared by the tests and the benchmarks (never shipped in the library).

Import them as ``tests.support.*`` from the repository root: pytest puts it on the path,
and the benchmarks run as ``python -m benchmarks.NAME``.
"""
