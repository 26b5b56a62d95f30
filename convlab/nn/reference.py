"""Slow, readable loops for convolution and pooling: the oracle for the fast code."""

import numpy as np

from convlab.nn.functional import as_pair, conv_output_size


def zero_pad(x, padding):
    """Surround every image with zeros.

    x (N, C, H, W), padding int or (ph, pw) -> (N, C, H + 2*ph, W + 2*pw).
    """
    ph, pw = as_pair(padding, "padding")
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), mode="constant")


def conv_single_step(a_slice, w, b):
    """One output value: the filter laid over one window of the input.

    a_slice (C, kh, kw), w (C, kh, kw), b scalar -> float. Multiply the window and the
    filter entry by entry, add everything up, then add the bias.
    """
    return float(np.sum(a_slice * w) + float(b))


def conv_forward(x, w, b, stride=1, padding=0):
    """Convolution, one output value at a time.

    x (N, C, H, W), w (F, C, kh, kw), b (F,) or None -> out (N, F, out_h, out_w), cache.
    Sizes follow out = (n + 2*padding - k) // stride + 1.
    """
    N, C, H, W = x.shape
    F, Cw, kh, kw = w.shape
    if Cw != C:
        raise ValueError(f"channel mismatch: x has C={C} channels but w expects {Cw}")
    sh, sw = as_pair(stride, "stride")
    ph, pw = as_pair(padding, "padding")
    out_h = conv_output_size(H, kh, sh, ph)
    out_w = conv_output_size(W, kw, sw, pw)
    x_pad = zero_pad(x, (ph, pw))
    out = np.zeros((N, F, out_h, out_w), dtype=np.result_type(x, w))
    for n in range(N):  # every image
        for f in range(F):  # every filter
            bias = 0.0 if b is None else b[f]
            for i in range(out_h):  # every output row
                for j in range(out_w):  # every output column
                    # The window this output value sees, top-left corner at (top, left).
                    top, left = i * sh, j * sw
                    a_slice = x_pad[n, :, top : top + kh, left : left + kw]
                    out[n, f, i, j] = conv_single_step(a_slice, w[f], bias)
    cache = (x, w, b, (sh, sw), (ph, pw))
    return out, cache


def conv_backward(dout, cache):
    """Gradients of conv_forward, one output value at a time.

    dout (N, F, out_h, out_w) -> dx (N, C, H, W), dw (F, C, kh, kw), db (F,) or None.
    Every output value was window * filter, so it sends dout * filter back to its window
    and dout * window to the filter.
    """
    x, w, b, (sh, sw), (ph, pw) = cache
    N, C, H, W = x.shape
    F, _, kh, kw = w.shape
    _, _, out_h, out_w = dout.shape
    x_pad = zero_pad(x, (ph, pw))
    dx_pad = np.zeros_like(x_pad)
    dw = np.zeros_like(w)
    db = None if b is None else np.zeros_like(b)
    for n in range(N):
        for f in range(F):
            for i in range(out_h):
                for j in range(out_w):
                    top, left = i * sh, j * sw
                    a_slice = x_pad[n, :, top : top + kh, left : left + kw]
                    g = dout[n, f, i, j]
                    dx_pad[n, :, top : top + kh, left : left + kw] += w[f] * g
                    dw[f] += a_slice * g
                    if db is not None:
                        db[f] += g
    # The padding is not part of the input, so its gradient is dropped.
    dx = dx_pad[:, :, ph : ph + H, pw : pw + W]
    return dx, dw, db


def create_mask_from_window(window):
    """Where the maximum of a window is: window (kh, kw) -> bool mask (kh, kw).

    Exactly one entry is True. When several entries tie for the maximum, the first one
    in row-major order wins, as in PyTorch, so the gradient is not counted twice.
    """
    mask = np.zeros(window.shape, dtype=bool)
    first = np.unravel_index(np.argmax(window), window.shape)
    mask[first] = True
    return mask


def distribute_value(dz, shape):
    """Share a gradient equally over a window: dz scalar, shape (kh, kw) -> (kh, kw).

    Every entry of an average-pooling window counted 1/(kh*kw) in the mean.
    """
    kh, kw = shape
    return np.full(shape, dz / (kh * kw))


def pool_forward(x, kernel_size, stride=None, mode="max"):
    """Max or average pooling, one output value at a time.

    x (N, C, H, W) -> out (N, C, out_h, out_w), cache. kernel_size and stride are an
    int or (h, w) pair; stride None means kernel_size; mode is "max" or "average".
    """
    if mode not in ("max", "average"):
        raise ValueError(f'mode must be "max" or "average", got {mode!r}')
    N, C, H, W = x.shape
    kh, kw = as_pair(kernel_size, "kernel_size")
    sh, sw = (kh, kw) if stride is None else as_pair(stride, "stride")
    out_h = conv_output_size(H, kh, sh, 0)
    out_w = conv_output_size(W, kw, sw, 0)
    out = np.zeros((N, C, out_h, out_w), dtype=x.dtype)
    for n in range(N):
        for c in range(C):  # pooling works on each channel separately
            for i in range(out_h):
                for j in range(out_w):
                    top, left = i * sh, j * sw
                    window = x[n, c, top : top + kh, left : left + kw]
                    out[n, c, i, j] = window.max() if mode == "max" else window.mean()
    cache = (x, (kh, kw), (sh, sw), mode)
    return out, cache


def pool_backward(dout, cache):
    """Gradient of pool_forward: dout (N, C, out_h, out_w) -> dx (N, C, H, W).

    Max pooling sends each gradient to the window's maximum; average pooling shares it
    equally. Overlapping windows add their contributions.
    """
    x, (kh, kw), (sh, sw), mode = cache
    N, C, out_h, out_w = dout.shape
    dx = np.zeros(x.shape, dtype=dout.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(out_h):
                for j in range(out_w):
                    top, left = i * sh, j * sw
                    g = dout[n, c, i, j]
                    if mode == "max":
                        window = x[n, c, top : top + kh, left : left + kw]
                        share = create_mask_from_window(window) * g
                    else:
                        share = distribute_value(g, (kh, kw))
                    dx[n, c, top : top + kh, left : left + kw] += share
    return dx
