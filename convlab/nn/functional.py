"""Vectorized forward and backward passes of every layer, as pure NumPy functions."""

import numpy as np

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


# Memory layout. Every function takes and returns (N, C, H, W) arrays, but
# convolution, pooling and batch norm store their outputs as (H, W, N, C) in memory
# and hand back a transposed view (np.ascontiguousarray gives a plain NCHW copy).
# With the batch and channel axes innermost, every pooling window entry, every
# kernel offset and every ReLU is an operation on long contiguous runs of N*C
# numbers, which NumPy does fast. In NCHW, 2x2 pooling would step through memory
# two floats at a time, several times slower.
#
# Inside a convolution the input is copied once more, to (C, H, W, N): there a whole
# output row of a kernel offset, out_w*N numbers, is one contiguous run, so im2col
# and col2im copy long runs instead of runs of C numbers (16 for a 16-channel layer).


def _to_hwnc(x, ph=0, pw=0):
    """x (N, C, H, W), any layout -> (H + 2*ph, W + 2*pw, N, C) contiguous, zero-padded.

    No copy when x is already an (H, W, N, C) view without padding, as conv, ReLU and
    pooling outputs are.
    """
    xt = x.transpose(2, 3, 0, 1)  # (H, W, N, C)
    if ph == 0 and pw == 0:
        return np.ascontiguousarray(xt)
    H, W, N, C = xt.shape
    x_pad = np.zeros((H + 2 * ph, W + 2 * pw, N, C), dtype=x.dtype)
    x_pad[ph : ph + H, pw : pw + W] = xt
    return x_pad


# A transposing copy reads and writes memory in different orders; done in one go,
# consecutive reads land far apart and miss the cache. A few image rows at a time,
# about this many bytes, stay in the cache: up to twice as fast for big batches.
_TRANSPOSE_BAND_BYTES = 256 << 10


