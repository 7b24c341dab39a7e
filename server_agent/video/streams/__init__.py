"""Configured streams: their definitions (config, API, simulated segment), persistence, live
analysis at 10 Hz, metrics and alarms."""
