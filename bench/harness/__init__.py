"""Shared pieces of the benchmarks: the bot as its own process, simulated residents, figures and records."""
