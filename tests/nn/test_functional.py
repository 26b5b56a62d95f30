"""Behaviour of nn.functional beyond gradients: dtypes, errors, ties, modes, layouts."""

import platform
import sys

import numpy as np
import pytest

from convlab.nn import functional as F
from convlab.nn import im2col

FORMULA = r"out = \(n \+ 2\*padding - k\) // stride \+ 1"


def test_conv_output_size_follows_formula():
    """conv_output_size gives (n + 2*padding - k) // stride + 1."""
    assert F.conv_output_size(28, 3, 1, 0) == 26
    assert F.conv_output_size(28, 5, 2, 2) == 14
    assert F.conv_output_size(7, 3, 3, 1) == 3


@pytest.mark.parametrize(
    ("n", "k", "stride", "padding", "numbers"),
    [
        (5, 7, 1, 0, "k=7"),
        (5, 8, 1, 1, "5 \\+ 2\\*1 = 7"),
        (5, 3, 0, 0, "stride=0"),
        (5, 3, 1, -1, "padding=-1"),
    ],
)
def test_conv_output_size_errors_name_numbers(n, k, stride, padding, numbers):
    """Impossible settings raise ValueError naming the numbers and the formula."""
    with pytest.raises(ValueError, match=FORMULA) as info:
        F.conv_output_size(n, k, stride, padding)
    assert info.match(numbers)


def test_conv2d_channel_mismatch_raises():
    """A kernel with the wrong number of input channels is refused with both numbers."""
    with pytest.raises(ValueError, match="C=3.*expects 2"):
        F.conv2d_forward(np.zeros((1, 3, 5, 5)), np.zeros((4, 2, 3, 3)), None)


def test_conv2d_kernel_too_large_raises_with_formula():
    """conv2d_forward refuses a kernel larger than the padded input."""
    with pytest.raises(ValueError, match=FORMULA):
        F.conv2d_forward(np.zeros((1, 1, 4, 6)), np.zeros((1, 1, 5, 3)), None, 1, 0)


def test_pool_kernel_too_large_raises():
    """Pooling windows larger than the input are refused."""
    with pytest.raises(ValueError, match=FORMULA):
        F.max_pool2d_forward(np.zeros((1, 1, 3, 3)), 4)


def test_pair_arguments_equal_ints():
    """stride, padding and kernel_size given as (h, w) pairs act like the int form."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 2, 9, 9)).astype(np.float32)
    w = rng.standard_normal((3, 2, 3, 3)).astype(np.float32)
    a, _ = F.conv2d_forward(x, w, None, 2, 1)
    b, _ = F.conv2d_forward(x, w, None, (2, 2), (1, 1))
    np.testing.assert_array_equal(a, b)
    p, _ = F.max_pool2d_forward(x, 3, 2)
    q, _ = F.max_pool2d_forward(x, (3, 3), (2, 2))
    np.testing.assert_array_equal(p, q)


def test_float32_stays_float32_everywhere():
    """Every forward and backward keeps float32 input in float32 (no silent upcast)."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 2, 8, 8)).astype(np.float32)
    w = rng.standard_normal((3, 2, 3, 3)).astype(np.float32)
    b = np.zeros(3, np.float32)
    out, cache = F.conv2d_forward(x, w, b, 1, 1)
    assert out.dtype == np.float32
    assert all(g.dtype == np.float32 for g in F.conv2d_backward(out, cache))
    # No bias (before batch norm), and one image (the channels-last im2col).
    for images in (x, x[:1]):
        out, cache = F.conv2d_forward(images, w, None, 1, 1)
        assert out.dtype == np.float32
        dx, dw, _ = F.conv2d_backward(out, cache)
        assert dx.dtype == np.float32 and dw.dtype == np.float32
    for fwd, bwd, args in [
        (F.max_pool2d_forward, F.max_pool2d_backward, (2,)),
        (F.max_pool2d_forward, F.max_pool2d_backward, (3, 2)),
        (F.avg_pool2d_forward, F.avg_pool2d_backward, (2,)),
        (F.avg_pool2d_forward, F.avg_pool2d_backward, (3, 1)),
    ]:
        out, cache = fwd(x, *args)
        assert out.dtype == np.float32 and bwd(out, cache).dtype == np.float32
    out, cache = F.relu_forward(x)
    assert out.dtype == np.float32 and F.relu_backward(out, cache).dtype == np.float32
    out, cache = F.dropout_forward(x, 0.5, True, rng)
    assert out.dtype == np.float32
    assert F.dropout_backward(out, cache).dtype == np.float32
    ones, zeros = np.ones(2, np.float32), np.zeros(2, np.float32)
    out, cache = F.batch_norm2d_forward(x, ones, zeros, zeros.copy(), ones.copy(), True)
    assert out.dtype == np.float32
    assert all(g.dtype == np.float32 for g in F.batch_norm2d_backward(out, cache))
    flat = x.reshape(4, -1)
    lw = rng.standard_normal((5, flat.shape[1])).astype(np.float32)
    out, cache = F.linear_forward(flat, lw, np.zeros(5, np.float32))
    assert out.dtype == np.float32
    assert all(g.dtype == np.float32 for g in F.linear_backward(out, cache))
    loss, dlogits = F.softmax_cross_entropy(out, np.array([0, 1, 2, 3]))
    assert isinstance(loss, float) and dlogits.dtype == np.float32


