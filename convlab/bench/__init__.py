"""Benchmarks run by `python -m convlab bench ...` (engine: convlab.bench.engine)."""
