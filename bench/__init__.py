"""Reproducible benchmarks: `python -m bench.NAME` prints one JSON object last and writes bench/results/NAME.json."""
