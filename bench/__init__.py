"""Benchmarks: scripts that print figures. None of them is a test."""
