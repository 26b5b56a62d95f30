"""The memory layouts of the fast layers, and the convolution's im2col matrix: every
window copied into one matrix, so that a convolution is one matrix product."""

from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

# Memory layout. Every function takes and returns (N, C, H, W) arrays, but
# convolution, pooling and batch norm store their outputs as (H, W, N, C) in memory
# and hand back a transposed view (np.ascontiguousarray gives a plain NCHW copy).
# With the batch and channel axes innermost, every pooling window entry, every
# kernel offset and every ReLU is an operation on long contiguous runs of N*C
# numbers, which NumPy does fast. In NCHW, 2x2 pooling would step through memory
# two floats at a time, several times slower.
#
# im2col copies, for every kernel offset, the input values of all windows. The copy
# is fast when it moves long contiguous runs, and which layout of the input gives the
# longer runs depends on the shapes (see Windows): (C, H, W, N) puts a whole output
# row of a kernel offset, out_w*N numbers, in one run (for stride 1); (H, W, N, C)
# puts the C channels of one pixel in a run, and for one image the kw*C values of a
# whole window row.


# NumPy 2 runs an elementwise operation on a strided view through a buffer when the
# view's contiguous runs are shorter than about this many numbers, ~3x slower than
# on contiguous arrays; longer runs go at full speed. Plain copies have no such cost.
SHORT_RUN = 4096


def to_hwnc(x, ph=0, pw=0):
    """x (N, C, H, W), any layout -> (H + 2*ph, W + 2*pw, N, C) contiguous, zero-padded.

    No copy when x is already an (H, W, N, C) view without padding, as conv, ReLU and
    pooling outputs are.
    """
    xt = x.transpose(2, 3, 0, 1)  # (H, W, N, C)
    if ph == 0 and pw == 0:
        if not xt.flags.c_contiguous and x.flags.c_contiguous:
            # Plain NCHW (a gradient after Flatten): the reverse of to_nchw's steps.
            per_image = np.ascontiguousarray(x.transpose(0, 2, 3, 1))  # (N, H, W, C)
            return np.ascontiguousarray(per_image.transpose(1, 2, 0, 3))
        return np.ascontiguousarray(xt)
    H, W, N, C = xt.shape
    x_pad = np.zeros((H + 2 * ph, W + 2 * pw, N, C), dtype=x.dtype)
    x_pad[ph : ph + H, pw : pw + W] = xt
    return x_pad


def to_nchw(x):
    """x (N, C, H, W), any layout -> the same values as a C-contiguous array.

    For an (H, W, N, C) view the copy goes in two steps, first whole runs of C
    channels to (N, H, W, C), then each image's (H*W, C) block transposed: ~5x
    faster than one copy that reads a value from every image's block in turn.
    """
    if x.flags.c_contiguous:
        return x
    xt = x.transpose(2, 3, 0, 1)  # (H, W, N, C)
    if not xt.flags.c_contiguous:
        return np.ascontiguousarray(x)
    per_image = np.ascontiguousarray(xt.transpose(2, 0, 1, 3))  # (N, H, W, C)
    return np.ascontiguousarray(per_image.transpose(0, 3, 1, 2))  # (N, C, H, W)


# A transposing copy reads and writes memory in different orders; done in one go,
# consecutive reads land far apart and miss the cache. A few image rows at a time,
# about this many bytes, stay in the cache: up to twice as fast for big batches.
_TRANSPOSE_BAND_BYTES = 256 << 10


def to_chwn(x, ph=0, pw=0):
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


def offset(a, i, j, sh, sw, out_h, out_w, axis=0):
    """Entry (i, j) of every window: a (H, W, ...) -> view (out_h, out_w, ...).

    Window (r, c) starts at row r*sh, so its entry (i, j) is a[r*sh + i, c*sw + j];
    over all windows that is one strided slice, no copy. axis=1 slices the H and W of
    a (C, H, W, N) array instead.
    """
    rows = slice(i, i + sh * (out_h - 1) + 1, sh)
    columns = slice(j, j + sw * (out_w - 1) + 1, sw)
    return a[(slice(None),) * axis + (rows, columns)]


