"""How well a network reads digits: its class scores and its accuracy on a dataset.

``class_scores(model, x)`` is the one batched prediction every accuracy and answer in
ConvLab comes from; ``evaluate(model, x, y)`` adds accuracy, per-class accuracy, the
confusion matrix, predictions and probabilities (the CLI's ``evaluate``, the GUI's
Evaluation tab and the trainer's validation). Both run in evaluation mode without
touching the model's mode or caches, and both can be cancelled between batches.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from convlab import nn
from convlab.nn.functional import softmax


class EvaluationCancelled(Exception):
    """Raised by class_scores() and evaluate() when ``cancelled()`` turned true
    between batches."""


def class_scores(model, x: np.ndarray, batch_size: int = 500,
                 cancelled: Callable[[], bool] | None = None) -> np.ndarray:
    """The model's class scores (logits) (N, K) for images x (N, 1, H, W).

    The one batched prediction every accuracy and answer in ConvLab comes from. It
    runs in evaluation mode (BatchNorm running statistics, no dropout) through
    ``model.infer``, which neither changes the model's mode nor keeps a cache, so it
    may be asked of a model at any time. ``cancelled`` is asked before every batch:
    once it returns True, EvaluationCancelled is raised, so a window closing during
    10,000 test images need not wait.
    """
    if len(x) == 0:
        raise ValueError("there are no images to classify")
    params = model.parameters()
    dtype = params[0].data.dtype if params else np.float32
    batches = []
    for i in range(0, len(x), batch_size):
        if cancelled is not None and cancelled():
            raise EvaluationCancelled(
                f"evaluation cancelled after {i} of {len(x)} images")
        batches.append(model.infer(np.asarray(x[i:i + batch_size], dtype)))
    return np.concatenate(batches)                           # (N, K)


def evaluate(model, x: np.ndarray, y: np.ndarray, batch_size: int = 500,
             cancelled: Callable[[], bool] | None = None) -> dict:
    """Accuracy of ``model`` on images x (N, 1, 28, 28) with labels y (N,).

    Returns a dict with ``accuracy`` (0..1), ``loss`` (mean cross-entropy),
    ``per_class`` (K,) accuracy per true class (NaN for a class with no examples),
    ``confusion`` (K, K) counts with rows = true class and columns = prediction,
    ``predictions`` (N,) and ``probabilities`` (N, K), computed in evaluation mode
    by ``class_scores`` (the model is left as it is; ``cancelled`` as there).
    """
    logits = class_scores(model, x, batch_size, cancelled)     # (N, K)
    y = np.asarray(y, dtype=np.int64)
    probabilities = softmax(logits)
    loss, _ = nn.softmax_cross_entropy(logits, y)
    predictions = logits.argmax(axis=1)
    num_classes = logits.shape[1]
    confusion = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(confusion, (y, predictions), 1)
    per_class_total = confusion.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_class = np.diag(confusion) / per_class_total
    return {
        "accuracy": float((predictions == y).mean()),
        "loss": float(loss),
        "per_class": per_class,
        "confusion": confusion,
        "predictions": predictions,
        "probabilities": probabilities,
    }
