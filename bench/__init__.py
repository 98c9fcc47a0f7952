"""Benchmarks: each prints one JSON object, with its baseline measured in the same run (never a timed test)."""
