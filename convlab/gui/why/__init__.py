"""The Why tab: which pixels made the network say what it said."""
