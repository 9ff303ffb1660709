"""Benchmarks: Baraza against the bare framework, measured in the same run (`python -m bench`)."""
