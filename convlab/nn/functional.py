"""Vectorized forward and backward passes of every layer, as pure NumPy functions.

Outputs are NCHW views of arrays stored as (H, W, N, C); im2col.py says why.
"""

import numpy as np

from convlab.nn.im2col import SHORT_RUN, Windows, input_grad, offset, to_hwnc

SIZE_FORMULA = "out = (n + 2*padding - k) // stride + 1"


def as_pair(value, name):
    """An int or an (h, w) pair as two Python ints, like PyTorch's arguments."""
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
    sh, sw = as_pair(stride, "stride")
    ph, pw = as_pair(padding, "padding")
    out_h = conv_output_size(H, kh, sh, ph)
    out_w = conv_output_size(W, kw, sw, pw)

    windows = Windows(x, (kh, kw), (sh, sw), (ph, pw), (out_h, out_w))
    has_bias = b is not None
    K = kh * kw * C
    # The weights in the (kh, kw, C) order of a row of im2col, and the bias as the
    # weight of its ones column: (F, kh*kw*C [+ 1]), made in one copy.
    w_cols = np.empty((F, K + has_bias),
                      dtype=np.result_type(w, b) if has_bias else w.dtype)
    w_cols[:, :K].reshape(F, kh, kw, C)[...] = w.transpose(0, 2, 3, 1)
    if has_bias:
        w_cols[:, K] = b
    out = np.empty((out_h, out_w, N, F), dtype=np.result_type(x, w_cols))
    for band in windows.bands:
        ones_column = has_bias and band.i1 == kh
        cols = windows.cols(band, ones_column)  # (rows*out_w*N, part of K [+ 1])
        w_part = w_cols[:, _band_columns(band, kw * C, ones_column)]
        target = out[band.r0 : band.r1].reshape(-1, F)  # (rows*out_w*N, F)
        if band.i0 == 0:
            np.matmul(cols, w_part.T, out=target)
        else:
            target += cols @ w_part.T
    # (N, F, out_h, out_w) as a view of the (out_h, out_w, N, F) result: no copy.
    out = out.transpose(2, 3, 0, 1)
    kept_cols = cols if len(windows.bands) == 1 else None
    cache = (windows, kept_cols, (H, W), w_cols, has_bias, (ph, pw))
    return out, cache


def _band_columns(band, row_len, ones_column):
    """The im2col columns of a Band: its kernel rows' row_len = kw*C columns each,
    then the ones column (the last, K) when it has it."""
    return slice(band.i0 * row_len, band.i1 * row_len + ones_column)


def conv2d_backward(dout, cache, need_dx=True, need_dw=True):
    """Gradients of conv2d_forward.

    dout (N, F, out_h, out_w) -> dx (N, C, H, W) or None when need_dx is False (the
    first layer's input gradient is never used, so we skip its cost), dw (F, C, kh, kw),
    db (F,) or None when the layer has no bias. need_dw=False skips the weight and bias
    gradients (dw and db are None), for callers that only want dx, such as saliency.
    """
    windows, kept_cols, in_size, w_cols, has_bias, padding = cache
    N, F, out_h, out_w = dout.shape
    kh, kw = windows.kernel
    K = w_cols.shape[1] - has_bias
    C = K // (kh * kw)
    # (out_h, out_w, N, F): free when dout has the layout conv2d_forward produced.
    dout_t = to_hwnc(dout)
    dw = db = dx = None
    if need_dw:
        grads = np.zeros((K + has_bias, F), dtype=dout_t.dtype)
        for band in windows.bands:
            ones_column = has_bias and band.i1 == kh
            cols = kept_cols
            if cols is None:
                cols = windows.cols(band, ones_column)  # (rows*out_w*N, part [+ 1])
            dout2 = dout_t[band.r0 : band.r1].reshape(-1, F)  # (rows*out_w*N, F)
            # grads[k, f] = sum over output pixels p of cols[p, k] * dout2[p, f];
            # the row of the ones column is the bias gradient, the sum of dout2.
            grads[_band_columns(band, kw * C, ones_column)] += cols.T @ dout2
        # (F, C, kh, kw), contiguous
        dw = np.ascontiguousarray(
            grads[:K].T.reshape(F, kh, kw, C).transpose(0, 3, 1, 2)
        )
        db = grads[K].copy() if has_bias else None
    if need_dx:
        # (kh, kw, F, C): the weights of each kernel offset as one matrix.
        w_t = np.ascontiguousarray(
            w_cols[:, :K].reshape(F, kh, kw, C).transpose(1, 2, 0, 3)
        )
        dx_hwnc = input_grad(dout_t, w_t, in_size, windows.stride, padding)
        dx = dx_hwnc.transpose(2, 3, 0, 1)  # (N, C, H, W)
    return dx, dw, db


