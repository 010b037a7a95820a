"""Benchmarks of the secret-chain package (see BENCHMARKS.md); run ``python benchmarks/run.py``."""
