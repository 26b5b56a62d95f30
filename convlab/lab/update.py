"""Gradient descent up close: one filter's update, one gradient checked, one batch.

* ``filter_step(model, image, target, layer_index, filter_index, lr)``: the plain
  SGD step w - lr * dW of one conv filter, for one image and one target digit, with
  the loss of that digit before and after the step.
* ``gradient_check(model, image, target, layer_index, filter_index, channel, row,
  col)``: backprop's dL/dw of one weight beside the central difference
  (L(w + h) - L(w - h)) / 2h, both in float64 on a copy of the model.
* ``batch_update(before, after, x, y, lr, step)``: what one training step changed,
  layer by layer (|dW|, lr * |dW| / |W| and the measured |dW| / |W|), and the loss
  on its batch before and after.

The model passed in is never changed: every "after" is computed on a copy.
Nothing here imports Qt.
"""

from dataclasses import dataclass

import numpy as np

from convlab import explain, nn
from convlab.evaluation import class_scores
from convlab.lab.filter_edits import conv_filter, with_filter
from convlab.lab.snapshots import clone_model

# The step of the central difference. In float64 its rounding error (about
# 1e-16 * loss / h) and its truncation error (about h**2 times the third
# derivative) are both far below 1e-6 of a typical gradient.
CHECK_STEP = 1e-5


@dataclass(frozen=True)
class FilterStep:
    """One SGD step of one filter for one image; arrays are float64 (C, kh, kw).

    weight, bias: the filter now (bias None for a layer without one);
    grad_weight, grad_bias: dL/dw and dL/db of the target's loss (explain.backprop);
    new_weight, new_bias: weight - lr * grad_weight, bias - lr * grad_bias;
    loss_before, loss_after: -log P(target) with the filter as it is and with the
    new values (as the model stores them, so what Apply would give);
    predicted_change: -lr * (sum of dW**2 + db**2), the first-order estimate of
    loss_after - loss_before.
    """

    target: int
    lr: float
    weight: np.ndarray
    bias: float | None
    grad_weight: np.ndarray
    grad_bias: float | None
    new_weight: np.ndarray
    new_bias: float | None
    loss_before: float
    loss_after: float
    predicted_change: float


def predicted_digit(model, image):
    """The digit 0-9 the model (evaluation mode) predicts for one (28, 28) image."""
    return int(np.argmax(class_scores(model, np.asarray(image)[None, None])[0]))


def filter_step(model, image, target, layer_index, filter_index, lr):
    """The SGD step of filter ``filter_index`` of conv layer model.layers[layer_index]
    for one (28, 28) image and a target digit 0-9, with learning rate ``lr`` > 0."""
    lr = float(lr)
    if not (np.isfinite(lr) and lr > 0):
        raise ValueError(f"the learning rate must be a positive number, got {lr}")
    trace = explain.backprop(model, image, target)
    layer = trace.layers[layer_index]
    grad_weight = layer.grad_weight[filter_index]  # (C, kh, kw)
    weight, bias = conv_filter(model, layer_index, filter_index)
    weight = weight.astype(np.float64)
    new_weight = weight - lr * grad_weight
    grad_bias = new_bias = None
    squares = float(np.sum(grad_weight ** 2))
    if bias is not None:
        bias, grad_bias = float(bias), float(layer.grad_bias[filter_index])
        new_bias = bias - lr * grad_bias
        squares += grad_bias ** 2
    twin = with_filter(model, layer_index, filter_index, new_weight, new_bias)
    after = explain.backprop(twin, image, target).loss
    return FilterStep(int(target), lr, weight, bias, grad_weight, grad_bias,
                      new_weight, new_bias, float(trace.loss), float(after),
                      -lr * squares)


