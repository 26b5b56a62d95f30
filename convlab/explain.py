"""See the network learn: one image's forward and backward pass, layer by layer.

``backprop(model, x, target)`` runs one 28x28 image through a Sequential in
evaluation mode, takes the cross-entropy loss of the target digit, and runs the
gradient back through every layer. It returns what each layer computed and how the
loss depends on it: the numbers behind "this pixel, this filter, this weight pushed
the prediction that way".

More views of which pixels matter:

* ``saliency(model, x, digit)``: d score[digit] / dx, how each pixel moves the raw
  score (logit) of one digit; ``saliency_all(model, x)`` gives all ten at once.
* ``occlusion(model, x, digit, size, stride)``: how much the digit's probability
  drops when a size x size patch of the image is blacked out, patch by patch.
* ``receptive_field(model, layer_index, row, col)``: the box of input pixels that
  can reach one unit of a layer, worked out from kernel sizes, strides and paddings.
* ``unit_gradient(model, x, layer_index, channel, row, col)``: d(unit)/dx, (28, 28),
  where one unit's effective receptive field lies for this image.

The model is only read, never changed: each layer is computed with the functions of
convlab.nn.functional on float64 copies of its parameters, so weights, accumulated
gradients, BatchNorm's running statistics, the train/eval flags and the layers' own
forward caches stay exactly as they were (a training run can be mid-step).
"""

from dataclasses import dataclass
from itertools import islice

import numpy as np

from convlab.nn import functional as F
from convlab.nn.functional import as_pair
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


# One function per layer kind: (layer, x (N, ...)) -> (out (N, ...), back), where
# back(dout) -> (dx, dW or None, db or None). Always the evaluation-mode computation.
# N is 1 for backprop, one copy of the image per digit for saliency_all and one per
# patch for occlusion; the docstrings write N = 1.


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


def _check_model(model, caller):
    """The step function of every layer, or ValueError naming the first it lacks.

    caller: the public function's name, for the message.
    """
    if not isinstance(model, Sequential):
        raise ValueError(f"explain.{caller} needs an nn.Sequential model, got "
                         f"{type(model).__name__}")
    steps = []
    for i, layer in enumerate(model.layers):
        step = _STEPS.get(type(layer))
        if step is None:
            known = ", ".join(kind.__name__ for kind in _STEPS)
            raise ValueError(f"layer {i} ({type(layer).__name__}) cannot be traced: "
                             f"explain.{caller} knows {known}")
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


def _is_whole(value):
    """True for Python and NumPy integers; bools (True == 1) do not count."""
    return isinstance(value, (int, np.integer)) and not isinstance(
        value, (bool, np.bool_))


def _check_digit(value, name, meaning):
    """value as a Python int 0..9, or ValueError (bools and floats are refused).

    name: the argument's name; meaning: what the digit is for, for the message.
    """
    if not _is_whole(value) or not 0 <= value < NUM_CLASSES:
        raise ValueError(f"{name} must be a whole number from 0 to 9 ({meaning}), "
                         f"got {value!r}")
    return int(value)


def _check_range(value, name, low, high, hint=""):
    """value as a Python int in low..high (inclusive), or ValueError saying so."""
    if not _is_whole(value) or not low <= value <= high:
        raise ValueError(f"{name} must be a whole number from {low} to {high}"
                         f"{hint}, got {value!r}")
    return int(value)


def _layer_passes(model, steps, h, start=0):
    """Each layer's eval-mode (output, back) for the batch h, in order, from layer
    ``start`` on (h is its input; (N, 1, 28, 28) for layer 0).

    A generator, so a caller that only wants the last output lets every earlier
    output and cache go as soon as the next layer has its input.
    """
    for i in range(start, len(steps)):
        layer, step = model.layers[i], steps[i]
        try:
            h, back = step(layer, h)
        except ValueError as exc:
            raise ValueError(f"layer {i} ({type(layer).__name__}): {exc}") from exc
        yield h, back


def _check_logits(h):
    """ValueError unless h, the model's output for a batch, is (N, 10) class scores."""
    if h.shape[1:] != (NUM_CLASSES,):
        raise ValueError(f"the model must end in {NUM_CLASSES} class scores (digits "
                         f"0-9), but its last layer gives shape {h.shape[1:]} for "
                         f"one image")


