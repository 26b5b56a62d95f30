"""PyTorch as an oracle: every op's forward and every gradient, in float64."""

import numpy as np
import pytest
from cases import conv2d_run

from convlab.nn import functional as F

torch = pytest.importorskip("torch")
tF = torch.nn.functional

TOL = {"rtol": 1e-10, "atol": 1e-12}


def leaf(a):
    """A float64 torch tensor that records its gradient."""
    return torch.tensor(a, dtype=torch.float64, requires_grad=True)


def grad(t):
    """A torch gradient as NumPy."""
    return t.grad.detach().numpy()


@pytest.mark.parametrize(
    "case",
    [
        (2, 3, 9, 9, 4, 3, 3, 1, 0),
        (2, 2, 10, 7, 3, 3, 2, 2, 1),
        (1, 3, 11, 12, 2, 4, 5, 3, 2),
        (2, 1, 8, 9, 3, 3, 3, (2, 1), (1, 0)),
        # Stride 1, where dx is computed as a convolution of dout: padding beyond
        # k - 1 (cropped), different kernel sides, a large kernel.
        (2, 2, 7, 8, 3, 1, 1, 1, 2),
        (1, 2, 6, 9, 2, 5, 3, 1, (2, 3)),
        (2, 3, 8, 8, 4, 7, 7, 1, 3),
    ],
)
def test_conv2d_matches_torch(case):
    """conv2d output, dx, dw and db equal torch's conv2d."""
    x, w, b, stride, padding, out, dout, dx, dw, db = conv2d_run(case)
    tx, tw, tb = leaf(x), leaf(w), leaf(b)
    tout = tF.conv2d(tx, tw, tb, stride=stride, padding=padding)
    tout.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, tout.detach().numpy(), **TOL)
    np.testing.assert_allclose(dx, grad(tx), **TOL)
    np.testing.assert_allclose(dw, grad(tw), **TOL)
    np.testing.assert_allclose(db, grad(tb), **TOL)


@pytest.mark.parametrize(
    ("H", "W", "kernel_size", "stride"),
    [(8, 8, 2, 2), (11, 11, 2, 2), (9, 10, 3, 2), (7, 8, 3, 1), (9, 9, (2, 3), (1, 2))],
)
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pooling_matches_torch(kind, H, W, kernel_size, stride):
    """Max and average pooling forward and dx equal torch's, with ReLU-style ties."""
    rng = np.random.default_rng(1)
    x = np.maximum(rng.standard_normal((2, 3, H, W)), 0)  # many tied zeros
    out, cache = getattr(F, f"{kind}_pool2d_forward")(x, kernel_size, stride)
    dout = rng.standard_normal(out.shape)
    dx = getattr(F, f"{kind}_pool2d_backward")(dout, cache)
    tx = leaf(x)
    tout = getattr(tF, f"{kind}_pool2d")(tx, kernel_size, stride)
    tout.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, tout.detach().numpy(), **TOL)
    np.testing.assert_allclose(dx, grad(tx), **TOL)


def test_relu_matches_torch():
    """relu forward and gradient equal torch's, including exact zeros."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 4, 5))
    x[0, 0] = 0.0
    out, cache = F.relu_forward(x)
    dout = rng.standard_normal(out.shape)
    tx = leaf(x)
    tout = torch.relu(tx)
    tout.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, tout.detach().numpy(), **TOL)
    np.testing.assert_allclose(F.relu_backward(dout, cache), grad(tx), **TOL)


def test_linear_matches_torch():
    """linear output, dx, dw and db equal torch's linear (weights (D_out, D_in))."""
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((5, 7)), rng.standard_normal((4, 7))
    b = rng.standard_normal(4)
    out, cache = F.linear_forward(x, w, b)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = F.linear_backward(dout, cache)
    tx, tw, tb = leaf(x), leaf(w), leaf(b)
    tout = tF.linear(tx, tw, tb)
    tout.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, tout.detach().numpy(), **TOL)
    for ours, theirs in [(dx, tx), (dw, tw), (db, tb)]:
        np.testing.assert_allclose(ours, grad(theirs), **TOL)


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm2d_matches_torch(training):
    """Batch norm output, gradients and running statistics equal torch's."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((4, 3, 5, 6)) * 2 + 1
    gamma, beta = rng.standard_normal(3), rng.standard_normal(3)
    mean, var = rng.standard_normal(3), rng.random(3) + 0.5
    t_mean, t_var = torch.tensor(mean.copy()), torch.tensor(var.copy())
    out, cache = F.batch_norm2d_forward(x, gamma, beta, mean, var, training, 0.1, 1e-5)
    dout = rng.standard_normal(out.shape)
    dx, dgamma, dbeta = F.batch_norm2d_backward(dout, cache)
    tx, tg, tb = leaf(x), leaf(gamma), leaf(beta)
    tout = tF.batch_norm(tx, t_mean, t_var, tg, tb, training, 0.1, 1e-5)
    tout.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, tout.detach().numpy(), **TOL)
    np.testing.assert_allclose(mean, t_mean.numpy(), **TOL)
    np.testing.assert_allclose(var, t_var.numpy(), **TOL)
    for ours, theirs in [(dx, tx), (dgamma, tg), (dbeta, tb)]:
        np.testing.assert_allclose(ours, grad(theirs), rtol=1e-9, atol=1e-11)


def test_dropout_matches_torch_given_the_same_mask():
    """Given our mask, dropout equals torch's inverted-dropout formula and gradient."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((6, 8))
    out, cache = F.dropout_forward(x, 0.25, True, np.random.default_rng(6))
    keep = torch.tensor(out != 0)
    dout = rng.standard_normal(out.shape)
    tx = leaf(x)
    tout = tx * keep / (1 - 0.25)
    tout.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, tout.detach().numpy(), **TOL)
    np.testing.assert_allclose(F.dropout_backward(dout, cache), grad(tx), **TOL)


def test_softmax_and_cross_entropy_match_torch():
    """softmax, the mean cross-entropy loss and dlogits equal torch's."""
    rng = np.random.default_rng(7)
    logits = rng.standard_normal((6, 10)) * 4
    y = rng.integers(0, 10, size=6)
    np.testing.assert_allclose(
        F.softmax(logits), torch.softmax(torch.tensor(logits), 1).numpy(), **TOL
    )
    loss, dlogits = F.softmax_cross_entropy(logits, y)
    tl = leaf(logits)
    tloss = tF.cross_entropy(tl, torch.tensor(y))
    tloss.backward()
    assert loss == pytest.approx(tloss.item(), rel=1e-12)
    np.testing.assert_allclose(dlogits, grad(tl), **TOL)
