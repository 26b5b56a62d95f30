"""Train/validation split: seeded, complete, and aligned."""

import numpy as np
import pytest

from convlab.data.batching import train_val_split


def ids(n):
    """x whose rows carry their own index, and y = index, so mix-ups are visible."""
    x = np.repeat(np.arange(n)[:, None], 3, axis=1)  # (n, 3)
    return x, np.arange(n)


def test_split_is_complete_and_disjoint():
    """Every example lands in exactly one part, with round(N * fraction) held out."""
    x, y = ids(103)
    x_tr, y_tr, x_val, y_val = train_val_split(x, y, 0.2, np.random.default_rng(0))
    assert len(y_val) == round(103 * 0.2) and len(y_tr) == 103 - len(y_val)
    assert sorted(np.concatenate([y_tr, y_val]).tolist()) == list(range(103))
    np.testing.assert_array_equal(x_tr[:, 0], y_tr)
    np.testing.assert_array_equal(x_val[:, 2], y_val)


def test_split_is_seeded():
    """Same seed, same split; another seed, another split."""
    x, y = ids(50)
    a = train_val_split(x, y, 0.3, np.random.default_rng(7))
    b = train_val_split(x, y, 0.3, np.random.default_rng(7))
    c = train_val_split(x, y, 0.3, np.random.default_rng(8))
    np.testing.assert_array_equal(a[3], b[3])
    assert not np.array_equal(a[3], c[3])


def test_split_zero_fraction():
    """A fraction of 0 keeps everything for training (in shuffled order)."""
    x, y = ids(10)
    _, y_tr, x_val, y_val = train_val_split(x, y, 0.0, np.random.default_rng(0))
    assert sorted(y_tr.tolist()) == list(range(10))
    assert len(y_val) == 0 and x_val.shape == (0, 3)


@pytest.mark.parametrize("fraction", [-0.1, 1.0, 1.5])
def test_split_bad_fraction(fraction):
    """Fractions outside [0, 1) are refused with the value in the message."""
    x, y = ids(10)
    with pytest.raises(ValueError, match=str(fraction)):
        train_val_split(x, y, fraction, np.random.default_rng(0))


def test_split_length_mismatch():
    """x and y of different lengths are refused."""
    with pytest.raises(ValueError, match="10 examples but y has 9"):
        train_val_split(np.zeros((10, 2)), np.zeros(9), 0.1, np.random.default_rng(0))

