"""End to end: a small network learns horizontal against vertical bars."""

import numpy as np
import pytest

from convlab import nn


def make_bars(n, rng, size=12):
    """n noisy images (n, 1, size, size) with one bar each; label 0 = horizontal."""
    x = rng.normal(0.0, 0.2, (n, 1, size, size)).astype(np.float32)
    y = rng.integers(0, 2, n)
    for image, label in zip(x[:, 0], y, strict=True):
        line = rng.integers(0, size)
        start = rng.integers(0, size // 2)
        length = rng.integers(size // 3, size - start + 1)
        if label == 0:
            image[line, start:start + length] += 1.0
        else:
            image[start:start + length, line] += 1.0
    return x, y


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_bars_are_learned(optimizer):
    """A few hundred steps reach more than 95% accuracy on unseen bar images."""
    rng = np.random.default_rng(0)
    net = nn.Sequential(
        nn.Conv2d(1, 4, 3, rng=rng), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.1, rng=rng), nn.Linear(4 * 5 * 5, 2, rng=rng),
    )
    if optimizer == "adam":
        opt = nn.Adam(net.parameters(), lr=0.01)
    else:
        opt = nn.SGD(net.parameters(), lr=0.05, momentum=0.9)
    x_test, y_test = make_bars(500, np.random.default_rng(1))

    net.eval()
    chance = (net.forward(x_test).argmax(axis=1) == y_test).mean()
    net.train()
    for _ in range(300):
        x, y = make_bars(32, rng)
        loss, dlogits = nn.softmax_cross_entropy(net.forward(x), y)
        opt.zero_grad()
        net.backward(dlogits, need_dx=False)
        opt.step()

    net.eval()
    accuracy = (net.forward(x_test).argmax(axis=1) == y_test).mean()
    assert accuracy > 0.95, f"accuracy {accuracy:.3f} (before training {chance:.3f})"
    assert loss < 0.3
