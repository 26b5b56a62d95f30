"""Helpers shared by the nn tests (gradient checks and oracle comparisons)."""

import numpy as np


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