@dataclass(frozen=True)
class GradientCheck:
    """One weight's gradient two ways, in float64.

    index: (channel, row, col) of the weight in its filter; h: the step;
    loss_plus, loss_minus: L(w + h), L(w - h); backprop: dL/dw from the backward
    pass; numeric: (loss_plus - loss_minus) / (2 h); relative_difference:
    |backprop - numeric| / max(|backprop|, |numeric|), 0 when both are 0.
    """

    index: tuple[int, int, int]
    h: float
    loss_plus: float
    loss_minus: float
    backprop: float
    numeric: float
    relative_difference: float


def float64_copy(model):
    """An independent copy of ``model`` whose parameters are float64."""
    twin = clone_model(model)
    for p in twin.parameters():
        p.data = p.data.astype(np.float64)
    return twin


def gradient_check(model, image, target, layer_index, filter_index, channel, row,
                   col, h=CHECK_STEP):
    """Check dL/dw of weight [channel, row, col] of one conv filter by central
    differences, on a float64 copy of ``model`` (which is left alone)."""
    twin = float64_copy(model)
    weight = twin.layers[layer_index].weight.data  # (F, C, kh, kw)
    index = (filter_index, channel, row, col)
    analytic = float(
        explain.backprop(twin, image, target).layers[layer_index].grad_weight[index])
    original = weight[index]
    weight[index] = original + h
    loss_plus = explain.backprop(twin, image, target).loss
    weight[index] = original - h
    loss_minus = explain.backprop(twin, image, target).loss
    weight[index] = original
    numeric = (loss_plus - loss_minus) / (2 * h)
    scale = max(abs(analytic), abs(numeric))
    relative = abs(analytic - numeric) / scale if scale > 0 else 0.0
    return GradientCheck((channel, row, col), h, float(loss_plus), float(loss_minus),
                         analytic, float(numeric), float(relative))


@dataclass(frozen=True)
class LayerUpdate:
    """How much one step moved one layer's weights (bias not counted).

    Norms are Euclidean over all the layer's weights. weight_norm: |W| before
    the step; grad_norm: |dW| of the batch's loss; sgd_ratio: lr * |dW| / |W|, what
    a plain SGD step would move; change_ratio: |W_after - W_before| / |W_before|,
    what the optimizer really moved (Adam and momentum differ from plain SGD).
    Ratios are NaN for a layer whose weights are all zero.
    """

    layer_index: int
    kind: str
    weight_norm: float
    grad_norm: float
    sgd_ratio: float
    change_ratio: float


@dataclass(frozen=True)
class BatchUpdate:
    """What one training step changed: its batch's loss before and after the
    update (evaluation mode, so both use the same computation) and each layer's
    LayerUpdate, for the layers with weights, in order."""

    step: int
    lr: float
    batch_size: int
    loss_before: float
    loss_after: float
    layers: tuple[LayerUpdate, ...]


def batch_loss(model, x, y):
    """Mean cross-entropy of ``model`` (evaluation mode) on x (N, 1, 28, 28), y (N,)."""
    loss, _ = nn.softmax_cross_entropy(class_scores(model, x), np.asarray(y))
    return float(loss)


def _ratio(numerator, denominator):
    return numerator / denominator if denominator > 0 else float("nan")


def batch_update(before, after, x, y, lr, step):
    """Compare ``before`` (a copy taken just before a step) with ``after`` (the model
    after it; its .grad hold that step's gradients) on the step's batch x, y."""
    layers = []
    for i, (old, new) in enumerate(zip(before.layers, after.layers, strict=True)):
        param = getattr(new, "weight", None)
        if param is None:
            continue
        w_old = old.weight.data.astype(np.float64)
        norm = float(np.linalg.norm(w_old))
        grad_norm = float(np.linalg.norm(param.grad.astype(np.float64)))
        change = float(np.linalg.norm(param.data.astype(np.float64) - w_old))
        layers.append(LayerUpdate(i, type(new).__name__, norm, grad_norm,
                                  _ratio(lr * grad_norm, norm), _ratio(change, norm)))
    return BatchUpdate(step, float(lr), len(x), batch_loss(before, x, y),
                       batch_loss(after, x, y), tuple(layers))
