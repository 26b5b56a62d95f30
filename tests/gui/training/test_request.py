"""request.load_split: a data choice becomes training and validation digits."""

import numpy as np

from convlab.data.sources import Dataset
from convlab.gui.training.request import LOADED_SOURCE, load_split
from convlab.train import TrainConfig


def dataset(n=50):
    """A loaded dataset whose images say their own index."""
    x = np.arange(n, dtype=np.float32).reshape(n, 1, 1, 1) * np.ones((1, 1, 28, 28))
    y = np.arange(n) % 10
    return Dataset("numbered", x.astype(np.float32), y, x[:5], y[:5])


def test_the_loaded_dataset_is_split_the_same_way_for_the_same_seed():
    """The loaded choice splits the window's dataset; one seed, one split."""
    data, config = dataset(), TrainConfig(val_fraction=0.2, seed=7)
    first = load_split(LOADED_SOURCE, data, config)
    again = load_split(LOADED_SOURCE, data, config)
    x_tr, _, x_val, _, rng = first
    assert len(x_tr) + len(x_val) == 50 and len(x_val) == 10
    assert set(x_tr[:, 0, 0, 0]) | set(x_val[:, 0, 0, 0]) == set(range(50))
    for a, b in zip(first[:4], again[:4], strict=True):
        np.testing.assert_array_equal(a, b)
    assert isinstance(rng, np.random.Generator)
    other = load_split(LOADED_SOURCE, data, TrainConfig(val_fraction=0.2, seed=8))
    assert not np.array_equal(other[2], x_val)
