"""The backward pass of one kernel and one pooling, one output cell at a time.

conv_backward_steps() and pool_backward_steps() run the loops of
convlab.nn.reference.conv_backward and pool_backward on one channel, as the
Playground shows it, and yield after every output cell what the student reads: where
the window is, the gradient that cell sends back, and the running dW, db and dx so
far. After the last step the running arrays are exactly reference's result.
network_dout() is the gradient the real network sends to one conv filter's output for
a digit. Nothing here imports Qt.
"""

from typing import NamedTuple

import numpy as np

from convlab.explain import backprop
from convlab.nn.reference import create_mask_from_window, distribute_value, zero_pad

# What reference.pool_backward calls the modes the Playground names "max" and "avg".
POOL_MODES = {"max": "max", "avg": "average", "average": "average"}


class ConvBackStep(NamedTuple):
    """One output cell (out_row, out_col) sending its gradient g back.

    top, left: the window's corner in the padded input; patch (kh, kw): that window;
    dw (kh, kw), db float, dx_pad (Hp, Wp): the running gradients after this step
    (dx_pad over the padded input: the window lives there).
    """

    index: int
    out_row: int
    out_col: int
    top: int
    left: int
    g: float
    patch: np.ndarray
    dw: np.ndarray
    db: float
    dx_pad: np.ndarray


class PoolBackStep(NamedTuple):
    """One pooled cell (out_row, out_col) sending its gradient g back.

    window (kh, kw): the pool input under the window; share (kh, kw): what each of
    its cells receives (mask * g for max, g / (kh*kw) for average); dx (H, W): the
    running gradient of the pool input after this step.
    """

    index: int
    out_row: int
    out_col: int
    top: int
    left: int
    g: float
    window: np.ndarray
    share: np.ndarray
    dx: np.ndarray


def conv_backward_steps(x, kernel, dout, stride, padding):
    """Yield a ConvBackStep per output cell, in conv_backward's loop order.

    x (H, W) the unpadded input, kernel (kh, kw), dout (out_h, out_w) the gradient
    arriving at the convolution's output; stride and padding are ints. Each step's
    arrays are copies, so a list of steps can be replayed back and forth.
    """
    x = np.asarray(x, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    dout = np.asarray(dout, dtype=np.float64)
    kh, kw = kernel.shape
    out_h, out_w = dout.shape
    x_pad = zero_pad(x[None, None], padding)[0, 0]  # (H + 2p, W + 2p)
    dx_pad = np.zeros_like(x_pad)
    dw = np.zeros_like(kernel)
    db = 0.0
    index = 0
    for i in range(out_h):
        for j in range(out_w):
            top, left = i * stride, j * stride
            a_slice = x_pad[top:top + kh, left:left + kw]
            g = dout[i, j]
            # The same three updates as conv_backward, in the same order.
            dx_pad[top:top + kh, left:left + kw] += kernel * g
            dw += a_slice * g
            db += g
            yield ConvBackStep(index, i, j, top, left, float(g), a_slice.copy(),
                               dw.copy(), float(db), dx_pad.copy())
            index += 1


def crop_padding(dx_pad, padding):
    """The input's own gradient: dx_pad (H + 2p, W + 2p) -> (H, W).

    The padding is not part of the input, so its gradient is dropped.
    """
    height, width = dx_pad.shape
    return dx_pad[padding:height - padding, padding:width - padding]


def pool_backward_steps(x, size, stride, mode, dout):
    """Yield a PoolBackStep per pooled cell, in pool_backward's loop order.

    x (H, W) the pooling's input (the ReLU output), size and stride ints, mode "max"
    or "avg" ("average"), dout (out_h, out_w) the gradient arriving at the pooled
    output.
    """
    if mode not in POOL_MODES:
        raise ValueError(f'mode must be "max" or "avg", got {mode!r}')
    x = np.asarray(x, dtype=np.float64)
    dout = np.asarray(dout, dtype=np.float64)
    out_h, out_w = dout.shape
    dx = np.zeros_like(x)
    index = 0
    for i in range(out_h):
        for j in range(out_w):
            top, left = i * stride, j * stride
            g = dout[i, j]
            window = x[top:top + size, left:left + size]
            if POOL_MODES[mode] == "max":
                share = create_mask_from_window(window) * g
            else:
                share = distribute_value(g, (size, size))
            dx[top:top + size, left:left + size] += share
            yield PoolBackStep(index, i, j, top, left, float(g), window.copy(),
                               share, dx.copy())
            index += 1


def single_one(shape, row, col):
    """A gradient of zeros with one 1 at (row, col): follow one output cell alone."""
    dout = np.zeros(shape)
    dout[row, col] = 1.0
    return dout


class NetworkGradient(NamedTuple):
    """dout (out_h, out_w): dL/d(output) of one conv filter for one digit.

    target: the digit whose cross-entropy L is; predicted: the network's answer;
    loss: L.
    """

    dout: np.ndarray
    target: int
    predicted: int
    loss: float


def network_dout(model, image, layer_index, filter_index, target=None):
    """What the real network sends back to filter `filter_index` of a conv layer.

    model: the nn.Sequential; image (28, 28) the digit; layer_index indexes
    model.layers; target None means the predicted digit. Uses explain.backprop, so
    bad input raises its ValueError.
    """
    # The probabilities do not depend on the target: one pass gives the prediction.
    trace = backprop(model, image, 0 if target is None else target)
    predicted = int(np.argmax(trace.probabilities))
    if target is None:
        target = predicted
        if predicted != 0:
            trace = backprop(model, image, target)
    dout = trace.layers[layer_index].grad_output[filter_index]  # (out_h, out_w)
    return NetworkGradient(np.array(dout), int(target), predicted, float(trace.loss))
