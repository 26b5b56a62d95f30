"""Train/validation split and shuffled minibatches, all from one seeded Generator."""

import numpy as np


def train_val_split(x, y, val_fraction, rng):
    """Randomly hold out a validation set.

    x: (N, ...), y: (N,), val_fraction in [0, 1), rng: np.random.Generator.
    Returns (x_tr, y_tr, x_val, y_val); every example lands in exactly one part, and
    the validation part has round(N * val_fraction) examples.
    """
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} examples but y has {len(y)}")
    if not 0 <= val_fraction < 1:
        raise ValueError(f"val_fraction must be in [0, 1), not {val_fraction}")
    order = rng.permutation(len(x))
    n_val = round(len(x) * val_fraction)
    val, train = order[:n_val], order[n_val:]
    return x[train], y[train], x[val], y[val]


def iterate_minibatches(x, y, batch_size, rng, shuffle=True):
    """Yield (xb, yb) batches covering every example once per call (one epoch).

    x: (N, ...), y: (N,); the last batch is smaller when N is not a multiple of
    batch_size, so no example is skipped. With shuffle, the order comes from rng
    (which may be None when shuffle is False).
    """
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} examples but y has {len(y)}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, not {batch_size}")
    order = rng.permutation(len(x)) if shuffle else np.arange(len(x))
    # A generator expression, not `yield`, so bad arguments fail at the call.
    batches = (order[i : i + batch_size] for i in range(0, len(x), batch_size))
    return ((x[idx], y[idx]) for idx in batches)
