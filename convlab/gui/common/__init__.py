"""Widgets, dialogs, background tasks and conversions every room uses."""