def _to_chwn(x, ph=0, pw=0):
    """x (N, C, H, W), any layout -> (C, H + 2*ph, W + 2*pw, N), contiguous, padded."""
    N, C, H, W = x.shape
    xt = x.transpose(1, 2, 3, 0)  # (C, H, W, N)
    alloc = np.zeros if ph or pw else np.empty
    x_pad = alloc((C, H + 2 * ph, W + 2 * pw, N), dtype=x.dtype)
    step = max(1, _TRANSPOSE_BAND_BYTES * H // max(x.nbytes, 1))
    for h in range(0, H, step):
        rows = slice(h, min(h + step, H))
        x_pad[:, ph + rows.start : ph + rows.stop, pw : pw + W] = xt[:, rows]
    return x_pad


def _offset(a, i, j, sh, sw, out_h, out_w, axis=0):
    """Entry (i, j) of every window: a (H, W, ...) -> view (out_h, out_w, ...).

    Window (r, c) starts at row r*sh, so its entry (i, j) is a[r*sh + i, c*sw + j];
    over all windows that is one strided slice, no copy. axis=1 slices the H and W of
    a (C, H, W, N) array instead.
    """
    rows = slice(i, i + sh * (out_h - 1) + 1, sh)
    columns = slice(j, j + sw * (out_w - 1) + 1, sw)
    return a[(slice(None),) * axis + (rows, columns)]


def _im2col(x_pad, kh, kw, sh, sw, out_h, out_w, ones_column):
    """Copy every window into one matrix so a convolution becomes one matmul.

    x_pad (C, Hp, Wp, N) -> cols (out_h*out_w*N, kh*kw*C [+ 1]): one row per output
    pixel, holding the kh*kw*C inputs its window sees, plus a final 1 when
    ones_column is set: the bias then becomes one more weight, multiplied by that
    constant input, and the matmul adds it without an extra pass over the output.
    The matrix is stored transposed, one row per kernel offset and channel, so each
    kernel offset is a copy of runs of out_w*N numbers (kh*kw slice copies, never one
    per pixel); the matmuls read the transposed view just as fast.
    """
    C, _, _, N = x_pad.shape
    K = kh * kw * C
    cols_t = np.empty((K + ones_column, out_h, out_w, N), dtype=x_pad.dtype)
    if ones_column:
        cols_t[K] = 1
    windows = cols_t[:K].reshape(kh, kw, C, out_h, out_w, N)  # a view into cols_t
    for i in range(kh):
        for j in range(kw):
            windows[i, j] = _offset(x_pad, i, j, sh, sw, out_h, out_w, axis=1)
    return cols_t.reshape(K + ones_column, out_h * out_w * N).T


def _col2im_add(dcols_t, dx_pad, kh, kw, sh, sw, out_h, out_w):
    """Inverse of _im2col for gradients: add every entry back where it was read from.

    dcols_t (kh*kw*C, out_h*out_w*N), the transposed layout of _im2col, is added into
    dx_pad (C, Hp, Wp, N) in place. Overlapping windows add up. One slice-add per
    kernel offset (kh*kw of them), never one per pixel.
    """
    C, _, _, N = dx_pad.shape
    windows = dcols_t.reshape(kh, kw, C, out_h, out_w, N)
    for i in range(kh):
        for j in range(kw):
            _offset(dx_pad, i, j, sh, sw, out_h, out_w, axis=1)[...] += windows[i, j]


# The im2col matrix of a big batch is large (hundreds of MB for 5x5 kernels at batch
# 500), and writing it out to memory and reading it back cost more than the matmul.
# So the convolution builds it a band of output rows at a time, about this many
# bytes, which stay in the CPU's cache until the matmul has read them, and the
# backward pass builds the bands again instead of keeping the whole matrix alive.
# A matrix that fits in one band is small: it is kept for the backward pass.
_BAND_BYTES = 4 << 20


def _bands(out_h, out_w, N, K, itemsize):
    """(r0, r1) ranges of output rows, each band of im2col about _BAND_BYTES."""
    per_row = out_w * N * (K + 1) * itemsize
    step = max(1, _BAND_BYTES // per_row)
    return [(r0, min(r0 + step, out_h)) for r0 in range(0, out_h, step)]


def _rows_read(a, r0, r1, kh, sh):
    """The rows of a (C, Hp, Wp, N) that the windows of output rows r0..r1-1 read."""
    return a[:, r0 * sh : (r1 - 1) * sh + kh]


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

    x_pad = _to_chwn(x, ph, pw)  # (C, Hp, Wp, N)
    has_bias = b is not None
    # Weights in the same (kh, kw, C) order as a row of im2col.
    w2 = w.transpose(0, 2, 3, 1).reshape(F, kh * kw * C)  # (F, kh*kw*C)
    w_cols = np.concatenate([w2, b[:, None]], axis=1) if has_bias else w2
    out = np.empty((out_h, out_w, N, F), dtype=np.result_type(x_pad, w_cols))
    bands = _bands(out_h, out_w, N, kh * kw * C, x_pad.itemsize)
    for r0, r1 in bands:
        # (rows*out_w*N, kh*kw*C [+ 1 for the bias])
        cols = _im2col(_rows_read(x_pad, r0, r1, kh, sh), kh, kw, sh, sw, r1 - r0,
                       out_w, has_bias)
        np.matmul(cols, w_cols.T, out=out[r0:r1].reshape(-1, F))  # (rows*out_w*N, F)
    # (N, F, out_h, out_w) as a view of the (out_h, out_w, N, F) result: no copy.
    out = out.transpose(2, 3, 0, 1)
    kept_cols = cols if len(bands) == 1 else None
    cache = (x_pad, kept_cols, w.shape, w2, has_bias, (sh, sw), (ph, pw))
    return out, cache


def conv2d_backward(dout, cache, need_dx=True, need_dw=True):
    """Gradients of conv2d_forward.

    dout (N, F, out_h, out_w) -> dx (N, C, H, W) or None when need_dx is False (the
    first layer's input gradient is never used, so we skip its cost), dw (F, C, kh, kw),
    db (F,) or None when the layer has no bias. need_dw=False skips the weight and bias
    gradients (dw and db are None), for callers that only want dx, such as saliency.
    """
    x_pad, kept_cols, w_shape, w2, has_bias, (sh, sw), (ph, pw) = cache
    N, F, out_h, out_w = dout.shape
    _, C, kh, kw = w_shape
    K = kh * kw * C
    # (out_h, out_w, N, F): free when dout has the layout conv2d_forward produced.
    dout_t = _to_hwnc(dout)
    grads = np.zeros((K + has_bias, F), dtype=dout_t.dtype) if need_dw else None
    dx_pad = np.zeros(x_pad.shape, dtype=dout_t.dtype) if need_dx else None
    for r0, r1 in _bands(out_h, out_w, N, K, x_pad.itemsize):
        dout2 = dout_t[r0:r1].reshape(-1, F)  # (rows*out_w*N, F)
        if need_dw:
            cols = kept_cols
            if cols is None:
                cols = _im2col(_rows_read(x_pad, r0, r1, kh, sh), kh, kw, sh, sw,
                               r1 - r0, out_w, has_bias)
            # grads[k, f] = sum over output pixels p of cols[p, k] * dout2[p, f];
            # the row of the ones column is the bias gradient, the sum of dout2.
            grads += cols.T @ dout2  # (kh*kw*C [+ 1], F)
        if need_dx:
            dcols_t = w2.T @ dout2.T  # (kh*kw*C, rows*out_w*N), as _im2col stores it
            _col2im_add(dcols_t, _rows_read(dx_pad, r0, r1, kh, sh), kh, kw, sh, sw,
                        r1 - r0, out_w)
    dw = db = dx = None
    if need_dw:
        # (F, C, kh, kw), contiguous
        dw = np.ascontiguousarray(
            grads[:K].T.reshape(F, kh, kw, C).transpose(0, 3, 1, 2)
        )
        db = grads[K].copy() if has_bias else None
    if need_dx:
        H, W = x_pad.shape[1] - 2 * ph, x_pad.shape[2] - 2 * pw
        # Back to the (H, W, N, C) layout the other layers work in.
        dx_hwnc = _to_hwnc(dx_pad[:, ph : ph + H, pw : pw + W].transpose(3, 0, 1, 2))
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


def max_pool2d_forward(x, kernel_size, stride=None):
    """Max pooling. x (N, C, H, W) -> out (N, C, out_h, out_w), cache.

    kernel_size and stride are an int or an (h, w) pair; stride None means kernel_size.
    When several entries of a window tie for the maximum, the gradient goes to the first
    one in row-major order, as in PyTorch and the reference loops.
    """
    kh, kw, sh, sw, out_h, out_w = _pool_setup(x, kernel_size, stride)
    xt = x.transpose(2, 3, 0, 1)  # (H, W, N, C) view, contiguous for conv outputs
    # Walk through the kh*kw window entries, keeping the running max of every window
    # and `arg`, the entry number where it was found. Only a strictly larger value
    # takes over, so ties keep the first entry.
    # (out_h, out_w, N, C), stored in the same memory order as x.
    out = _offset(xt, 0, 0, sh, sw, out_h, out_w).copy(order="K")
    arg = np.zeros_like(out, dtype=np.min_scalar_type(kh * kw - 1))
    for k in range(1, kh * kw):
        v = _offset(xt, k // kw, k % kw, sh, sw, out_h, out_w)
        larger = v > out
        np.maximum(out, v, out=out)
        # k is bigger than every entry number so far, so max() writes k where larger.
        np.maximum(arg, larger * arg.dtype.type(k), out=arg)
    cache = (x.shape, arg, (kh, kw), (sh, sw))
    return out.transpose(2, 3, 0, 1), cache  # (N, C, out_h, out_w)


def max_pool2d_backward(dout, cache):
    """Gradient of max_pool2d_forward: dout (N, C, out_h, out_w) -> dx (N, C, H, W)."""
    (N, C, H, W), arg, (kh, kw), (sh, sw) = cache
    out_h, out_w = arg.shape[:2]
    # (out_h, out_w, N, C); a copy only when dout comes in another layout (after
    # Flatten), so the kh*kw passes below read contiguous memory.
    dout_t = _to_hwnc(dout)
    overlapping = sh < kh or sw < kw
    # When the windows tile the input exactly (2x2 pooling of 26x26), the loop below
    # writes every entry, so the array need not be zeroed first.
    tiled = (sh, sw) == (kh, kw) and (out_h * kh, out_w * kw) == (H, W)
    dx = (np.empty if tiled else np.zeros)((H, W, N, C), dtype=dout.dtype)
    for k in range(kh * kw):
        # Each window sends its gradient to the entry that held its max.
        target = _offset(dx, k // kw, k % kw, sh, sw, out_h, out_w)
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
    out = _offset(xt, 0, 0, sh, sw, out_h, out_w).copy(order="K")
    for k in range(1, kh * kw):
        out += _offset(xt, k // kw, k % kw, sh, sw, out_h, out_w)
    out *= out.dtype.type(1.0 / (kh * kw))
    return out.transpose(2, 3, 0, 1), (x.shape, (kh, kw), (sh, sw))


def avg_pool2d_backward(dout, cache):
    """Gradient of avg_pool2d_forward: dout (N, C, out_h, out_w) -> dx (N, C, H, W)."""
    (N, C, H, W), (kh, kw), (sh, sw) = cache
    _, _, out_h, out_w = dout.shape
    # Every window entry counted 1/(kh*kw) in the mean, so it gets that share back.
    share = dout.transpose(2, 3, 0, 1) * dout.dtype.type(1.0 / (kh * kw))
    dx = np.zeros((H, W, N, C), dtype=dout.dtype)
    for k in range(kh * kw):
        _offset(dx, k // kw, k % kw, sh, sw, out_h, out_w)[...] += share
    return dx.transpose(2, 3, 0, 1)  # (N, C, H, W)


def relu_forward(x):
    """ReLU: x (any shape) -> out = max(x, 0) (same shape), cache."""
    if x.ndim == 0:
        out = np.maximum(x, 0)
        return out, out > 0
    # NumPy's maximum against the scalar 0 runs ~3x slower than against an array of
    # zeros. The zeros only need x's shape with its outermost axis in memory cut to
    # length 1: broadcasting repeats them along that axis, and every other axis keeps
    # x's memory order, so NumPy still sees long contiguous runs.
    outer = int(np.argmax(x.strides))
    zeros = np.zeros_like(x[(slice(None),) * outer + (slice(0, 1),)])
    out = np.maximum(x, zeros)
    # Backward only needs to know where the output is positive. A bool mask is a
    # quarter of the memory of out; keeping less memory alive between the forward and
    # backward passes made a whole training step ~10% faster (fewer cache misses).
    return out, out > 0


def relu_backward(dout, cache):
    """Gradient of relu_forward: passes dout where the output was positive."""
    positive = cache
    # Multiplying by the 0/1 mask is much faster than np.where, which branches.
    return dout * positive


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
    rows = _to_hwnc(x).reshape(H * W, N * C)  # (H*W, N*C)
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
    d = _to_hwnc(dout).reshape(H * W, N * C)  # (H*W, N*C), like xc
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
