"""See the network learn: one image's forward and backward pass, layer by layer.

``backprop(model, x, target)`` runs one 28x28 image through a Sequential in
evaluation mode, takes the cross-entropy loss of the target digit, and runs the
gradient back through every layer. It returns what each layer computed and how the
loss depends on it: the numbers behind "this pixel, this filter, this weight pushed
the prediction that way".

The model is only read, never changed: each layer is computed with the functions of
convlab.nn.functional on float64 copies of its parameters, so weights, accumulated
gradients, BatchNorm's running statistics, the train/eval flags and the layers' own
forward caches stay exactly as they were (a training run can be mid-step).
"""

from dataclasses import dataclass

import numpy as np

from convlab.nn import functional as F
from convlab.nn.layers import (
    AvgPool2d,
    BatchNorm2d,
    Conv2d,
    Dropout,
    Flatten,
    Linear,
    MaxPool2d,
    ReLU,
)
from convlab.nn.module import Sequential

IMAGE_SHAPE = (28, 28)
NUM_CLASSES = 10


@dataclass(frozen=True)
class LayerTrace:
    """What one layer did for the image; every array is float64, without batch axis.

    output: the layer's output, (C, H, W) for feature maps or (features,) after
    Flatten; grad_output: dL/d(output), the same shape; grad_weight: dL/dW, the shape
    of the layer's weight, or None for a layer without weights; grad_bias: dL/db,
    the shape of its bias, or None.
    """

    output: np.ndarray
    grad_output: np.ndarray
    grad_weight: np.ndarray | None
    grad_bias: np.ndarray | None


@dataclass(frozen=True)
class Trace:
    """One image's forward and backward pass.

    loss: cross-entropy of the target for this image, -log(probabilities[target]);
    probabilities: (10,) the softmax of the model's output; grad_input: (28, 28)
    dL/dx, how each pixel moves the loss; layers: one LayerTrace per layer of the
    Sequential, in order.
    """

    loss: float
    probabilities: np.ndarray
    grad_input: np.ndarray
    layers: tuple[LayerTrace, ...]


def _float64(param):
    """A float64 copy of a Parameter's data (None stays None): the model is never
    handed to the functions, so nothing they do can reach it."""
    return None if param is None else param.data.astype(np.float64)


def _no_params(dx):
    """The gradients of a layer without parameters: (dx, None, None)."""
    return dx, None, None


# One function per layer kind: (layer, x (1, ...)) -> (out (1, ...), back), where
# back(dout) -> (dx, dW or None, db or None). Always the evaluation-mode computation.


def _conv(layer, x):
    """Conv2d: x (1, C, H, W) -> (1, F, out_h, out_w); dW (F, C, kh, kw), db (F,)."""
    out, cache = F.conv2d_forward(x, _float64(layer.weight), _float64(layer.bias),
                                  layer.stride, layer.padding)
    return out, lambda dout: F.conv2d_backward(dout, cache)


def _linear(layer, x):
    """Linear: x (1, D_in) -> (1, D_out); dW (D_out, D_in), db (D_out,)."""
    out, cache = F.linear_forward(x, _float64(layer.weight), _float64(layer.bias))
    return out, lambda dout: F.linear_backward(dout, cache)


def _batch_norm(layer, x):
    """BatchNorm2d, eval: x (1, C, H, W) -> same shape; dgamma (C,), dbeta (C,)."""
    # With the running statistics (eval) batch norm is a fixed affine map per
    # channel, out = gamma * x_hat + beta with x_hat = (x - mean) / sqrt(var + eps),
    # so dx = dout * gamma / sqrt(var + eps), dgamma = sum(dout * x_hat) and
    # dbeta = sum(dout): what batch_norm2d_backward computes for an eval-mode cache.
    # training=False also means the (copied) running statistics are not updated.
    out, cache = F.batch_norm2d_forward(
        x, _float64(layer.weight), _float64(layer.bias),
        layer.running_mean.astype(np.float64), layer.running_var.astype(np.float64),
        training=False, eps=layer.eps,
    )
    return out, lambda dout: F.batch_norm2d_backward(dout, cache)


def _max_pool(layer, x):
    """MaxPool2d: x (1, C, H, W) -> (1, C, out_h, out_w)."""
    out, cache = F.max_pool2d_forward(x, layer.kernel_size, layer.stride)
    return out, lambda dout: _no_params(F.max_pool2d_backward(dout, cache))


def _avg_pool(layer, x):
    """AvgPool2d: x (1, C, H, W) -> (1, C, out_h, out_w)."""
    out, cache = F.avg_pool2d_forward(x, layer.kernel_size, layer.stride)
    return out, lambda dout: _no_params(F.avg_pool2d_backward(dout, cache))


def _relu(layer, x):
    """ReLU: x (any shape) -> the same shape."""
    out, cache = F.relu_forward(x)
    return out, lambda dout: _no_params(F.relu_backward(dout, cache))


