"""One kernel on one picture: pad -> convolve -> ReLU -> pool, with the words to read.

kernel_pipeline() runs the engine's own functions (convlab.nn.functional) on a single
(n, n) picture and returns a KernelPipeline: every stage's array, the output-size
formula filled in with the student's numbers, and which rows and columns no window
ever reaches (and why). A kernel that cannot fit raises ValueError with the
explanation a student reads; a pooling window that cannot fit the convolution's
output leaves the pooled maps out and says why in pool_problem, so the stages that
exist are still shown. Nothing here imports Qt.
"""

from dataclasses import dataclass

import numpy as np

from convlab.nn import functional as F
from convlab.nn.reference import zero_pad

SAME = "same"  # padding p = (f - 1) / 2: the output keeps the input's size at stride 1


def coverage(n, f, stride, out):
    """Which of n rows the out windows of size f (corners i * stride) ever touch."""
    covered = np.zeros(n, dtype=bool)
    for i in range(out):
        covered[i * stride:i * stride + f] = True
    return covered


def formula_text(n, p, f, s):
    """The output-size formula with the numbers filled in, ending in its result."""
    out = F.conv_output_size(n, f, s, p)
    return (f"floor(({n} + 2·{p} − {f}) / {s}) + 1 = floor({n + 2 * p - f} / {s}) + 1 "
            f"= {out}")


def unreached_note(covered, what):
    """A sentence about rows/columns no window reaches, or "" when all are reached."""
    missed = int(np.sum(~covered))
    if missed == 0:
        return ""
    # Rows missed before the last covered one were jumped over, not left at the end.
    skipped = int(np.sum(~covered[:np.flatnonzero(covered)[-1]]))
    why = ("the stride is larger than the window, so it jumps over some"
           if skipped else "the division is not exact")
    return (f"{what}: {why}; {missed} row(s) and column(s) are never reached by the "
            "window (orange) and are simply ignored.")


def shrink(image, factor):
    """A square image made factor times smaller by averaging factor x factor blocks."""
    n = image.shape[0] // factor
    # (n, factor, n, factor): each block of pixels gets its own two axes.
    blocks = image[:n * factor, :n * factor].reshape(n, factor, n, factor)
    return blocks.mean(axis=(1, 3))


def resolve_padding(padding, f):
    """The padding in pixels: a number as given, or "same" worked out for size f."""
    if padding != SAME:
        return padding
    if f % 2 == 0:
        raise ValueError(
            f"'same' padding needs an odd kernel: p = (f − 1) / 2 = {(f - 1) / 2:g} "
            f"is not a whole number of pixels for f = {f}. Pick an odd size or a "
            "number.")
    return (f - 1) // 2


def _check_kernel_fits(n, f, stride, padding):
    """ValueError in words when the kernel cannot fit the padded input."""
    try:
        F.conv_output_size(n, f, stride, padding)
    except ValueError:
        raise ValueError(
            f"The {f}×{f} kernel does not fit: the padded input is only "
            f"{n} + 2·{padding} = {n + 2 * padding} pixels wide, so "
            f"floor(({n} + 2·{padding} − {f}) / {stride}) + 1 < 1. Add padding, "
            "use a smaller kernel or a larger input.") from None


def pool_problem(out, pool_size, pool_stride):
    """Why the pooling window cannot fit an out x out map, or "" when it fits."""
    try:
        F.conv_output_size(out, pool_size, pool_stride, 0)
    except ValueError:
        return (f"The {pool_size}×{pool_size} pooling window does not fit the "
                f"{out}×{out} convolution output: "
                f"floor(({out} − {pool_size}) / {pool_stride}) + 1 < 1, so there is "
                "no pooled output. Use a smaller pool, a smaller stride or more "
                "padding.")
    return ""


@dataclass(frozen=True)
class KernelPipeline:
    """Every stage of one kernel on one (n, n) picture, as the views show them.

    input (n, n), padded (n + 2p, n + 2p), kernel (f, f), conv and relu (out, out);
    max and avg (pooled, pooled) both computed when pooling is on and fits (else
    None; pool_problem then says why when pooling is on); bank
    (K, out, out) one map per kernel of a filter bank (else None). input_covered
    (n + 2p,) and pool_covered (out,) say which rows (and, by symmetry, columns) some
    window reads. notes are sentences about rows no window reaches.
    """

    input: np.ndarray
    padded: np.ndarray
    kernel: np.ndarray
    bias: float
    stride: int
    padding: int
    conv: np.ndarray
    relu: np.ndarray
    pool: str
    pool_size: int
    pool_stride: int
    max: np.ndarray | None
    avg: np.ndarray | None
    bank: np.ndarray | None
    input_covered: np.ndarray
    pool_covered: np.ndarray | None
    conv_formula: str
    pool_formula: str
    notes: tuple
    pool_problem: str = ""


def kernel_pipeline(image, kernel, bias, stride, padding, pool, pool_size,
                    pool_stride, bank=None):
    """Run image (n, n) through conv (kernel (f, f) + bias), ReLU and pooling.

    padding is a number of pixels or "same"; pool is "none", "max" or "avg"; bank
    (K, f, f) optionally adds the maps of several kernels side by side. Returns a
    KernelPipeline; a kernel that cannot fit raises ValueError explaining it.
    """
    n, f = image.shape[0], kernel.shape[0]
    padding = resolve_padding(padding, f)
    _check_kernel_fits(n, f, stride, padding)
    x = image[None, None]  # (1, 1, n, n): one image, one channel
    conv, _ = F.conv2d_forward(x, kernel[None, None], np.array([bias]), stride,
                               padding)
    relu, _ = F.relu_forward(conv)
    padded = zero_pad(x, padding)[0, 0]
    out = conv.shape[-1]
    input_covered = coverage(padded.shape[0], f, stride, out)
    notes = [unreached_note(input_covered, "Padded input")]
    pooled_max = pooled_avg = pool_covered = None
    pool_formula = ""
    unfit = "" if pool == "none" else pool_problem(out, pool_size, pool_stride)
    if pool != "none" and not unfit:
        pooled_max = F.max_pool2d_forward(relu, pool_size, pool_stride)[0][0, 0]
        pooled_avg = F.avg_pool2d_forward(relu, pool_size, pool_stride)[0][0, 0]
        pool_covered = coverage(out, pool_size, pool_stride, pooled_max.shape[0])
        notes.append(unreached_note(pool_covered, "ReLU output, under the pool"))
        pool_formula = formula_text(out, 0, pool_size, pool_stride)
    maps = None
    if bank is not None:
        w = np.asarray(bank)[:, None]  # (K, 1, f, f): a layer of K filters
        maps = F.conv2d_forward(x, w, None, stride, padding)[0][0]
    return KernelPipeline(
        image, padded, kernel, float(bias), stride, padding, conv[0, 0], relu[0, 0],
        pool, pool_size, pool_stride, pooled_max, pooled_avg, maps, input_covered,
        pool_covered, formula_text(n, padding, f, stride), pool_formula,
        tuple(note for note in notes if note), unfit)
