"""Hypothesis properties: shapes follow the formula; impossible settings raise."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from convlab.nn import functional as F


def expected(n, k, stride, padding):
    """The documented formula, written out independently of the code under test."""
    return (n + 2 * padding - k) // stride + 1


@st.composite
def conv_settings(draw):
    """A random valid convolution: sizes, kernel no larger than the padded input."""
    H, W = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    ph, pw = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    kh = draw(st.integers(1, H + 2 * ph))
    kw = draw(st.integers(1, W + 2 * pw))
    sh, sw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    N, C, Fo = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    return N, C, H, W, Fo, kh, kw, (sh, sw), (ph, pw)


@settings(deadline=None, max_examples=60)
@given(conv_settings())
def test_conv2d_shapes_follow_formula(case):
    """conv2d's output and gradients have the shapes the formula and inputs predict."""
    N, C, H, W, Fo, kh, kw, (sh, sw), (ph, pw) = case
    x = np.ones((N, C, H, W), np.float32)
    w = np.ones((Fo, C, kh, kw), np.float32)
    out, cache = F.conv2d_forward(x, w, np.zeros(Fo, np.float32), (sh, sw), (ph, pw))
    assert out.shape == (N, Fo, expected(H, kh, sh, ph), expected(W, kw, sw, pw))
    dx, dw, db = F.conv2d_backward(np.ones_like(out), cache)
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == (Fo,)


@st.composite
def pool_settings(draw):
    """A random valid pooling: window no larger than the input, any stride."""
    H, W = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    kh, kw = draw(st.integers(1, H)), draw(st.integers(1, W))
    stride = draw(st.one_of(st.none(), st.tuples(st.integers(1, 4), st.integers(1, 4))))
    return H, W, (kh, kw), stride


@settings(deadline=None, max_examples=60)
@given(pool_settings(), st.sampled_from(["max", "avg"]))
def test_pool_shapes_follow_formula(case, kind):
    """Pooling output follows the formula with padding 0; dx has the input's shape."""
    H, W, (kh, kw), stride = case
    sh, sw = (kh, kw) if stride is None else stride
    x = np.arange(2 * H * W, dtype=np.float64).reshape(1, 2, H, W)
    out, cache = getattr(F, f"{kind}_pool2d_forward")(x, (kh, kw), stride)
    assert out.shape == (1, 2, expected(H, kh, sh, 0), expected(W, kw, sw, 0))
    dx = getattr(F, f"{kind}_pool2d_backward")(np.ones_like(out), cache)
    assert dx.shape == x.shape


@settings(deadline=None, max_examples=80)
@given(
    st.integers(1, 12),
    st.integers(1, 16),
    st.integers(-3, 4),
    st.integers(-2, 3),
)
def test_conv_output_size_valid_or_value_error(n, k, stride, padding):
    """Every setting either gives the formula's positive size or raises ValueError."""
    possible = stride >= 1 and padding >= 0 and k <= n + 2 * padding
    try:
        size = F.conv_output_size(n, k, stride, padding)
    except ValueError as err:
        assert not possible
        assert "out = (n + 2*padding - k) // stride + 1" in str(err)
    else:
        assert possible and size == expected(n, k, stride, padding) >= 1


@settings(deadline=None, max_examples=40)
@given(st.integers(1, 8), st.integers(1, 3), st.integers(0, 2), st.integers(1, 4))
def test_conv2d_rejects_kernel_larger_than_padded_input(n, extra, padding, stride):
    """A kernel larger than the padded input makes conv2d raise ValueError."""
    k = n + 2 * padding + extra
    x = np.zeros((1, 1, n, n), np.float32)
    w = np.zeros((1, 1, k, k), np.float32)
    try:
        F.conv2d_forward(x, w, None, stride, padding)
    except ValueError as err:
        assert f"k={k}" in str(err)
    else:
        raise AssertionError("conv2d_forward accepted an impossible kernel")


@settings(deadline=None, max_examples=30)
@given(st.integers(1, 4), st.integers(1, 4))
def test_conv2d_rejects_channel_mismatch(c_in, c_w):
    """conv2d raises ValueError exactly when x and w disagree on channels."""
    x = np.zeros((1, c_in, 5, 5), np.float32)
    w = np.zeros((2, c_w, 3, 3), np.float32)
    try:
        F.conv2d_forward(x, w, None)
    except ValueError:
        assert c_in != c_w
    else:
        assert c_in == c_w
