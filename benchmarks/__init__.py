"""Benchmarks at cluster scale (``python -m benchmarks``); not part of the default test run."""
