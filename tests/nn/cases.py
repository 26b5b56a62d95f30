"""Helpers shared by the nn tests (gradient checks and oracle comparisons)."""

import numpy as np

from convlab.nn import functional as F


def numeric_grad(f, x, eps=1e-6):
    """Central-difference gradient of the scalar function f() with respect to x."""
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        plus = f()
        x[i] = old - eps
        minus = f()
        x[i] = old
        grad[i] = (plus - minus) / (2 * eps)
    return grad


def conv2d_run(case, bias=True, seed=0):
    """conv2d forward and backward on random float64 data for one test case.

    case is (N, C, H, W, F, kh, kw, stride, padding); x, w, b and then the upstream
    gradient dout come from default_rng(seed), in that order. Returns
    (x, w, b, stride, padding, out, dout, dx, dw, db).
    """
    N, C, H, W, Fo, kh, kw, stride, padding = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, C, H, W))
    w = rng.standard_normal((Fo, C, kh, kw))
    b = rng.standard_normal(Fo) if bias else None
    out, cache = F.conv2d_forward(x, w, b, stride, padding)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = F.conv2d_backward(dout, cache)
    return x, w, b, stride, padding, out, dout, dx, dw, db