def test_forward_does_not_modify_inputs():
    """Forward and backward passes leave their input arrays untouched."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 2, 6, 6))
    w = rng.standard_normal((2, 2, 3, 3))
    x0, w0 = x.copy(), w.copy()
    out, cache = F.conv2d_forward(x, w, None, 1, 1)
    dout = rng.standard_normal(out.shape)
    dout0 = dout.copy()
    F.conv2d_backward(dout, cache)
    r, rc = F.relu_forward(x)
    F.relu_backward(dout, rc)
    p, pc = F.max_pool2d_forward(x, 2)
    F.max_pool2d_backward(np.ones_like(p), pc)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(w, w0)
    np.testing.assert_array_equal(dout, dout0)


def test_conv2d_backward_can_skip_input_gradient():
    """need_dx=False returns dx None and the same weight and bias gradients."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 1, 7, 7))
    w = rng.standard_normal((3, 1, 3, 3))
    b = rng.standard_normal(3)
    out, cache = F.conv2d_forward(x, w, b)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = F.conv2d_backward(dout, cache)
    dx2, dw2, db2 = F.conv2d_backward(dout, cache, need_dx=False)
    assert dx is not None and dx2 is None
    np.testing.assert_array_equal(dw, dw2)
    np.testing.assert_array_equal(db, db2)


def test_conv2d_backward_can_skip_weight_gradient():
    """need_dw=False returns dw and db None and the same input gradient."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 2, 8, 8))
    w = rng.standard_normal((3, 2, 5, 5))
    b = rng.standard_normal(3)
    out, cache = F.conv2d_forward(x, w, b, 2, 1)
    dout = rng.standard_normal(out.shape)
    dx, _, _ = F.conv2d_backward(dout, cache)
    dx2, dw2, db2 = F.conv2d_backward(dout, cache, need_dw=False)
    assert dw2 is None and db2 is None
    np.testing.assert_array_equal(dx, dx2)


@pytest.mark.parametrize(
    ("k", "stride", "padding"), [(3, 1, 0), (5, 2, 2), (7, 3, 3), (2, 4, 1)]
)
@pytest.mark.parametrize(("batch", "channels", "bias"),
                         [(3, 2, True), (1, 16, True), (3, 2, False)])
def test_conv2d_in_bands_matches_one_band(monkeypatch, k, stride, padding, batch,
                                          channels, bias):
    """im2col one output row and one kernel row at a time (and dx one kernel offset
    at a time) gives the same results as all at once, in both window layouts."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((batch, channels, 11, 11))
    w = rng.standard_normal((4, channels, k, k))
    b = rng.standard_normal(4) if bias else None
    out, cache = F.conv2d_forward(x, w, b, stride, padding)
    dout = rng.standard_normal(out.shape)
    whole = F.conv2d_backward(dout, cache)
    monkeypatch.setattr(im2col, "_BAND_BYTES", 1)  # one output and kernel row a band
    monkeypatch.setattr(im2col, "_TRANSPOSE_BAND_BYTES", 1)  # one input row at a time
    monkeypatch.setattr(im2col, "_PARTS_BYTES", 0)  # dx: one kernel offset at a time
    out_banded, cache = F.conv2d_forward(x, w, b, stride, padding)
    assert len(cache[0].bands) == out.shape[2] * k
    assert cache[0].channels_last == (batch == 1)
    np.testing.assert_allclose(out_banded, out, rtol=1e-12, atol=1e-12)
    for banded, one in zip(F.conv2d_backward(dout, cache), whole, strict=True):
        if one is None:
            assert banded is None
        else:
            np.testing.assert_allclose(banded, one, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("stride", "padding"), [(1, 0), (1, 2), (2, 1)])