def _flatten(layer, x):
    """Flatten: x (1, C, H, W) -> (1, C*H*W)."""
    # The gradient takes the (1, C, H, W) shape back.
    return x.reshape(len(x), -1), lambda dout: _no_params(dout.reshape(x.shape))


def _dropout(layer, x):
    """Dropout, eval: x (any shape) -> x unchanged."""
    # Evaluation mode: dropout passes everything through (and draws no random mask,
    # so the layer's generator is not advanced).
    out, cache = F.dropout_forward(x, layer.p, False, None)
    return out, lambda dout: _no_params(F.dropout_backward(dout, cache))


# Exact types: a subclass may compute something else, so it is refused, not guessed.
_STEPS = {Conv2d: _conv, Linear: _linear, BatchNorm2d: _batch_norm,
          MaxPool2d: _max_pool, AvgPool2d: _avg_pool, ReLU: _relu, Flatten: _flatten,
          Dropout: _dropout}


def _check_model(model):
    """The step function of every layer, or ValueError naming the first it lacks."""
    if not isinstance(model, Sequential):
        raise ValueError(f"explain.backprop needs an nn.Sequential model, got "
                         f"{type(model).__name__}")
    steps = []
    for i, layer in enumerate(model.layers):
        step = _STEPS.get(type(layer))
        if step is None:
            known = ", ".join(kind.__name__ for kind in _STEPS)
            raise ValueError(f"layer {i} ({type(layer).__name__}) cannot be traced: "
                             f"explain.backprop knows {known}")
        steps.append(step)
    return steps


def _check_image(x):
    """x as a float64 (28, 28) copy, or ValueError saying what is wrong with it."""
    try:
        image = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"x must be a (28, 28) array of real numbers; this cannot "
                         f"be made into one array ({exc})") from exc
    if image.dtype.kind not in "fiu":
        raise ValueError(f"x must hold real numbers (a grey image, 0 = background, "
                         f"1 = ink), got dtype {image.dtype}")
    if image.shape != IMAGE_SHAPE:
        hint = ""
        if image.size == 28 * 28:
            hint = "; reshape it to (28, 28) (no batch or channel axis)"
        raise ValueError(f"x must be one image of shape (28, 28), got shape "
                         f"{image.shape}{hint}")
    bad = int(np.size(image) - np.count_nonzero(np.isfinite(image)))
    if bad:
        raise ValueError(f"x must be finite, but {bad} pixel(s) are NaN or inf")
    return image.astype(np.float64)


def _check_target(target):
    """target as a Python int 0..9, or ValueError (bools and floats are refused)."""
    whole = isinstance(target, (int, np.integer)) and not isinstance(
        target, (bool, np.bool_))
    if not whole or not 0 <= target < NUM_CLASSES:
        raise ValueError(f"target must be a whole number from 0 to 9 (the digit "
                         f"whose loss to explain), got {target!r}")
    return int(target)


def backprop(model, x, target):
    """One image forward through ``model`` (eval mode) and its loss's gradient back.

    model: an nn.Sequential of ConvLab layers ending in 10 class scores; x: the image,
    (28, 28) floats (0 = background, 1 = ink); target: the digit 0-9 whose
    cross-entropy is explained. Returns a Trace of float64 arrays: loss,
    probabilities (10,), grad_input (28, 28) and one LayerTrace per layer. The model
    is left exactly as it was. Bad input raises ValueError saying what is wrong.
    """
    steps = _check_model(model)
    h = _check_image(x).reshape(1, 1, *IMAGE_SHAPE)  # (N=1, C=1, 28, 28)
    target = _check_target(target)

    outputs, backs = [], []
    for i, (layer, step) in enumerate(zip(model.layers, steps, strict=True)):
        try:
            h, back = step(layer, h)
        except ValueError as exc:
            raise ValueError(f"layer {i} ({type(layer).__name__}): {exc}") from exc
        outputs.append(h)
        backs.append(back)
    if h.shape != (1, NUM_CLASSES):
        raise ValueError(f"the model must end in {NUM_CLASSES} class scores (digits "
                         f"0-9), but its last layer gives shape {h.shape}")

    loss, d = F.softmax_cross_entropy(h, np.array([target]))  # d: dL/dlogits (1, 10)
    grads = [None] * len(backs)
    for i in reversed(range(len(backs))):
        grad_output = d
        d, dw, db = backs[i](grad_output)
        grads[i] = (grad_output, dw, db)

    # Copies without the batch axis, so the trace owns plain contiguous arrays.
    layers = tuple(
        LayerTrace(np.array(out[0]), np.array(dout[0]), dw, db)
        for out, (dout, dw, db) in zip(outputs, grads, strict=True)
    )
    return Trace(loss=loss, probabilities=F.softmax(h)[0],
                 grad_input=np.array(d.reshape(IMAGE_SHAPE)), layers=layers)