def _forward(model, steps, batch):
    """batch (N, 1, 28, 28) -> (outputs, backs): every layer's output (N, ...) and
    backward function; the last output is checked to be the (N, 10) logits."""
    outputs, backs = [], []
    for out, back in _layer_passes(model, steps, batch):
        outputs.append(out)
        backs.append(back)
    _check_logits(outputs[-1] if outputs else batch)
    return outputs, backs


def _backward(backs, d):
    """Run d, the gradient of some score wrt the logits (N, 10), back through every
    layer. Returns (dx (N, 1, 28, 28), grads), grads[i] = (d(score)/d(output of
    layer i), its dW or None, its db or None)."""
    grads = [None] * len(backs)
    for i in reversed(range(len(backs))):
        grad_output = d
        d, dw, db = backs[i](grad_output)
        grads[i] = (grad_output, dw, db)
    return d, grads


def backprop(model, x, target):
    """One image forward through ``model`` (eval mode) and its loss's gradient back.

    model: an nn.Sequential of ConvLab layers ending in 10 class scores; x: the image,
    (28, 28) floats (0 = background, 1 = ink); target: the digit 0-9 whose
    cross-entropy is explained. Returns a Trace of float64 arrays: loss,
    probabilities (10,), grad_input (28, 28) and one LayerTrace per layer. The model
    is left exactly as it was. Bad input raises ValueError saying what is wrong.
    """
    steps = _check_model(model, "backprop")
    h = _check_image(x).reshape(1, 1, *IMAGE_SHAPE)  # (N=1, C=1, 28, 28)
    target = _check_digit(target, "target", "the digit whose loss to explain")

    outputs, backs = _forward(model, steps, h)
    logits = outputs[-1]  # (1, 10)
    loss, d = F.softmax_cross_entropy(logits, np.array([target]))  # d (1, 10)
    grad_input, grads = _backward(backs, d)

    # Copies without the batch axis, so the trace owns plain contiguous arrays.
    layers = tuple(
        LayerTrace(np.array(out[0]), np.array(dout[0]), dw, db)
        for out, (dout, dw, db) in zip(outputs, grads, strict=True)
    )
    return Trace(loss=loss, probabilities=F.softmax(logits)[0],
                 grad_input=np.array(grad_input.reshape(IMAGE_SHAPE)), layers=layers)


def _saliency_maps(model, x, digits, caller):
    """d logit[k] / dx for every k in digits: (len(digits), 28, 28) float64.

    One forward of one copy of the image per digit and one backward whose rows
    start from the one-hot gradients of those digits' scores.
    """
    steps = _check_model(model, caller)
    image = _check_image(x)
    batch = np.repeat(image.reshape(1, 1, *IMAGE_SHAPE), len(digits), axis=0)
    _, backs = _forward(model, steps, batch)  # batch (len(digits), 1, 28, 28)
    # d logit[k] / d logits is the one-hot row of k: the score, not the loss.
    dx, _ = _backward(backs, np.eye(NUM_CLASSES)[digits])
    return np.array(dx.reshape(len(digits), *IMAGE_SHAPE))


def saliency(model, x, digit):
    """How each pixel moves the raw score of one digit: d logit[digit] / dx.

    x: the image (28, 28); digit: 0-9. Returns a signed (28, 28) float64 map:
    positive where more ink would raise the digit's score, negative where it would
    lower it. The score is the model's output before softmax, so the map shows this
    digit alone, not its competition with the others (backprop's grad_input does).
    """
    digit = _check_digit(digit, "digit", "the class whose score to explain")
    return _saliency_maps(model, x, [digit], "saliency")[0]


def saliency_all(model, x):
    """The ten saliency maps at once: (10, 28, 28), row k = saliency(model, x, k)."""
    return _saliency_maps(model, x, list(range(NUM_CLASSES)), "saliency_all")


