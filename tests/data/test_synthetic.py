"""Tests for the generated digits: determinism, balance, normalization, learning."""

import numpy as np
import pytest
from fitting import fit

from convlab import nn
from convlab.data.mnist import load_mnist
from convlab.data.preprocess import BOX, TARGET, center_of_mass, to_mnist
from convlab.data.sources import Dataset
from convlab.data.synthetic import _one, generate_digits, with_generated


@pytest.fixture(scope="module")
def digits():
    """A few hundred generated digits shared by the cheap tests."""
    return generate_digits(300, 7)


def test_same_seed_same_digits():
    """A seed, or a generator seeded the same way, always gives the same digits."""
    x1, y1 = generate_digits(40, 123)
    x2, y2 = generate_digits(40, np.random.default_rng(123))
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    x3, _ = generate_digits(40, 124)
    assert not np.array_equal(x1, x3)


@pytest.mark.parametrize("n", [10, 53, 200])
def test_classes_are_balanced(n):
    """Every class gets n // 10 digits; the remainder goes to different classes."""
    _, y = generate_digits(n, 0)
    counts = np.bincount(y, minlength=10)
    assert counts.sum() == n
    assert set(counts) <= {n // 10, n // 10 + 1}
    assert (counts == n // 10 + 1).sum() == n % 10


def test_shape_dtype_range(digits):
    """Images are float32 (n, 28, 28) in [0, 1]; labels are int64 digits."""
    x, y = digits
    assert x.shape == (300, 28, 28) and x.dtype == np.float32
    assert y.shape == (300,) and y.dtype == np.int64
    assert x.min() >= 0.0 and x.max() <= 1.0
    assert set(np.unique(y)) == set(range(10))


def test_mnist_normalization(digits):
    """As in MNIST: ink box 20 px on its longer side, centre of mass at (14, 14)."""
    for image in digits[0]:
        rows = np.flatnonzero(image.max(axis=1) > 0)
        cols = np.flatnonzero(image.max(axis=0) > 0)
        longer = max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1)
        assert longer in (BOX - 1, BOX)  # a faint edge pixel may fall outside
        com = np.array(center_of_mass(image))
        assert np.abs(com - TARGET).max() <= 0.5 + 1e-6
        assert image.max() == pytest.approx(1.0)


def test_generated_digits_are_fixed_points_of_to_mnist(digits):
    """Normalizing a generated digit again changes it by less than one grey level."""
    x = digits[0][:50]
    again = np.stack([to_mnist(image) for image in x])
    np.testing.assert_allclose(again, x, atol=1 / 255)


def test_progress_reports_chunks_without_changing_digits():
    """progress sees every chunk up to n; the digits equal those drawn without it."""
    seen = []
    x, y = generate_digits(600, 5, progress=lambda done, n: seen.append((done, n)))
    x_plain, y_plain = generate_digits(600, 5)
    assert seen == [(256, 600), (512, 600), (600, 600)]
    assert np.array_equal(x, x_plain) and np.array_equal(y, y_plain)


def test_progress_exception_stops_drawing():
    """An exception raised by progress ends generate_digits at once."""
    calls = []

    def stop(done, n):
        calls.append(done)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        generate_digits(1000, 0, progress=stop)
    assert calls == [256]


def test_training_on_generated_digits_reads_real_mnist(mnist_dir):
    """A small network trained only on generated digits beats chance far on MNIST."""
    rng = np.random.default_rng(0)
    x, y = generate_digits(3000, 0)
    x = x[:, None]  # (N, 1, 28, 28)
    model = nn.Sequential(
        nn.Conv2d(1, 8, 5, rng=rng), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(8 * 12 * 12, 10, rng=rng),
    )
    fit(model, x, y, rng, epochs=2)

    images, labels = load_mnist(mnist_dir, "test")
    real = images[:2000, None].astype(np.float32) / 255  # (2000, 1, 28, 28)
    model.eval()
    accuracy = np.mean(model.forward(real).argmax(axis=1) == labels[:2000])
    # Chance is 10%; this run reaches about 78% (the full sample network, over 90%).
    assert accuracy > 0.5


def test_some_ones_have_the_long_european_up_stroke():
    """About half of the 1s start with a flag at least a third of the stem."""
    rng = np.random.default_rng(0)
    flags = []
    for _ in range(400):
        strokes = _one(rng)
        stem_top = strokes[0][np.argmin(strokes[0][:, 1])]
        flags.append(np.linalg.norm(strokes[0][0] - stem_top))
    share = np.mean(np.asarray(flags) >= 0.33)
    assert 0.38 <= share <= 0.58


def test_with_generated_adds_training_digits_only():
    """with_generated appends seeded generated digits to the training set only."""
    x = np.zeros((5, 1, 28, 28), np.float32)
    y = np.arange(5, dtype=np.int64)
    base = Dataset("MNIST", x, y, x[:2], y[:2])
    mixed = with_generated(base, 30, 0)
    assert mixed.x_train.shape == (35, 1, 28, 28) and mixed.x_train.dtype == np.float32
    np.testing.assert_array_equal(mixed.y_train[:5], y)
    assert np.bincount(mixed.y_train[5:], minlength=10).tolist() == [3] * 10
    assert mixed.x_test is base.x_test and mixed.y_test is base.y_test
    assert mixed.name == "MNIST and 30 generated digits"
    np.testing.assert_array_equal(with_generated(base, 30, 0).x_train, mixed.x_train)
    builtin_seed_digits, _ = generate_digits(30, 0)
    assert not np.array_equal(mixed.x_train[5:, 0], builtin_seed_digits)
