"""The Training tab: architecture editor, settings, curves, and the worker thread."""
