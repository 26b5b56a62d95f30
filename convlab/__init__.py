"""ConvLab: a desktop teaching lab for convolutional networks, written in NumPy."""

__version__ = "0.1.0"