def test_conv2d_batch_equals_each_image_alone(stride, padding):
    """A batch's outputs and gradients equal those of its images one at a time.

    One image copies its windows from a channels-last layout, the batch from a
    channels-first one (asserted), so the two im2col layouts are checked
    against each other.
    """
    rng = np.random.default_rng(6)
    x = rng.standard_normal((8, 4, 9, 9))
    w = rng.standard_normal((5, 4, 3, 3))
    b = rng.standard_normal(5)
    out, cache = F.conv2d_forward(x, w, b, stride, padding)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = F.conv2d_backward(dout, cache)
    assert not cache[0].channels_last
    dw_sum, db_sum = np.zeros_like(dw), np.zeros_like(db)
    for n in range(len(x)):
        one, one_cache = F.conv2d_forward(x[n : n + 1], w, b, stride, padding)
        assert one_cache[0].channels_last
        np.testing.assert_allclose(one, out[n : n + 1], rtol=1e-12, atol=1e-12)
        one_dx, one_dw, one_db = F.conv2d_backward(dout[n : n + 1], one_cache)
        np.testing.assert_allclose(one_dx, dx[n : n + 1], rtol=1e-12, atol=1e-12)
        dw_sum += one_dw
        db_sum += one_db
    np.testing.assert_allclose(dw_sum, dw, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(db_sum, db, rtol=1e-12, atol=1e-12)


def test_inference_forms_skip_backward_state_only():
    """relu keep_mask=False and max pool keep_argmax=False give the same outputs."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((3, 4, 9, 9))
    out, cache = F.relu_forward(x)
    lean, none = F.relu_forward(x, keep_mask=False)
    np.testing.assert_array_equal(lean, out)
    np.testing.assert_array_equal(cache, out > 0)
    assert none is None
    for args in [(2,), (3, 2), ((2, 3), 1)]:
        out, _ = F.max_pool2d_forward(x, *args)
        lean, none = F.max_pool2d_forward(x, *args, keep_argmax=False)
        np.testing.assert_array_equal(lean, out)
        assert none is None


def test_relu_of_any_layout_keeps_values_and_shape():
    """ReLU gives max(x, 0) for contiguous, transposed and sliced inputs alike."""
    rng = np.random.default_rng(8)
    base = rng.standard_normal((6, 5, 7, 3))
    for x in (base, base.transpose(2, 3, 0, 1), base[:, 1:4, ::2], base[0, 0]):
        out, positive = F.relu_forward(x)
        np.testing.assert_array_equal(out, np.maximum(x, 0))
        np.testing.assert_array_equal(positive, x > 0)


def test_relu_backward_takes_any_dout_layout():
    """ReLU backward gives dout * mask whether dout is NCHW or the forward's layout."""
    rng = np.random.default_rng(9)
    x = rng.standard_normal((5, 7, 4, 3)).transpose(2, 3, 0, 1)  # (N, C, H, W) view
    _, positive = F.relu_forward(x)
    dout = rng.standard_normal(x.shape)
    hwnc = np.ascontiguousarray(dout.transpose(2, 3, 0, 1)).transpose(2, 3, 0, 1)
    for d in (dout, hwnc):
        np.testing.assert_array_equal(F.relu_backward(d, positive), dout * (x > 0))


def test_to_nchw_copies_any_layout_in_order():
    """to_nchw gives a C-contiguous array equal to its input, whatever the layout."""
    rng = np.random.default_rng(10)
    base = rng.standard_normal((6, 5, 4, 3))
    for x in (base, base.transpose(2, 3, 0, 1), base.transpose(3, 2, 1, 0)[:, ::2]):
        out = im2col.to_nchw(x)
        assert out.flags.c_contiguous
        np.testing.assert_array_equal(out, x)


def test_conv2d_known_values():
    """A 2x2 kernel of ones on a 3x3 ramp gives the window sums plus the bias."""
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    out, _ = F.conv2d_forward(x, np.ones((1, 1, 2, 2)), np.array([1.0]))
    np.testing.assert_array_equal(out[0, 0], [[9.0, 13.0], [21.0, 25.0]])


def test_max_pool_tie_sends_gradient_to_first_max():
    """With a tied window the whole gradient goes to the first maximum (row-major)."""
    x = np.array([[[[0.0, 2.0], [2.0, 1.0]]]])
    for stride in (None, 1):
        out, cache = F.max_pool2d_forward(x, 2, stride)
        dx = F.max_pool2d_backward(np.ones_like(out), cache)
        np.testing.assert_array_equal(dx[0, 0], [[0.0, 1.0], [0.0, 0.0]])


def test_max_pool_all_zero_window_routes_once():
    """An all-zero window (common after ReLU) passes its gradient to one entry only."""
    x = np.zeros((1, 1, 4, 4))
    out, cache = F.max_pool2d_forward(x, 2)
    dx = F.max_pool2d_backward(np.full(out.shape, 3.0), cache)
    assert dx.sum() == 12.0
    np.testing.assert_array_equal(dx[0, 0, ::2, ::2], np.full((2, 2), 3.0))


def test_pooling_drops_uncovered_border():
    """An odd size pooled by 2 ignores the last row and column, whose gradient is 0."""
    x = np.arange(25.0).reshape(1, 1, 5, 5)
    out, cache = F.max_pool2d_forward(x, 2)
    np.testing.assert_array_equal(out[0, 0], [[6.0, 8.0], [16.0, 18.0]])
    dx = F.max_pool2d_backward(np.ones_like(out), cache)
    assert dx[0, 0, 4, :].sum() == 0 and dx[0, 0, :, 4].sum() == 0
    out, cache = F.avg_pool2d_forward(x, 2)
    np.testing.assert_array_equal(out[0, 0], [[3.0, 5.0], [13.0, 15.0]])


def test_relu_zeroes_negatives():
    """relu keeps positives and zeroes the rest; its gradient is blocked at <= 0."""
    x = np.array([-1.0, 0.0, 2.0])
    out, cache = F.relu_forward(x)
    np.testing.assert_array_equal(out, [0.0, 0.0, 2.0])
    np.testing.assert_array_equal(F.relu_backward(np.ones(3), cache), [0.0, 0.0, 1.0])


def test_batch_norm_training_updates_running_stats_in_place():
    """Training normalizes with batch stats and moves the running stats in place."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((8, 2, 3, 3)) * 3 + 5
    mean, var = np.zeros(2), np.ones(2)
    out, _ = F.batch_norm2d_forward(x, np.ones(2), np.zeros(2), mean, var, True, 0.1)
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=(0, 2, 3)), 1, atol=1e-3)
    np.testing.assert_allclose(mean, 0.1 * x.mean(axis=(0, 2, 3)))
    unbiased = x.var(axis=(0, 2, 3), ddof=1)
    np.testing.assert_allclose(var, 0.9 + 0.1 * unbiased)


def test_batch_norm_eval_uses_running_stats():
    """Eval mode uses the running statistics and leaves them unchanged."""
    x = np.full((2, 1, 2, 2), 3.0)
    mean, var = np.array([1.0]), np.array([4.0])
    gamma, beta = np.array([2.0]), np.array([0.5])
    out, _ = F.batch_norm2d_forward(x, gamma, beta, mean, var, False)
    np.testing.assert_allclose(out, 2.0 * (3.0 - 1.0) / np.sqrt(4.0 + 1e-5) + 0.5)
    assert mean[0] == 1.0 and var[0] == 4.0


def test_dropout_modes_and_scaling():
    """Eval is the identity; training zeroes about p of entries, rescales the rest."""
    rng = np.random.default_rng(5)
    x = np.ones((200, 100))
    out, cache = F.dropout_forward(x, 0.3, False, rng)
    assert out is x
    out, cache = F.dropout_forward(x, 0.3, True, rng)
    assert abs((out == 0).mean() - 0.3) < 0.02
    np.testing.assert_allclose(out[out != 0], 1 / 0.7)
    assert abs(out.mean() - 1.0) < 0.03
    out, cache = F.dropout_forward(x, 1.0, True, rng)
    assert not out.any()
    with pytest.raises(ValueError, match="p must be in"):
        F.dropout_forward(x, 1.5, True, rng)


def test_softmax_is_stable_and_normalized():
    """softmax survives huge logits and each row sums to 1."""
    logits = np.array([[1000.0, 1000.0, -1000.0], [0.0, 1.0, 2.0]])
    probs = F.softmax(logits)
    assert np.isfinite(probs).all()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    np.testing.assert_allclose(probs[0], [0.5, 0.5, 0.0])


def test_softmax_cross_entropy_value_and_label_checks():
    """Uniform logits give log(K); out-of-range or float labels raise ValueError."""
    loss, dlogits = F.softmax_cross_entropy(np.zeros((4, 10)), np.arange(4))
    assert loss == pytest.approx(np.log(10))
    np.testing.assert_allclose(dlogits.sum(axis=1), 0, atol=1e-15)
    with pytest.raises(ValueError, match="labels"):
        F.softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match="integer"):
        F.softmax_cross_entropy(np.zeros((2, 3)), np.array([0.0, 1.0]))


def test_linear_shape_mismatch_raises():
    """linear_forward refuses weights whose D_in does not match x."""
    with pytest.raises(ValueError, match="D_in"):
        F.linear_forward(np.zeros((2, 3)), np.zeros((4, 5)), None)


def test_keep_freed_memory_reports_whether_it_applied():
    """The allocator tweak returns True on glibc Linux, else False; never raises."""
    import platform

    from convlab.nn._malloc import keep_freed_memory

    applied = keep_freed_memory()
    on_glibc = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"
    assert applied is on_glibc


def test_importing_functional_leaves_malloc_alone():
    """Importing the engine does not change glibc's malloc settings (no mallopt)."""
    import subprocess
    import sys

    # A fresh interpreter: ctypes.CDLL is wrapped to report any mallopt() lookup.
    code = (
        "import ctypes\n"
        "class Spy(ctypes.CDLL):\n"
        "    def __getattr__(self, name):\n"
        "        if name == 'mallopt':\n"
        "            print('mallopt called')\n"
        "        return super().__getattr__(name)\n"
        "ctypes.CDLL = Spy\n"
        "import convlab.nn.functional\n"
        "import convlab.nn\n"
        "print('imported')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True,
                          text=True, check=True)
    assert proc.stdout.split() == ["imported"]


@pytest.mark.parametrize("order", ["nchw", "hwnc", "fortran"])
def test_results_do_not_depend_on_memory_layout(order):
    """Conv, pooling, ReLU and batch norm give the same results for any memory order."""
    rng = np.random.default_rng(6)
    x = rng.standard_normal((3, 2, 7, 8))
    w = rng.standard_normal((4, 2, 3, 2))
    if order == "hwnc":
        xs = np.ascontiguousarray(x.transpose(2, 3, 0, 1)).transpose(2, 3, 0, 1)
    elif order == "fortran":
        xs = np.asfortranarray(x)
    else:
        xs = x
    for fn, args in [
        (F.conv2d_forward, (w, None, 2, 1)),
        (F.max_pool2d_forward, (3, 2)),
        (F.avg_pool2d_forward, (2,)),
        (F.relu_forward, ()),
    ]:
        expected, cache = fn(x, *args)
        got, cache_s = fn(xs, *args)
        np.testing.assert_array_equal(got, expected)
    dout = rng.standard_normal(expected.shape)
    np.testing.assert_array_equal(
        F.relu_backward(dout, cache_s), F.relu_backward(dout, cache)
    )
    gamma, beta = rng.standard_normal(2), rng.standard_normal(2)
    stats = [np.zeros(2), np.ones(2)]
    expected, cache = F.batch_norm2d_forward(x, gamma, beta, *stats, True)
    got, cache_s = F.batch_norm2d_forward(xs, gamma, beta, *stats, True)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    dout = rng.standard_normal(x.shape)
    grads_s = F.batch_norm2d_backward(dout, cache_s)
    grads = F.batch_norm2d_backward(dout, cache)
    for ours, theirs in zip(grads_s, grads, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


@pytest.mark.skipif(not (sys.platform.startswith("linux")
                         and platform.libc_ver()[0] == "glibc"),
                    reason="malloc_trim is glibc's")
def test_release_freed_memory_hands_a_threads_reserve_back():
    """Arrays freed in a worker thread stay in its heap until release_freed_memory."""
    import subprocess

    # A fresh interpreter, set up as the app is: 300 arrays of 1 MB are made and
    # dropped in a thread (its own glibc heap), then the memory is released.
    code = (
        "import threading, numpy as np\n"
        "from convlab.nn._malloc import keep_freed_memory, release_freed_memory\n"
        "def rss():\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith('VmRSS:'):\n"
        "            return int(line.split()[1]) / 1024\n"
        "keep_freed_memory()\n"
        "def work():\n"
        "    arrays = [np.ones(1 << 17) for _ in range(300)]\n"
        "    del arrays\n"
        "t = threading.Thread(target=work); t.start(); t.join()\n"
        "kept = rss()\n"
        "assert release_freed_memory()\n"
        "print(kept - rss())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, check=True).stdout
    assert float(out) > 100.0  # MB handed back of the 300 MB freed (none without)
