"""Benchmarks over real datasets and classifiers (optional extra featrisk[bench])."""
