"""Benchmarks of the evaluator: a seeded synthetic-cluster generator and a runner."""
