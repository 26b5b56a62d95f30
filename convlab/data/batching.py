"""Train/validation split from one seeded Generator."""


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