# The im2col matrix of a big batch is large (hundreds of MB for 5x5 kernels at batch
# 500), and writing it out to memory and reading it back cost more than the matmul.
# So the convolution builds it a band of output rows at a time, about this many
# bytes, which stay in the CPU's cache until the matmul has read them, and the
# backward pass builds the bands again instead of keeping the whole matrix alive.
# When even one output row is bigger than that (7x7 kernels over 16 channels at
# batch 500: 22 MB), a band also takes only some of the kernel's rows: its columns
# of the matrix, whose matmuls are summed. A matrix that fits in one band is small:
# it is kept for the backward pass.
_BAND_BYTES = 4 << 20


class Band(NamedTuple):
    """One block of the im2col matrix: output rows r0..r1-1, kernel rows i0..i1-1."""

    r0: int
    r1: int
    i0: int
    i1: int


class Windows:
    """The padded input of a convolution, ready to copy its windows band by band.

    x (N, C, H, W); kernel, stride and padding are (h, w) pairs; out_size is the
    output's (out_h, out_w). ``bands`` splits the im2col matrix into Bands of about
    _BAND_BYTES, in row order and, within a row band, kernel rows from the top;
    ``cols(band, ones_column)`` is the matrix of one band.
    """

    def __init__(self, x, kernel, stride, padding, out_size):
        N, C, _, _ = x.shape
        self.kernel, self.stride, self.out_size = kernel, stride, out_size
        (kh, kw), (_, sw), (ph, pw), (out_h, out_w) = kernel, stride, padding, out_size
        # The contiguous run each layout copies at a time: in (C, H, W, N), a row of
        # out_w windows times N images when the windows are adjacent (stride 1),
        # else the N images of one window; in (H, W, N, C), the C channels of one
        # pixel, or for a single image the kw*C values of a whole window row. One
        # image and strided convolutions of small batches favour the second. So do
        # strided convolutions of 16 channels or more: their im2col matrix holds
        # only about kh*kw/(sh*sw) copies of the input, and the transposing copy
        # into (C, H, W, N) (~1 ns a number, the input arrives as (H, W, N, C))
        # costs more than the shorter runs (64 bytes and up) lose.
        long_runs = C * (kw if N == 1 else 1) > N * (out_w if sw == 1 else 1)
        self.channels_last = long_runs or (sw > 1 and C >= 16)
        if self.channels_last:
            self.x_pad = to_hwnc(x, ph, pw)  # (Hp, Wp, N, C)
        else:
            self.x_pad = to_chwn(x, ph, pw)  # (C, Hp, Wp, N)
        per_kernel_row = out_w * N * kw * C * x.itemsize  # of one output row
        step = max(1, _BAND_BYTES // (per_kernel_row * kh + out_w * N * x.itemsize))
        kernel_step = kh if step > 1 else max(1, _BAND_BYTES // per_kernel_row)
        self.bands = [Band(r0, min(r0 + step, out_h), i0, min(i0 + kernel_step, kh))
                      for r0 in range(0, out_h, step)
                      for i0 in range(0, kh, kernel_step)]

    def cols(self, band, ones_column):
        """The windows of one Band as rows of one matrix.

        -> cols (rows*out_w*N, (i1 - i0)*kw*C [+ 1]), rows in (row, column, image)
        order, columns in (i, j, channel) order, the order of w.transpose(0, 2, 3, 1).
        With ones_column, a final column of ones: the bias then becomes one more
        weight, multiplied by that constant input, and the matmul adds it without an
        extra pass over the output.
        """
        (_, kw), (sh, sw), (_, out_w) = self.kernel, self.stride, self.out_size
        r0, r1, i0, i1 = band
        # Kernel rows i0..i1-1 of output row r read input rows r*sh + i0 .. r*sh + i1-1:
        # the windows of a kernel i1 - i0 rows high over the input from row i0 down.
        rows = slice(r0 * sh + i0, (r1 - 1) * sh + i1)
        if self.channels_last:
            return _cols_hwnc(self.x_pad[rows], i1 - i0, kw, sh, sw, r1 - r0, out_w,
                              ones_column)
        return _cols_chwn(self.x_pad[:, rows], i1 - i0, kw, sh, sw, r1 - r0, out_w,
                          ones_column)


def _cols_chwn(x_pad, kh, kw, sh, sw, out_h, out_w, ones_column):
    """im2col of x_pad (C, Hp, Wp, N).

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
            windows[i, j] = offset(x_pad, i, j, sh, sw, out_h, out_w, axis=1)
    return cols_t.reshape(K + ones_column, out_h * out_w * N).T


def _cols_hwnc(x_pad, kh, kw, sh, sw, out_h, out_w, ones_column):
    """im2col of x_pad (Hp, Wp, N, C), in one copy.

    Entry (i, j, c) of the window of output pixel (r, q) of image n is
    x_pad[r*sh + i, q*sw + j, n, c]; a strided view holds them all without a copy.
    """
    _, _, N, C = x_pad.shape
    K = kh * kw * C
    cols = np.empty((out_h * out_w * N, K + ones_column), dtype=x_pad.dtype)
    if ones_column:
        cols[:, K] = 1
    s0, s1, s2, s3 = x_pad.strides
    windows = as_strided(x_pad, (out_h, out_w, N, kh, kw, C),
                         (sh * s0, sw * s1, s2, s0, s1, s3), writeable=False)
    # (out_h, out_w, N, kh, kw, C), a view into cols: splitting axes never copies.
    cols.reshape(out_h, out_w, N, K + ones_column)[..., :K].reshape(
        windows.shape)[...] = windows
    return cols


_PARTS_BYTES = 256 << 10


def _inside(i, s, p, n, n_out):
    """Output positions lo..hi-1 whose kernel entry i reads the input, not padding.

    Output position r reads input r*s + i - p, which must lie in 0..n-1.
    """
    lo = max(0, -((i - p) // s))
    hi = min(n_out, (n - 1 + p - i) // s + 1)
    return lo, max(lo, hi)


def input_grad(dout_t, w_t, in_size, stride, padding):
    """The input gradient of a convolution, (H, W, N, C).

    dout_t (out_h, out_w, N, F) and w_t (kh, kw, F, C), contiguous. Every input value
    gets, for each kernel offset (i, j) that read it, the output gradient of that
    window times the weights of entry (i, j): one matmul and one slice-add per kernel
    offset (kh*kw of them). Each add covers whole rows of out_w*N*C numbers of a
    contiguous array, which NumPy adds several times faster than the short runs of
    im2col's transposed matrix. Entries that fell on the padding are left out.
    """
    out_h, out_w, N, F = dout_t.shape
    kh, kw, _, C = w_t.shape
    (H, W), (sh, sw), (ph, pw) = in_size, stride, padding
    dx = np.zeros((H, W, N, C), dtype=dout_t.dtype)
    # Small layers (one image) are dominated by the cost of each NumPy call: there
    # one stacked matmul computes a whole kernel row's kw parts at once, as long as
    # they fit in about _PARTS_BYTES.
    group = kw if kw * out_h * out_w * N * C * dx.itemsize <= _PARTS_BYTES else 1
    parts = np.empty((group, out_h, out_w, N, C), dtype=dout_t.dtype)
    for i in range(kh):
        r0, r1 = _inside(i, sh, ph, H, out_h)
        if r0 == r1:
            continue
        d = dout_t[r0:r1].reshape(-1, F)  # (rows*out_w*N, F)
        rows_parts = parts[:, r0:r1]  # (group, rows, out_w, N, C)
        for j0 in range(0, kw, group):
            # (group, rows*out_w*N, C): the parts of kernel offsets (i, j0...)
            np.matmul(d, w_t[i, j0 : j0 + group],
                      out=rows_parts.reshape(group, -1, C))
            for j in range(j0, j0 + group):
                c0, c1 = _inside(j, sw, pw, W, out_w)
                if c0 == c1:
                    continue
                target = offset(dx, r0 * sh + i - ph, c0 * sw + j - pw, sh, sw,
                                r1 - r0, c1 - c0)
                target += rows_parts[j - j0, :, c0:c1]
    return dx
