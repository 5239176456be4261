"""Benchmarks, one module each; run from the repository as `python -m bench.<name>` (see README, Performance)."""