def occlusion(model, x, digit, size=4, stride=2):
    """How much each patch mattered: P(digit | x) - P(digit | x, patch set to 0).

    Patches are size x size, their top-left corners every ``stride`` pixels down
    and across, so the result is (n, n) float64 with n = (28 - size) // stride + 1;
    entry (i, j) covers rows i*stride .. i*stride + size - 1 and the same columns.
    Positive where hiding the patch lowers the digit's probability (the network
    used that part), negative where hiding it helps. All occluded copies go
    through the network together, one batched eval-mode pass per layer.
    """
    steps = _check_model(model, "occlusion")
    image = _check_image(x)
    digit = _check_digit(digit, "digit", "the class whose probability to explain")
    size = _check_range(size, "size", 1, IMAGE_SHAPE[0],
                        " (the side of the square patch)")
    if not _is_whole(stride) or stride < 1:
        raise ValueError(f"stride must be a whole number >= 1 (pixels between "
                         f"patches), got {stride!r}")
    # Every layer's output for the image itself (this also checks the model).
    outputs, _ = _forward(model, steps, image.reshape(1, 1, *IMAGE_SHAPE))
    n = (IMAGE_SHAPE[0] - size) // stride + 1
    starts = stride * np.arange(n)  # first row (and column) of each patch
    tops, lefts = np.repeat(starts, n), np.tile(starts, n)  # (n*n,) patch (i, j)
    probabilities = np.concatenate([
        F.softmax(_occluded_logits(model, steps, image, outputs, tops[c:c + _CHUNK],
                                   lefts[c:c + _CHUNK], size))[:, digit]
        for c in range(0, n * n, _CHUNK)
    ])  # (n*n,)
    unoccluded = F.softmax(outputs[-1])[0, digit]
    return (unoccluded - probabilities).reshape(n, n)


# Occluded copies go through the network this many at a time, so a network with
# big feature maps before its dense layers does not need them for 784 copies (1x1
# patches) at once. The default 4x4 patches at stride 2 (169 copies) take one pass.
_CHUNK = 256


def _occluded_logits(model, steps, image, outputs, tops, lefts, size):
    """Logits (N, 10) of N copies of image, copy k with the size x size patch at
    (tops[k], lefts[k]) set to 0. outputs: every layer's output for image itself.

    A copy differs from the image only in the units whose receptive field touches
    its patch. So through conv, pooling and pixel-wise layers each copy carries just
    the crop of the map that its patch changed, (N, C, crop_h, crop_w) at its own
    (top, left), and only that crop is recomputed, on all copies in one batch. From
    the first Flatten or Linear on, every unit depends on the patch: the crops are
    pasted into the image's own maps and the layers run on the whole copies.
    """
    crop = np.zeros((len(tops), 1, size, size))  # the patch: ink set to 0
    h = image.reshape(1, 1, *IMAGE_SHAPE)  # the image's input to layer i
    for i, (layer, step) in enumerate(zip(model.layers, steps, strict=True)):
        if _window(layer) is not None:
            crop, tops, lefts = _window_crop(layer, h[0], crop, tops, lefts)
        elif isinstance(layer, (ReLU, BatchNorm2d, Dropout)):
            crop, _ = step(layer, crop)  # pixel by pixel: the crop stays in place
        else:
            break  # Flatten or Linear, which a model ending in class scores has
        h = outputs[i]
    whole = np.repeat(h, len(tops), axis=0)  # (N, C, H, W): the image's maps
    rows = tops[:, None, None] + np.arange(crop.shape[2])[:, None]  # (N, crop_h, 1)
    cols = lefts[:, None, None] + np.arange(crop.shape[3])  # (N, 1, crop_w)
    # whole[k, :, rows[k], cols[k]] = crop[k], indexed as (N, crop_h, crop_w, C).
    whole[np.arange(len(tops))[:, None, None], :, rows, cols] = (
        crop.transpose(0, 2, 3, 1))
    for out, _ in _layer_passes(model, steps, whole, start=i):
        whole = out
    return whole  # (N, 10)


