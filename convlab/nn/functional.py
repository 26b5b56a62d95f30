"""Vectorized forward and backward passes of every layer, as pure NumPy functions."""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

SIZE_FORMULA = "out = (n + 2*padding - k) // stride + 1"


def _pair(value, name):
    """Turn an int or an (h, w) pair into a tuple of two Python ints."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or an (h, w) pair, got {value!r}")
        return int(value[0]), int(value[1])
    return int(value), int(value)


def conv_output_size(n, k, stride, padding):
    """Size of one spatial side after a convolution or pooling window slides over it.

    n is the input side, k the kernel side. Raises ValueError, naming the numbers and
    the formula, when the setting is impossible.
    """
    if stride < 1:
        raise ValueError(f"stride must be >= 1, got stride={stride} ({SIZE_FORMULA})")
    if padding < 0:
        raise ValueError(
            f"padding must be >= 0, got padding={padding} ({SIZE_FORMULA})"
        )
    if k < 1:
        raise ValueError(f"kernel size must be >= 1, got k={k} ({SIZE_FORMULA})")
    if n < 1:
        raise ValueError(f"input size must be >= 1, got n={n} ({SIZE_FORMULA})")
    if k > n + 2 * padding:
        raise ValueError(
            f"kernel size k={k} is larger than the padded input "
            f"n + 2*padding = {n} + 2*{padding} = {n + 2 * padding}, so "
            f"{SIZE_FORMULA} would be {(n + 2 * padding - k) // stride + 1} < 1"
        )
    return (n + 2 * padding - k) // stride + 1


def _check_4d(x, name="x"):
    if x.ndim != 4:
        raise ValueError(f"{name} must be 4-D (N, C, H, W), got shape {x.shape}")


def _pad(x, ph, pw):
    """Zero-pad the two spatial axes: (N, C, H, W) -> (N, C, H+2ph, W+2pw)."""
    if ph == 0 and pw == 0:
        return x
    N, C, H, W = x.shape
    x_pad = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=x.dtype)
    x_pad[:, :, ph : ph + H, pw : pw + W] = x
    return x_pad


def _windows(x, kh, kw, sh, sw, out_h, out_w):
    """Every kh x kw window as a view (no copy): (N, C, out_h, out_w, kh, kw)."""
    # (N, C, H-kh+1, W-kw+1, kh, kw): every stride-1 window, then keep every stride-th.
    win = sliding_window_view(x, (kh, kw), axis=(2, 3))
    return win[:, :, : (out_h - 1) * sh + 1 : sh, : (out_w - 1) * sw + 1 : sw]


def _im2col(x_pad, kh, kw, sh, sw, out_h, out_w):
    """Copy every window into one matrix so a convolution becomes one matmul.

    x_pad (N, C, Hp, Wp) -> cols (C*kh*kw, N*out_h*out_w). Rows run over the kernel
    entries, columns over output pixels, so `w.reshape(F, -1) @ cols` is the conv.
    """
    N, C = x_pad.shape[:2]
    win = _windows(x_pad, kh, kw, sh, sw, out_h, out_w)  # (N, C, out_h, out_w, kh, kw)
    # (C, kh, kw, N, out_h, out_w): the copy reads whole output rows at a time.
    cols = np.ascontiguousarray(win.transpose(1, 4, 5, 0, 2, 3))
    return cols.reshape(C * kh * kw, N * out_h * out_w)


def _col2im(dcols, x_shape, kh, kw, sh, sw, ph, pw, out_h, out_w):
    """Inverse of _im2col for gradients: add every column back where it was read from.

    dcols (C*kh*kw, N*out_h*out_w) -> dx (N, C, H, W). Overlapping windows add up.
    One slice-add per kernel offset (kh*kw of them), never one per pixel.
    """
    N, C, H, W = x_shape
    # (C, N, Hp, Wp) memory order matches dcols' (C, ..., N, out_h, out_w) blocks.
    dx_pad = np.zeros((C, N, H + 2 * ph, W + 2 * pw), dtype=dcols.dtype)
    dcols = dcols.reshape(C, kh, kw, N, out_h, out_w)  # (C, kh, kw, N, out_h, out_w)
    for i in range(kh):
        for j in range(kw):
            dx_pad[:, :, i : i + sh * out_h : sh, j : j + sw * out_w : sw] += dcols[
                :, i, j
            ]
    dx = dx_pad[:, :, ph : ph + H, pw : pw + W]  # (C, N, H, W)
    return dx.transpose(1, 0, 2, 3)  # (N, C, H, W)


def conv2d_forward(x, w, b, stride=1, padding=0):
    """2-D convolution (really cross-correlation, as in PyTorch).

    x (N, C, H, W), w (F, C, kh, kw), b (F,) or None -> out (N, F, out_h, out_w), cache.
    Each output side follows out = (n + 2*padding - k) // stride + 1; stride and padding
    are an int or an (h, w) pair. Impossible settings raise ValueError.
    """
    _check_4d(x)
    _check_4d(w, "w")
    N, C, H, W = x.shape
    F, Cw, kh, kw = w.shape
    if Cw != C:
        raise ValueError(
            f"channel mismatch: x has C={C} channels but w expects {Cw} "
            f"(w.shape = {w.shape} is (F, C, kh, kw))"
        )
    if b is not None and b.shape != (F,):
        raise ValueError(f"b must have shape ({F},), got {b.shape}")
    sh, sw = _pair(stride, "stride")
    ph, pw = _pair(padding, "padding")
    out_h = conv_output_size(H, kh, sh, ph)
    out_w = conv_output_size(W, kw, sw, pw)

    cols = _im2col(_pad(x, ph, pw), kh, kw, sh, sw, out_h, out_w)
    w2 = w.reshape(F, C * kh * kw)  # (F, C*kh*kw)
    out = w2 @ cols  # (F, N*out_h*out_w)
    if b is not None:
        out += b[:, None]
    # (N, F, out_h, out_w) as a view of the (F, N, ...) result: no copy needed.
    out = out.reshape(F, N, out_h, out_w).transpose(1, 0, 2, 3)
    cache = (x.shape, w, b is not None, cols, (sh, sw), (ph, pw))
    return out, cache


def conv2d_backward(dout, cache, need_dx=True):
    """Gradients of conv2d_forward.

    dout (N, F, out_h, out_w) -> dx (N, C, H, W) or None when need_dx is False (the
    first layer's input gradient is never used, so we skip its cost), dw (F, C, kh, kw),
    db (F,) or None when the layer has no bias.
    """
    x_shape, w, has_bias, cols, (sh, sw), (ph, pw) = cache
    N, F, out_h, out_w = dout.shape
    _, C, kh, kw = w.shape
    # (F, N*out_h*out_w): free when dout has the layout conv2d_forward produced.
    dout2 = dout.transpose(1, 0, 2, 3).reshape(F, N * out_h * out_w)
    dw = (dout2 @ cols.T).reshape(w.shape)  # (F, C*kh*kw) -> (F, C, kh, kw)
    db = dout2.sum(axis=1) if has_bias else None
    dx = None
    if need_dx:
        dcols = w.reshape(F, C * kh * kw).T @ dout2  # (C*kh*kw, N*out_h*out_w)
        dx = _col2im(dcols, x_shape, kh, kw, sh, sw, ph, pw, out_h, out_w)
    return dx, dw, db


def _pool_setup(x, kernel_size, stride):
    _check_4d(x)
    kh, kw = _pair(kernel_size, "kernel_size")
    sh, sw = (kh, kw) if stride is None else _pair(stride, "stride")
    N, C, H, W = x.shape
    out_h = conv_output_size(H, kh, sh, 0)
    out_w = conv_output_size(W, kw, sw, 0)
    return kh, kw, sh, sw, out_h, out_w


def _tiles(x, kh, kw, out_h, out_w):
    """Non-overlapping windows by reshape (a view): (N, C, out_h, kh, out_w, kw)."""
    N, C = x.shape[:2]
    # Rows/columns that no window covers (e.g. the 11th of 11 with 2x2 pooling) are cut.
    x = x[:, :, : out_h * kh, : out_w * kw]
    return x.reshape(N, C, out_h, kh, out_w, kw)  # (N, C, out_h, kh, out_w, kw)


def max_pool2d_forward(x, kernel_size, stride=None):
    """Max pooling. x (N, C, H, W) -> out (N, C, out_h, out_w), cache.

    kernel_size and stride are an int or an (h, w) pair; stride None means kernel_size.
    When several entries of a window tie for the maximum, the gradient goes to the first
    one in row-major order, as in PyTorch and the reference loops.
    """
    kh, kw, sh, sw, out_h, out_w = _pool_setup(x, kernel_size, stride)
    if (sh, sw) == (kh, kw):
        tiles = _tiles(x, kh, kw, out_h, out_w)  # (N, C, out_h, kh, out_w, kw)
        out = tiles.max(axis=(3, 5))
        # mask marks, in every window, the first entry equal to the max.
        mask = np.zeros(tiles.shape, dtype=bool)
        taken = np.zeros(out.shape, dtype=bool)
        for i in range(kh):
            for j in range(kw):
                hit = mask[:, :, :, i, :, j]
                np.equal(tiles[:, :, :, i, :, j], out, out=hit)
                hit &= ~taken
                taken |= hit
        return out, ("tiles", x.shape, mask, (kh, kw), (sh, sw))
    win = _windows(x, kh, kw, sh, sw, out_h, out_w)  # (N, C, out_h, out_w, kh, kw)
    N, C = x.shape[:2]
    flat = win.reshape(N, C, out_h, out_w, kh * kw)  # (N, C, out_h, out_w, kh*kw) copy
    arg = flat.argmax(axis=4)  # (N, C, out_h, out_w): first max wins ties
    out = np.take_along_axis(flat, arg[..., None], axis=4)[..., 0]
    return out, ("windows", x.shape, arg, (kh, kw), (sh, sw))


def max_pool2d_backward(dout, cache):
    """Gradient of max_pool2d_forward: dout (N, C, out_h, out_w) -> dx (N, C, H, W)."""
    kind, x_shape, picked, (kh, kw), (sh, sw) = cache
    N, C, out_h, out_w = dout.shape
    dx = np.zeros(x_shape, dtype=dout.dtype)
    if kind == "tiles":
        dx_tiles = _tiles(dx, kh, kw, out_h, out_w)  # view into dx
        np.multiply(picked, dout[:, :, :, None, :, None], out=dx_tiles)
        return dx
    # Overlapping windows: one slice-add per kernel offset routes dout to the winners.
    for i in range(kh):
        for j in range(kw):
            dx[:, :, i : i + sh * out_h : sh, j : j + sw * out_w : sw] += np.where(
                picked == i * kw + j, dout, 0
            )
    return dx


def avg_pool2d_forward(x, kernel_size, stride=None):
    """Average pooling. x (N, C, H, W) -> out (N, C, out_h, out_w), cache.

    kernel_size and stride are an int or an (h, w) pair; stride None means kernel_size.
    """
    kh, kw, sh, sw, out_h, out_w = _pool_setup(x, kernel_size, stride)
    if (sh, sw) == (kh, kw):
        out = _tiles(x, kh, kw, out_h, out_w).mean(axis=(3, 5))
    else:
        out = _windows(x, kh, kw, sh, sw, out_h, out_w).mean(axis=(4, 5))
    return out.astype(x.dtype, copy=False), (x.shape, (kh, kw), (sh, sw))


def avg_pool2d_backward(dout, cache):
    """Gradient of avg_pool2d_forward: dout (N, C, out_h, out_w) -> dx (N, C, H, W)."""
    x_shape, (kh, kw), (sh, sw) = cache
    N, C, out_h, out_w = dout.shape
    share = dout / (kh * kw)  # every window entry gets an equal share
    dx = np.zeros(x_shape, dtype=dout.dtype)
    if (sh, sw) == (kh, kw):
        dx_tiles = _tiles(dx, kh, kw, out_h, out_w)  # view into dx
        dx_tiles[...] = share[:, :, :, None, :, None]
        return dx
    for i in range(kh):
        for j in range(kw):
            dx[:, :, i : i + sh * out_h : sh, j : j + sw * out_w : sw] += share
    return dx


def relu_forward(x):
    """ReLU: x (any shape) -> out = max(x, 0) (same shape), cache."""
    out = np.maximum(x, 0)
    return out, out


def relu_backward(dout, cache):
    """Gradient of relu_forward: passes dout where the output was positive."""
    out = cache
    return np.where(out > 0, dout, 0).astype(dout.dtype, copy=False)


def linear_forward(x, w, b):
    """Fully connected layer, weights laid out as in PyTorch.

    x (N, D_in), w (D_out, D_in), b (D_out,) or None -> out (N, D_out), cache.
    """
    if x.ndim != 2 or w.ndim != 2 or x.shape[1] != w.shape[1]:
        raise ValueError(
            f"linear expects x (N, D_in) and w (D_out, D_in) with matching D_in, "
            f"got x {x.shape} and w {w.shape}"
        )
    out = x @ w.T  # (N, D_out)
    if b is not None:
        out += b
    return out, (x, w, b is not None)


def linear_backward(dout, cache):
    """Gradients of linear_forward.

    dout (N, D_out) -> dx (N, D_in), dw (D_out, D_in), db (D_out,) or None.
    """
    x, w, has_bias = cache
    dx = dout @ w  # (N, D_in)
    dw = dout.T @ x  # (D_out, D_in)
    db = dout.sum(axis=0) if has_bias else None
    return dx, dw, db


def batch_norm2d_forward(
    x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5
):
    """Batch normalization over (N, H, W) per channel.

    x (N, C, H, W), gamma/beta/running_mean/running_var (C,) -> out (N, C, H, W), cache.
    In training the batch statistics normalize x and running_mean/running_var are
    updated in place (the running variance uses the unbiased estimate, as in PyTorch);
    in eval the running statistics are used.
    """
    _check_4d(x)
    N, C, H, W = x.shape
    if gamma.shape != (C,):
        raise ValueError(f"gamma must have shape ({C},), got {gamma.shape}")
    if training:
        m = N * H * W
        if m < 2:
            raise ValueError(
                f"batch norm in training needs more than one value per channel, "
                f"got N*H*W = {N}*{H}*{W} = {m}"
            )
        mean = x.mean(axis=(0, 2, 3))  # (C,)
        xc = x - mean[:, None, None]  # (N, C, H, W)
        var = np.mean(xc * xc, axis=(0, 2, 3))  # (C,) biased, used to normalize
        running_mean *= 1 - momentum
        running_mean += momentum * mean
        running_var *= 1 - momentum
        running_var += momentum * var * (m / (m - 1))
    else:
        mean = running_mean.astype(x.dtype, copy=False)
        var = running_var.astype(x.dtype, copy=False)
        xc = x - mean[:, None, None]
    inv_std = (1.0 / np.sqrt(var + eps)).astype(x.dtype, copy=False)  # (C,)
    x_hat = xc * inv_std[:, None, None]  # (N, C, H, W)
    out = x_hat * gamma[:, None, None] + beta[:, None, None]
    return out, (x_hat, gamma, inv_std, training)


def batch_norm2d_backward(dout, cache):
    """Gradients of batch_norm2d_forward.

    dout (N, C, H, W) -> dx (N, C, H, W), dgamma (C,), dbeta (C,).
    """
    x_hat, gamma, inv_std, training = cache
    N, C, H, W = dout.shape
    dbeta = dout.sum(axis=(0, 2, 3))
    dgamma = (dout * x_hat).sum(axis=(0, 2, 3))
    scale = (gamma * inv_std)[:, None, None]  # (C, 1, 1)
    if not training:
        # Running statistics are constants, so the layer is a per-channel affine map.
        return dout * scale, dgamma, dbeta
    m = N * H * W
    # The batch mean and variance depend on every x, which adds the two centring terms.
    dx = scale * (
        dout - (dbeta / m)[:, None, None] - x_hat * (dgamma / m)[:, None, None]
    )
    return dx, dgamma, dbeta


def dropout_forward(x, p, training, rng):
    """Inverted dropout: x (any shape) -> out (same shape), cache.

    In training each entry is zeroed with probability p and survivors are scaled by
    1/(1-p), so eval needs no rescaling; in eval (or p == 0) out is x.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability p must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return x, None
    if p == 1.0:
        mask = np.zeros_like(x)
    else:
        keep = rng.random(x.shape, dtype=np.float64) >= p
        mask = keep.astype(x.dtype) * x.dtype.type(1.0 / (1.0 - p))
    return x * mask, mask


def dropout_backward(dout, cache):
    """Gradient of dropout_forward: dout (any shape) -> dx (same shape)."""
    mask = cache
    return dout if mask is None else dout * mask


def softmax(logits):
    """Row-wise softmax: logits (N, K) -> probs (N, K), numerically stable."""
    shifted = logits - logits.max(axis=1, keepdims=True)  # largest entry becomes 0
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


def softmax_cross_entropy(logits, y):
    """Mean cross-entropy of softmax(logits) against integer labels.

    logits (N, K), y int (N,) -> (loss: float, dlogits (N, K)).
    """
    N, K = logits.shape
    y = np.asarray(y)
    if y.shape != (N,) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(
            f"y must be integer labels of shape ({N},), got {y.shape} {y.dtype}"
        )
    if N and (y.min() < 0 or y.max() >= K):
        raise ValueError(f"labels must lie in [0, {K - 1}], got {y.min()}..{y.max()}")
    shifted = logits - logits.max(axis=1, keepdims=True)  # (N, K)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(N)
    loss = -float(log_probs[rows, y].mean())
    dlogits = np.exp(log_probs)  # softmax probabilities
    dlogits[rows, y] -= 1
    dlogits /= N
    return loss, dlogits.astype(logits.dtype, copy=False)
