"""evaluate's bookkeeping (accuracy, per-class, confusion) and its cancellation."""

import numpy as np
import pytest

from convlab import nn
from convlab.evaluation import EvaluationCancelled, evaluate


class FixedLogits(nn.Module):
    """A stand-in model whose logits are given, to check evaluate's bookkeeping."""

    def __init__(self, logits):
        super().__init__()
        self.logits = np.asarray(logits, dtype=np.float32)

    def _forward(self, x, training):
        return self.logits[x[:, 0, 0, 0].astype(int)], None


def test_evaluate_counts_accuracy_per_class_and_confusion():
    """evaluate returns accuracy, per-class accuracy and a true-by-predicted matrix."""
    logits = np.eye(3)[[0, 1, 1, 2, 0]] * 5         # predictions 0, 1, 1, 2, 0
    x = np.arange(5, dtype=np.float32).reshape(5, 1, 1, 1)
    y = np.array([0, 1, 2, 2, 1])
    model = nn.Sequential(FixedLogits(logits))
    metrics = evaluate(model, x, y, batch_size=2)
    assert metrics["accuracy"] == pytest.approx(3 / 5)
    np.testing.assert_array_equal(metrics["predictions"], [0, 1, 1, 2, 0])
    np.testing.assert_array_equal(metrics["confusion"],
                                  [[1, 0, 0], [1, 1, 0], [0, 1, 1]])
    np.testing.assert_allclose(metrics["per_class"], [1.0, 0.5, 0.5])
    np.testing.assert_allclose(metrics["probabilities"].sum(axis=1), 1.0, rtol=1e-6)
    assert model.training   # left in the mode it was in


def test_evaluate_stops_between_batches_once_cancelled():
    """evaluate raises EvaluationCancelled at the first batch boundary after
    cancelled() turns true, without running the remaining batches."""
    x = np.zeros((10, 1, 1, 1), np.float32)
    layer = FixedLogits(np.eye(3))
    batches = []
    forward = layer._forward
    layer._forward = lambda xb, training: batches.append(len(xb)) or forward(
        xb, training)
    model = nn.Sequential(layer)
    with pytest.raises(EvaluationCancelled, match="cancelled"):
        evaluate(model, x, np.zeros(10), batch_size=2,
                 cancelled=lambda: len(batches) >= 2)
    assert batches == [2, 2]
    assert model.training   # left in its mode on the way out too
