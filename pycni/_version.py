"""The version of pycni (kept in its own module so packaging reads it without importing pycni)."""

__version__ = "0.1.0.dev0"
