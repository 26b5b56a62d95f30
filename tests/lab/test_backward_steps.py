"""convlab.lab.backward_steps: the backward loops one cell at a time, vs reference."""

import numpy as np
import pytest

from convlab import explain, nn
from convlab.lab.backward_steps import (
    conv_backward_steps,
    crop_padding,
    network_dout,
    pool_backward_steps,
    single_one,
)
from convlab.nn import reference


def _digit():
    """A seven-like stroke, 28x28 in [0, 1]."""
    image = np.zeros((28, 28))
    image[5:8, 6:22] = 1.0
    image[8:24, 17:20] = 0.8
    return image


def _reference_conv(x, kernel, dout, stride, padding):
    """reference.conv_backward for one image, one filter, one channel."""
    cache = (x[None, None], kernel[None, None], np.zeros(1), (stride, stride),
             (padding, padding))
    dx, dw, db = reference.conv_backward(dout[None, None], cache)
    return dx[0, 0], dw[0, 0], db[0]


@pytest.mark.parametrize("stride, padding, f", [(1, 0, 3), (2, 1, 3), (3, 2, 5),
                                                (1, 1, 2)])
def test_running_conv_gradients_end_at_reference_conv_backward(stride, padding, f):
    """After the last step dW, db equal conv_backward's exactly; dx once cropped."""
    rng = np.random.default_rng(stride + padding + f)
    x, kernel = _digit(), rng.normal(size=(f, f))
    out = (28 + 2 * padding - f) // stride + 1
    dout = rng.normal(size=(out, out))
    steps = list(conv_backward_steps(x, kernel, dout, stride, padding))
    dx, dw, db = _reference_conv(x, kernel, dout, stride, padding)
    assert len(steps) == out * out
    np.testing.assert_array_equal(steps[-1].dw, dw)
    assert steps[-1].db == db
    np.testing.assert_allclose(steps[-1].db, dout.sum())
    np.testing.assert_array_equal(crop_padding(steps[-1].dx_pad, padding), dx)


def test_each_conv_step_adds_one_cells_share_in_reading_order():
    """Step k is cell divmod(k, out_w); it adds g * patch to dW and g * W to dx."""
    rng = np.random.default_rng(1)
    x, kernel, stride = _digit(), rng.normal(size=(3, 3)), 2
    dout = rng.normal(size=(13, 13))
    steps = list(conv_backward_steps(x, kernel, dout, stride, 0))
    for before, step in zip(steps, steps[1:], strict=False):
        assert (step.out_row, step.out_col) == divmod(step.index, 13)
        assert (step.top, step.left) == (step.out_row * 2, step.out_col * 2)
        assert step.g == dout[step.out_row, step.out_col]
        np.testing.assert_array_equal(step.patch,
                                      x[step.top:step.top + 3, step.left:step.left + 3])
        np.testing.assert_allclose(step.dw - before.dw, step.g * step.patch)
        change = step.dx_pad - before.dx_pad
        np.testing.assert_allclose(
            change[step.top:step.top + 3, step.left:step.left + 3], step.g * kernel)
        change[step.top:step.top + 3, step.left:step.left + 3] = 0
        assert not np.any(change)


@pytest.mark.parametrize("mode, size, stride", [("max", 2, 2), ("avg", 2, 2),
                                                ("max", 3, 2), ("avg", 3, 1)])
def test_running_pool_dx_ends_at_reference_pool_backward(mode, size, stride):
    """After the last step dx equals pool_backward's, overlapping windows included."""
    rng = np.random.default_rng(size * stride)
    x = np.maximum(rng.normal(size=(12, 12)), 0)
    out = (12 - size) // stride + 1
    dout = rng.normal(size=(out, out))
    steps = list(pool_backward_steps(x, size, stride, mode, dout))
    _, cache = reference.pool_forward(x[None, None], size, stride,
                                      "max" if mode == "max" else "average")
    expected = reference.pool_backward(dout[None, None], cache)[0, 0]
    np.testing.assert_array_equal(steps[-1].dx, expected)


def test_max_pool_step_routes_to_the_argmax_and_average_shares_equally():
    """Max sends all of g to the window's argmax; average gives each cell g/(f*f)."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(8, 8))
    dout = rng.normal(size=(4, 4))
    for step in pool_backward_steps(x, 2, 2, "max", dout):
        winner = np.unravel_index(np.argmax(step.window), (2, 2))
        expected = np.zeros((2, 2))
        expected[winner] = step.g
        np.testing.assert_array_equal(step.share, expected)
    for step in pool_backward_steps(x, 2, 2, "avg", dout):
        np.testing.assert_array_equal(step.share, np.full((2, 2), step.g / 4))


def test_unknown_pool_mode_is_refused():
    """A mode other than max or average is a ValueError naming it."""
    with pytest.raises(ValueError, match="median"):
        list(pool_backward_steps(np.ones((4, 4)), 2, 2, "median", np.ones((2, 2))))


def test_single_one_is_one_cell():
    """single_one puts exactly one 1 at the chosen cell."""
    dout = single_one((4, 5), 2, 3)
    assert dout.sum() == 1.0 and dout[2, 3] == 1.0


def _model():
    """A small conv net: conv 3x3 (4 filters), ReLU, max pool, dense."""
    rng = np.random.default_rng(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3, rng=rng), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(4, 2, 3, padding=1, rng=rng), nn.ReLU(),
                         nn.Flatten(), nn.Linear(2 * 13 * 13, 10, rng=rng))


@pytest.mark.parametrize("layer_index, filter_index", [(0, 2), (3, 1)])
def test_network_dout_is_backprops_grad_output_for_the_predicted_digit(
        layer_index, filter_index):
    """Without a target, dout is backprop's grad_output of the filter for the answer."""
    model = _model()
    result = network_dout(model, _digit(), layer_index, filter_index)
    trace = explain.backprop(model, _digit(), result.predicted)
    assert result.target == result.predicted == int(np.argmax(trace.probabilities))
    np.testing.assert_array_equal(
        result.dout, trace.layers[layer_index].grad_output[filter_index])
    other = (result.predicted + 1) % 10
    chosen = network_dout(model, _digit(), layer_index, filter_index, other)
    np.testing.assert_array_equal(
        chosen.dout,
        explain.backprop(model, _digit(), other).layers[layer_index]
        .grad_output[filter_index])


def test_network_dout_through_the_steps_gives_backprops_filter_gradient():
    """Walking layer 0 with the real dout ends at backprop's dW of the filter."""
    model = _model()
    result = network_dout(model, _digit(), 0, 1)
    kernel = model.layers[0].weight.data[1, 0].astype(np.float64)
    *_, last = conv_backward_steps(_digit(), kernel, result.dout, 1, 0)
    trace = explain.backprop(model, _digit(), result.target)
    np.testing.assert_allclose(last.dw, trace.layers[0].grad_weight[1, 0], rtol=1e-9,
                               atol=1e-12)
    np.testing.assert_allclose(last.db, trace.layers[0].grad_bias[1], rtol=1e-9)
