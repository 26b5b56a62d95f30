"""The Playground tests' input: a seven-like stroke."""

import numpy as np


def seven():
    """A seven-like stroke, 28x28 in [0, 1] (a new array each call)."""
    image = np.zeros((28, 28))
    image[5:8, 6:22] = 1.0
    image[8:24, 17:20] = 0.8
    return image
