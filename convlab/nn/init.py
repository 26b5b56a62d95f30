"""PyTorch's default weight initialisation, drawn from an explicit random Generator."""

import math

import numpy as np


def uniform_(param, bound, rng):
    """Fill ``param.data`` in place with values drawn uniformly from [-bound, bound]."""
    param.data[...] = rng.uniform(-bound, bound, size=param.data.shape)
    param.grad.fill(0)


def kaiming_uniform_bound(fan_in):
    """The bound PyTorch uses for Conv2d and Linear weights and biases.

    PyTorch draws weights with kaiming_uniform(a=sqrt(5)): gain = sqrt(2 / (1 + a^2))
    = sqrt(1/3) and bound = gain * sqrt(3 / fan_in), which simplifies to
    1 / sqrt(fan_in). Biases use the same bound. Dividing by sqrt(fan_in) keeps each
    output's variance about the same whatever the number of inputs it sums.
    """
    return 1.0 / math.sqrt(fan_in)


def init_weights(model, rng):
    """Re-draw every parameter of ``model`` in place, as a freshly built model would be.

    ``rng`` is an ``np.random.Generator``; the same seed gives the same weights.
    Layers keep their Parameter objects, so optimizers and views stay connected.
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a numpy.random.Generator, got {type(rng).__name__}"
        )
    for module in model.modules():
        reset = getattr(module, "reset_parameters", None)
        if reset is not None:
            reset(rng)
