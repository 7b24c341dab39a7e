"""Benchmarks (`make bench`): figures with targets and a baseline measured in the same run.

Not collected by pytest; nothing here asserts timings.
"""
