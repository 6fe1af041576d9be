"""Diagnosis rules: pure functions over the object graph that return findings."""