def _recomputed(first, count, k, s, p, n_out):
    """One axis of a window layer whose input changed at first..first+count-1 in
    each copy: (first output to recompute per copy, how many, the same for all).

    Output u reads inputs u*s - p .. u*s - p + k - 1, so the changed ones reach the
    outputs from ceil((first + p - k + 1) / s) to floor((first + count - 1 + p) / s).
    """
    low = np.maximum((first + p - k) // s + 1, 0)
    high = np.minimum((first + count - 1 + p) // s, n_out - 1)
    out_count = max(int((high - low).max()) + 1, 1)
    # Copies near the far edge recompute a few unchanged outputs, to keep one size.
    return np.minimum(low, n_out - out_count), out_count


def _window_crop(layer, h, crop, tops, lefts):
    """A conv or pooling layer on the changed crops only.

    h: the image's input to the layer (C, H, W); crop (N, C, crop_h, crop_w): each
    copy's changed part of it, at (tops, lefts) (N,). Returns the output crops
    (N, F, out_h, out_w) and their (tops, lefts): every output a patch can change.
    """
    (kh, kw), (sh, sw), (ph, pw) = _window(layer)
    N, _, crop_h, crop_w = crop.shape
    C, H, W = h.shape
    out_rows = F.conv_output_size(H, kh, sh, ph)
    out_cols = F.conv_output_size(W, kw, sw, pw)
    out_tops, out_h = _recomputed(tops, crop_h, kh, sh, ph, out_rows)
    out_lefts, out_w = _recomputed(lefts, crop_w, kw, sw, pw, out_cols)
    # The inputs those outputs read, in padded coordinates: (N, C, in_h, in_w).
    in_h, in_w = (out_h - 1) * sh + kh, (out_w - 1) * sw + kw
    padded = np.zeros((H + 2 * ph, W + 2 * pw, C))
    padded[ph : ph + H, pw : pw + W] = h.transpose(1, 2, 0)
    # One spare row and column past the end take the crop's entries that no output
    # reads, so every copy's crop is pasted with one indexing step. Stored as
    # (H, W, N, C) like the engine's own maps, whose pooling and im2col read it fast.
    window = np.empty((in_h + 1, in_w + 1, N, C)).transpose(2, 3, 0, 1)
    rows = (out_tops * sh)[:, None, None] + np.arange(in_h)[:, None]  # (N, in_h, 1)
    cols = (out_lefts * sw)[:, None, None] + np.arange(in_w)  # (N, 1, in_w)
    # padded[rows, cols] is (N, in_h, in_w, C).
    window[:, :, :in_h, :in_w] = padded[rows, cols].transpose(0, 3, 1, 2)
    # Where each copy's crop lies in its window, or the spare row / column.
    r = (tops + ph - out_tops * sh)[:, None] + np.arange(crop_h)  # (N, crop_h)
    c = (lefts + pw - out_lefts * sw)[:, None] + np.arange(crop_w)  # (N, crop_w)
    r = np.where((r >= 0) & (r < in_h), r, in_h)[:, :, None]
    c = np.where((c >= 0) & (c < in_w), c, in_w)[:, None, :]
    window[np.arange(N)[:, None, None], :, r, c] = crop.transpose(0, 2, 3, 1)
    window = window[:, :, :in_h, :in_w]
    if isinstance(layer, Conv2d):
        # The padding is already in the window.
        out, _ = F.conv2d_forward(window, _float64(layer.weight),
                                  _float64(layer.bias), layer.stride, 0)
    else:
        out, _ = _STEPS[type(layer)](layer, window)
    return out, out_tops, out_lefts


def _window(layer):
    """(kernel, stride, padding) (h, w) pairs of a conv or pooling layer, else None."""
    if isinstance(layer, Conv2d):
        return layer.kernel_size, layer.stride, layer.padding
    if isinstance(layer, (MaxPool2d, AvgPool2d)):
        return (as_pair(layer.kernel_size, "kernel_size"),
                as_pair(layer.stride, "stride"), (0, 0))
    return None


def _window_back(reach, k, s, p, n_in):
    """One axis through a window layer: reach (n_out,) bool, the output positions
    that lead to the unit -> (n_in,) bool, the input positions they read.

    Output position u reads inputs u*s - p .. u*s - p + k - 1; positions outside
    0..n_in-1 are padding and reach no pixel.
    """
    starts = np.flatnonzero(reach) * s - p  # first input position of each window
    read = (starts[:, None] + np.arange(k)).ravel()  # (windows*k,) every position
    reached = np.zeros(n_in, dtype=bool)
    reached[read[(read >= 0) & (read < n_in)]] = True
    return reached


def _reach_back(layer, reach, in_shape):
    """The input positions of ``layer`` that lead to the unit, from its output's.

    For (C, H, W) maps reach is (rows (H,) bool, cols (W,) bool): a pixel leads
    to the unit when its row and its column do, whatever its channel (every
    layer here either mixes all channels or keeps each). For (features,) vectors
    reach is one feature index, or None for all features.
    """
    window = _window(layer)
    if window is not None:
        (kh, kw), (sh, sw), (ph, pw) = window
        rows, cols = reach
        return (_window_back(rows, kh, sh, ph, in_shape[1]),
                _window_back(cols, kw, sw, pw, in_shape[2]))
    if isinstance(layer, Linear):
        return None  # every output of a dense layer reads every input feature
    if isinstance(layer, Flatten) and len(in_shape) == 3:
        if reach is None:
            return np.ones(in_shape[1], bool), np.ones(in_shape[2], bool)
        _, row, col = np.unravel_index(reach, in_shape)  # feature = (c*H + row)*W + col
        return np.arange(in_shape[1]) == row, np.arange(in_shape[2]) == col
    # ReLU, BatchNorm and Dropout work pixel by pixel (Flatten of a vector is a
    # no-op): each output position reads the same input position.
    return reach


def receptive_field(model, layer_index, row, col):
    """The box of input pixels that can reach one unit: (top, left, bottom, right).

    layer_index counts the Sequential's layers from 0; (row, col) is the unit's
    position in that layer's output for a 28x28 image (any channel: the field is the
    same). For a layer whose output is a vector (Flatten, Linear and what follows
    them) row is 0 and col the feature index. bottom and right are exclusive, so the
    unit sees x[top:bottom, left:right]; padding is clipped off, so the box lies in
    0..28. Worked out from kernel sizes, strides and paddings, not from any image:
    every pixel inside can reach the unit for some input. A unit that only sees
    padding has the empty box (0, 0, 0, 0).
    """
    steps = _check_model(model, "receptive_field")
    layer_index = _check_range(layer_index, "layer_index", 0, len(steps) - 1,
                               f" (the model has {len(steps)} layers)")
    # Each layer's output shape for a 28x28 image, from a forward of a blank image
    # up to that layer (this also checks that the layers fit together).
    blank = np.zeros((1, 1, *IMAGE_SHAPE))
    shapes = [(1, *IMAGE_SHAPE)] + [
        out.shape[1:]
        for out, _ in islice(_layer_passes(model, steps, blank), layer_index + 1)
    ]  # shapes[i] is the input of layer i, shapes[-1] the output of layer_index
    shape = shapes[-1]
    if len(shape) == 3:
        _, height, width = shape
        row = _check_range(row, "row", 0, height - 1, f" (layer {layer_index} "
                           f"gives maps of shape {shape})")
        col = _check_range(col, "col", 0, width - 1, f" (layer {layer_index} "
                           f"gives maps of shape {shape})")
        reach = np.arange(height) == row, np.arange(width) == col
    else:
        if not _is_whole(row) or row != 0:
            raise ValueError(f"row must be 0 for layer {layer_index}: it gives a "
                             f"vector of shape {shape}, and col picks the feature; "
                             f"got {row!r}")
        col = _check_range(col, "col", 0, shape[0] - 1, f" (the feature of layer "
                           f"{layer_index}'s output, shape {shape})")
        reach = col
    for i in reversed(range(layer_index + 1)):
        reach = _reach_back(model.layers[i], reach, shapes[i])
    rows, cols = (np.flatnonzero(axis) for axis in reach)
    if rows.size == 0 or cols.size == 0:
        return (0, 0, 0, 0)
    return (int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1)


def unit_gradient(model, x, layer_index, channel, row, col):
    """d(unit) / dx: how one unit of a layer changes with each input pixel, (28, 28).

    layer_index counts the Sequential's layers from 0; the unit is map ``channel``
    at (row, col) of that layer's output for image x (28, 28); for a layer whose
    output is a vector, channel is the feature and row and col are 0. Where this
    is large is the unit's effective receptive field: the pixels that move it
    for this image, always inside receptive_field's box. Bad input raises
    ValueError saying what is wrong; the model is left as it was.
    """
    steps = _check_model(model, "unit_gradient")
    layer_index = _check_range(layer_index, "layer_index", 0, len(steps) - 1,
                               f" (the model has {len(steps)} layers)")
    h = _check_image(x).reshape(1, 1, *IMAGE_SHAPE)  # (N=1, C=1, 28, 28)
    passes = list(islice(_layer_passes(model, steps, h), layer_index + 1))
    out = passes[-1][0]  # the output of the unit's layer, (1, ...)
    backs = [back for _, back in passes]
    shape = out.shape[1:]
    hint = f" (layer {layer_index} gives shape {shape})"
    if len(shape) == 3:
        index = (_check_range(channel, "channel", 0, shape[0] - 1, hint),
                 _check_range(row, "row", 0, shape[1] - 1, hint),
                 _check_range(col, "col", 0, shape[2] - 1, hint))
    else:
        _check_range(row, "row", 0, 0, hint)
        _check_range(col, "col", 0, 0, hint)
        index = (_check_range(channel, "channel", 0, shape[0] - 1, hint),)
    d = np.zeros_like(out)  # d(unit) / d(output): 1 at the unit, 0 elsewhere
    d[(0, *index)] = 1.0
    dx, _ = _backward(backs, d)
    return np.array(dx.reshape(IMAGE_SHAPE))