def _pool_setup(x, kernel_size, stride):
    _check_4d(x)
    kh, kw = as_pair(kernel_size, "kernel_size")
    sh, sw = (kh, kw) if stride is None else as_pair(stride, "stride")
    N, C, H, W = x.shape
    out_h = conv_output_size(H, kh, sh, 0)
    out_w = conv_output_size(W, kw, sw, 0)
    return kh, kw, sh, sw, out_h, out_w


def _entries(xt, i, j, sh, sw, out_h, out_w):
    """Entry (i, j) of every pooling window of xt (H, W, N, C), for arithmetic.

    The strided view when its contiguous runs are long, else a contiguous copy: one
    plain copy and contiguous maths beat maths on runs shorter than SHORT_RUN.
    """
    v = offset(xt, i, j, sh, sw, out_h, out_w)  # (out_h, out_w, N, C)
    _, _, N, C = xt.shape
    run = N * C * (out_w if sw == 1 else 1)
    return np.ascontiguousarray(v) if run < SHORT_RUN else v


def max_pool2d_forward(x, kernel_size, stride=None, keep_argmax=True):
    """Max pooling. x (N, C, H, W) -> out (N, C, out_h, out_w), cache.

    kernel_size and stride are an int or an (h, w) pair; stride None means kernel_size.
    When several entries of a window tie for the maximum, the gradient goes to the first
    one in row-major order, as in PyTorch and the reference loops. keep_argmax=False,
    for inference, skips finding where each maximum was; cache is then None.
    """
    kh, kw, sh, sw, out_h, out_w = _pool_setup(x, kernel_size, stride)
    xt = x.transpose(2, 3, 0, 1)  # (H, W, N, C) view, contiguous for conv outputs
    # Walk through the kh*kw window entries, keeping the running max of every window
    # and `arg`, the entry number where it was found. Only a strictly larger value
    # takes over, so ties keep the first entry.
    # (out_h, out_w, N, C), stored in the same memory order as x.
    out = offset(xt, 0, 0, sh, sw, out_h, out_w).copy(order="K")
    if keep_argmax:
        arg = np.zeros_like(out, dtype=np.min_scalar_type(kh * kw - 1))
    for k in range(1, kh * kw):
        v = _entries(xt, k // kw, k % kw, sh, sw, out_h, out_w)
        if keep_argmax:
            larger = v > out
        np.maximum(out, v, out=out)
        if keep_argmax:
            # k is bigger than every entry number so far: max() writes k where larger.
            np.maximum(arg, larger * arg.dtype.type(k), out=arg)
    cache = (x.shape, arg, (kh, kw), (sh, sw)) if keep_argmax else None
    return out.transpose(2, 3, 0, 1), cache  # (N, C, out_h, out_w)


def max_pool2d_backward(dout, cache):
    """Gradient of max_pool2d_forward: dout (N, C, out_h, out_w) -> dx (N, C, H, W)."""
    (N, C, H, W), arg, (kh, kw), (sh, sw) = cache
    out_h, out_w = arg.shape[:2]
    # (out_h, out_w, N, C); a copy only when dout comes in another layout (after
    # Flatten), so the kh*kw passes below read contiguous memory.
    dout_t = to_hwnc(dout)
    overlapping = sh < kh or sw < kw
    # When the windows tile the input exactly (2x2 pooling of 26x26), the loop below
    # writes every entry, so the array need not be zeroed first.
    tiled = (sh, sw) == (kh, kw) and (out_h * kh, out_w * kw) == (H, W)
    dx = (np.empty if tiled else np.zeros)((H, W, N, C), dtype=dout.dtype)
    for k in range(kh * kw):
        # Each window sends its gradient to the entry that held its max.
        target = offset(dx, k // kw, k % kw, sh, sw, out_h, out_w)
        if overlapping:
            target += dout_t * (arg == k)
        else:
            np.multiply(dout_t, arg == k, out=target)
    return dx.transpose(2, 3, 0, 1)  # (N, C, H, W)


def avg_pool2d_forward(x, kernel_size, stride=None):
    """Average pooling. x (N, C, H, W) -> out (N, C, out_h, out_w), cache.

    kernel_size and stride are an int or an (h, w) pair; stride None means kernel_size.
    """
    kh, kw, sh, sw, out_h, out_w = _pool_setup(x, kernel_size, stride)
    xt = x.transpose(2, 3, 0, 1)  # (H, W, N, C)
    # (out_h, out_w, N, C), stored in the same memory order as x.
    out = offset(xt, 0, 0, sh, sw, out_h, out_w).copy(order="K")
    for k in range(1, kh * kw):
        out += _entries(xt, k // kw, k % kw, sh, sw, out_h, out_w)
    out *= out.dtype.type(1.0 / (kh * kw))
    return out.transpose(2, 3, 0, 1), (x.shape, (kh, kw), (sh, sw))


def avg_pool2d_backward(dout, cache):
    """Gradient of avg_pool2d_forward: dout (N, C, out_h, out_w) -> dx (N, C, H, W)."""
    (N, C, H, W), (kh, kw), (sh, sw) = cache
    _, _, out_h, out_w = dout.shape
    # Every window entry counted 1/(kh*kw) in the mean, so it gets that share back.
    # (out_h, out_w, N, C); one transposing copy when dout comes after Flatten.
    share = to_hwnc(dout) * dout.dtype.type(1.0 / (kh * kw))
    # Windows that do not overlap get their shares by plain copies (no adds), and
    # when they tile the input exactly nothing is left to zero (as in max pooling).
    overlapping = sh < kh or sw < kw
    tiled = (sh, sw) == (kh, kw) and (out_h * kh, out_w * kw) == (H, W)
    dx = (np.empty if tiled else np.zeros)((H, W, N, C), dtype=dout.dtype)
    for k in range(kh * kw):
        target = offset(dx, k // kw, k % kw, sh, sw, out_h, out_w)
        if overlapping:
            target += share
        else:
            np.copyto(target, share)
    return dx.transpose(2, 3, 0, 1)  # (N, C, H, W)


def _memory_order(x):
    """x's axes in the order they lie in memory, as a C-contiguous array.

    -> (xm, back): xm = x.transpose(axes) and xm.transpose(back) is x again. Layer
    outputs are transposed views of (H, W, N, C) arrays, so xm is a free view for
    them, and elementwise work on xm runs through one contiguous block. Other arrays
    are copied.
    """
    strides = x.strides
    axes = sorted(range(x.ndim), key=lambda a: -strides[a])  # stable: ties keep order
    xm = x.transpose(axes)
    if not xm.flags.c_contiguous:
        return np.ascontiguousarray(x), tuple(range(x.ndim))
    return xm, sorted(range(x.ndim), key=axes.__getitem__)


def relu_forward(x, keep_mask=True):
    """ReLU: x (any shape) -> out = max(x, 0) (same shape), cache.

    keep_mask=False, for inference, skips what only backward needs; cache is None.
    """
    if x.ndim == 0:
        out = np.maximum(x, 0)
        return out, out > 0
    xm, back = _memory_order(x)
    # NumPy's maximum against the scalar 0 runs ~3x slower than against an array of
    # zeros. One row of zeros, repeated by broadcasting, is enough when the rows are
    # at least SHORT_RUN long (shorter ones NumPy would copy through a buffer).
    row = 1
    for n in reversed(xm.shape):
        row *= n
        if row >= SHORT_RUN:
            break
    out_m = np.maximum(xm.reshape(-1, row), np.zeros(row, dtype=x.dtype))  # (rows, row)
    out_m = out_m.reshape(xm.shape)
    out = out_m.transpose(back)  # x's axes, in x's memory order
    # Backward only needs to know where the output is positive. A bool mask is a
    # quarter of the memory of out; keeping less memory alive between the forward and
    # backward passes made a whole training step ~10% faster (fewer cache misses).
    if not keep_mask:
        return out, None
    return out, (out_m > 0).transpose(back)


def relu_backward(dout, cache):
    """Gradient of relu_forward: passes dout where the output was positive."""
    positive = cache
    # Multiplying by the 0/1 mask is much faster than np.where, which branches. The
    # result takes the mask's layout, the forward output's, which the layer below
    # works in. After Flatten dout is plain NCHW: a plain copy into that layout
    # first, then contiguous maths, is ~5x faster than multiplying across layouts.
    dx = np.empty_like(positive, dtype=np.result_type(dout, positive))
    if np.shape(dout) == dx.shape and np.ndim(dout) and dout.strides != dx.strides:
        np.copyto(dx, dout)
        return np.multiply(dx, positive, out=dx)
    return np.multiply(dout, positive, out=dx)


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
    # np.dot, not @: for one image this is an outer product (inner size 1), which
    # NumPy's matmul computes in its own loop, ~7x slower than np.dot's BLAS call.
    dw = np.dot(dout.T, x)  # (D_out, D_in)
    db = dout.sum(axis=0) if has_bias else None
    return dx, dw, db


def _channel_sum(rows, N, C):
    """Per-channel sum of an (H*W, N*C) view of an (H, W, N, C) array -> (C,).

    Adding whole rows of N*C numbers first keeps NumPy's inner loop long; the last
    step adds the N per-image sums of each channel.
    """
    return rows.sum(axis=0).reshape(N, C).sum(axis=0)


def _channel_dot(a, b, N, C):
    """Per-channel sum of a * b, both (H*W, N*C) like _channel_sum -> (C,).

    einsum multiplies and adds in one pass, without a temporary array for a * b.
    """
    return np.einsum("ij,ij->j", a, b).reshape(N, C).sum(axis=0)


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
    # Work on (H*W, N*C) rows of the (H, W, N, C) layout; a per-channel vector v is
    # repeated N times, np.tile(v, N), to line up with one row.
    rows = to_hwnc(x).reshape(H * W, N * C)  # (H*W, N*C)
    if training:
        m = N * H * W
        if m < 2:
            raise ValueError(
                f"batch norm in training needs more than one value per channel, "
                f"got N*H*W = {N}*{H}*{W} = {m}"
            )
        mean = _channel_sum(rows, N, C) / m  # (C,)
        xc = rows - np.tile(mean, N)  # (H*W, N*C)
        var = _channel_dot(xc, xc, N, C) / m  # (C,) biased, used to normalize
        running_mean *= 1 - momentum
        running_mean += momentum * mean
        running_var *= 1 - momentum
        running_var += momentum * var * (m / (m - 1))
    else:
        mean = running_mean.astype(x.dtype, copy=False)
        var = running_var.astype(x.dtype, copy=False)
    inv_std = (1.0 / np.sqrt(var + eps)).astype(x.dtype, copy=False)  # (C,)
    # out = gamma * (x - mean) * inv_std + beta, as one scale and one shift per
    # channel: two passes over the data instead of four.
    scale = (gamma * inv_std).astype(x.dtype, copy=False)  # (C,)
    if training:
        out = xc * np.tile(scale, N)  # (H*W, N*C)
        out += np.tile(beta, N)
    else:
        out = rows * np.tile(scale, N)  # (H*W, N*C)
        out += np.tile(beta - mean * scale, N).astype(x.dtype, copy=False)
    out = out.reshape(H, W, N, C).transpose(2, 3, 0, 1)  # (N, C, H, W) view
    # Backward needs x_hat = xc * inv_std; it is rebuilt from xc there, so no x_hat
    # array is made here. Eval keeps the input and centres it only if backward runs
    # (explanations do), so plain eval forward passes make no extra array.
    centred = xc if training else (rows, mean)
    return out, (centred, scale, inv_std, training)


def batch_norm2d_backward(dout, cache):
    """Gradients of batch_norm2d_forward.

    dout (N, C, H, W) -> dx (N, C, H, W), dgamma (C,), dbeta (C,).
    """
    centred, scale, inv_std, training = cache
    N, C, H, W = dout.shape
    d = to_hwnc(dout).reshape(H * W, N * C)  # (H*W, N*C), like xc
    dbeta = _channel_sum(d, N, C)
    if training:
        xc = centred
    else:
        rows, mean = centred
        xc = rows - np.tile(mean, N)  # (H*W, N*C)
    # dgamma = sum(d * x_hat) = sum(d * xc) * inv_std, per channel.
    dgamma = _channel_dot(d, xc, N, C) * inv_std
    # In eval the running statistics are constants: a per-channel affine map.
    dx = d * np.tile(scale, N)  # (H*W, N*C)
    if training:
        # dx = scale * (d - dbeta/m - x_hat * dgamma/m): the batch mean and variance
        # depend on every x, which adds the two centring terms.
        m = N * H * W
        centring = xc * np.tile(scale * inv_std * dgamma / m, N)
        centring += np.tile(scale * dbeta / m, N)
        dx -= centring
    return dx.reshape(H, W, N, C).transpose(2, 3, 0, 1), dgamma, dbeta


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
