"""Tracing, logs and metrics: how operators see the app run."""
