"""Wiring shared by the worker and the starter: connection settings, logging, Temporal binaries."""
