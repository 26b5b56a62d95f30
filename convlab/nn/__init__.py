"""The neural-network engine: pure NumPy, no Qt."""
