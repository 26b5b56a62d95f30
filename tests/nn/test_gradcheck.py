"""Finite-difference gradient checks in float64 for every backward in nn.functional."""

import numpy as np
import pytest
from cases import conv2d_run, numeric_grad

from convlab.nn import functional as F


def assert_close(analytic, numeric, tol=1e-6):
    """Relative error small, measured against the larger gradient's scale."""
    scale = max(np.abs(numeric).max(), np.abs(analytic).max(), 1.0)
    assert np.abs(analytic - numeric).max() / scale < tol


CONV_CASES = [
    # N, C, H, W, F, kh, kw, stride, padding
    (2, 3, 7, 7, 4, 3, 3, 1, 0),
    (2, 2, 8, 6, 3, 3, 3, 2, 1),
    (1, 3, 9, 10, 2, 4, 3, 3, 2),
    (2, 1, 6, 9, 3, 2, 4, (1, 2), (2, 0)),
    (1, 2, 5, 5, 2, 1, 1, 2, 1),
    (2, 2, 7, 8, 2, 3, 2, (3, 1), (1, 2)),
]


@pytest.mark.parametrize("case", CONV_CASES)
def test_conv2d_gradients(case):
    """conv2d dx, dw, db match central differences (strides 1-3, padding 0-2)."""
    x, w, b, stride, padding, _, dout, dx, dw, db = conv2d_run(case)

    def loss():
        return np.sum(F.conv2d_forward(x, w, b, stride, padding)[0] * dout)

    assert_close(dx, numeric_grad(loss, x))
    assert_close(dw, numeric_grad(loss, w))
    assert_close(db, numeric_grad(loss, b))


def test_conv2d_gradients_without_bias():
    """With b=None the weight and input gradients are still right and db is None."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 2, 5, 6))
    w = rng.standard_normal((3, 2, 2, 3))
    out, cache = F.conv2d_forward(x, w, None, 1, 1)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = F.conv2d_backward(dout, cache)

    def loss():
        return np.sum(F.conv2d_forward(x, w, None, 1, 1)[0] * dout)

    assert db is None
    assert_close(dx, numeric_grad(loss, x))
    assert_close(dw, numeric_grad(loss, w))


POOL_CASES = [
    # H, W, kernel_size, stride
    (6, 6, 2, None),
    (7, 9, 2, 2),
    (7, 7, 3, 2),
    (6, 8, 3, 1),
    (7, 8, (2, 3), (1, 2)),
    (9, 7, 2, 3),
]


@pytest.mark.parametrize("case", POOL_CASES)
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pool_gradients(kind, case):
    """Max and average pooling gradients match central differences, overlapping too."""
    H, W, kernel_size, stride = case
    rng = np.random.default_rng(2)
    # A permutation has no ties, so the max is differentiable everywhere we probe.
    x = rng.permutation(2 * 3 * H * W).reshape(2, 3, H, W) / 10.0
    forward = getattr(F, f"{kind}_pool2d_forward")
    backward = getattr(F, f"{kind}_pool2d_backward")
    out, cache = forward(x, kernel_size, stride)
    dout = rng.standard_normal(out.shape)

    def loss():
        return np.sum(forward(x, kernel_size, stride)[0] * dout)

    assert_close(backward(dout, cache), numeric_grad(loss, x))


def test_relu_gradient():
    """relu_backward matches central differences away from the kink at 0."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 4, 5))
    x[np.abs(x) < 1e-3] = 0.5
    out, cache = F.relu_forward(x)
    dout = rng.standard_normal(out.shape)

    def loss():
        return np.sum(F.relu_forward(x)[0] * dout)

    assert_close(F.relu_backward(dout, cache), numeric_grad(loss, x))


def test_linear_gradients():
    """linear_backward's dx, dw, db match central differences."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((4, 6))
    w = rng.standard_normal((3, 6))
    b = rng.standard_normal(3)
    out, cache = F.linear_forward(x, w, b)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = F.linear_backward(dout, cache)

    def loss():
        return np.sum(F.linear_forward(x, w, b)[0] * dout)

    assert_close(dx, numeric_grad(loss, x))
    assert_close(dw, numeric_grad(loss, w))
    assert_close(db, numeric_grad(loss, b))


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm2d_gradients(training):
    """batch_norm2d_backward matches central differences in training and eval mode."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 2, 4, 5))
    gamma = rng.standard_normal(2)
    beta = rng.standard_normal(2)
    running = (rng.standard_normal(2), rng.random(2) + 0.5)

    def forward():
        # Fresh copies: training mode updates the running statistics in place.
        mean, var = running[0].copy(), running[1].copy()
        return F.batch_norm2d_forward(x, gamma, beta, mean, var, training)

    out, cache = forward()
    dout = rng.standard_normal(out.shape)
    dx, dgamma, dbeta = F.batch_norm2d_backward(dout, cache)

    def loss():
        return np.sum(forward()[0] * dout)

    assert_close(dx, numeric_grad(loss, x))
    assert_close(dgamma, numeric_grad(loss, gamma))
    assert_close(dbeta, numeric_grad(loss, beta))


def test_dropout_gradient():
    """With one seeded rng per call, dropout's gradient matches central differences."""
    x = np.random.default_rng(6).standard_normal((4, 5))
    dout = np.random.default_rng(7).standard_normal((4, 5))

    def forward():
        return F.dropout_forward(x, 0.4, True, np.random.default_rng(8))

    out, cache = forward()

    def loss():
        return np.sum(forward()[0] * dout)

    assert_close(F.dropout_backward(dout, cache), numeric_grad(loss, x))


def test_softmax_cross_entropy_gradient():
    """softmax_cross_entropy's dlogits matches central differences of its loss."""
    rng = np.random.default_rng(9)
    logits = rng.standard_normal((5, 7)) * 3
    y = rng.integers(0, 7, size=5)
    _, dlogits = F.softmax_cross_entropy(logits, y)

    def loss():
        return F.softmax_cross_entropy(logits, y)[0]

    assert_close(dlogits, numeric_grad(loss, logits))


def test_conv_pool_relu_chain_gradient():
    """A conv -> relu -> max pool -> linear -> loss chain has the right gradients."""
    rng = np.random.default_rng(10)
    x = rng.standard_normal((2, 1, 8, 8))
    w1 = rng.standard_normal((3, 1, 3, 3))
    b1 = rng.standard_normal(3)
    w2 = rng.standard_normal((4, 27))
    y = np.array([1, 3])

    def forward():
        h, c1 = F.conv2d_forward(x, w1, b1, 1, 0)  # (2, 3, 6, 6)
        r, c2 = F.relu_forward(h)
        p, c3 = F.max_pool2d_forward(r, 2)  # (2, 3, 3, 3)
        logits, c4 = F.linear_forward(p.reshape(2, -1), w2, None)
        loss, dlogits = F.softmax_cross_entropy(logits, y)
        return loss, dlogits, (c1, c2, c3, c4)

    _, dlogits, (c1, c2, c3, c4) = forward()
    dp, dw2, _ = F.linear_backward(dlogits, c4)
    dr = F.max_pool2d_backward(dp.reshape(2, 3, 3, 3), c3)
    dh = F.relu_backward(dr, c2)
    dx, dw1, db1 = F.conv2d_backward(dh, c1)

    def loss():
        return forward()[0]

    assert_close(dx, numeric_grad(loss, x))
    assert_close(dw1, numeric_grad(loss, w1))
    assert_close(db1, numeric_grad(loss, b1))
    assert_close(dw2, numeric_grad(loss, w2))
