"""Lessons tab: guided predict-then-reveal exercises."""
