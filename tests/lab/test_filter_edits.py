"""convlab.lab.filter_edits: commands that set one trained filter, and its state."""

import numpy as np

from convlab import nn
from convlab.lab.filter_edits import (
    conv_filter,
    filter_input,
    freeze_command,
    is_frozen,
    restore_command,
    set_channel_command,
    sgd_step_command,
    switch_off_command,
    with_filter,
)


def _model():
    """A float32 conv net with 4 filters of 2 input channels each."""
    rng = np.random.default_rng(0)
    return nn.Sequential(nn.Conv2d(2, 4, 3, rng=rng), nn.ReLU(), nn.Flatten(),
                         nn.Linear(4 * 4 * 4, 10, rng=rng))


def test_conv_filter_returns_copies_of_one_filter():
    """conv_filter gives filter 2's (C, kh, kw) weights and bias, as copies."""
    model = _model()
    weight, bias = conv_filter(model, 0, 2)
    np.testing.assert_array_equal(weight, model.layers[0].weight.data[2])
    assert bias == model.layers[0].bias.data[2]
    weight[:] = 7
    assert not np.any(model.layers[0].weight.data[2] == 7)


def test_set_channel_writes_one_kernel_in_the_model_dtype():
    """A float64 kernel lands in filter 1, channel 1 only, as float32."""
    model = _model()
    before = model.layers[0].weight.data.copy()
    kernel = np.full((3, 3), 0.1)
    command = set_channel_command(0, 1, 1, kernel)
    kernel[:] = 5  # the command keeps its own copy
    command(model)
    after = model.layers[0].weight.data
    assert after.dtype == np.float32
    np.testing.assert_array_equal(after[1, 1], np.full((3, 3), np.float32(0.1)))
    after[1, 1] = before[1, 1]
    np.testing.assert_array_equal(after, before)


def test_switch_off_then_restore_is_bit_for_bit():
    """Switch off zeroes weight and bias; restore puts the saved values back exactly."""
    model = _model()
    saved = conv_filter(model, 0, 3)
    switch_off_command(0, 3)(model)
    assert not np.any(model.layers[0].weight.data[3])
    assert model.layers[0].bias.data[3] == 0
    restore_command(0, 3, *saved)(model)
    np.testing.assert_array_equal(model.layers[0].weight.data[3], saved[0])
    assert model.layers[0].bias.data[3] == saved[1]


def test_with_filter_changes_a_copy_only():
    """with_filter returns a twin with the filter set; the original keeps its own."""
    model = _model()
    original = model.layers[0].weight.data[0].copy()
    twin = with_filter(model, 0, 0, np.zeros((2, 3, 3)), 0.0)
    assert not np.any(twin.layers[0].weight.data[0])
    np.testing.assert_array_equal(model.layers[0].weight.data[0], original)


def test_unfreezing_the_last_filter_clears_the_mask():
    """Freeze then unfreeze leaves no mask, so nothing stays frozen by accident."""
    model = _model()
    freeze_command(0, 3, True)(model)
    assert model.layers[0].weight.freeze_mask.shape == (4, 1, 1, 1)
    assert is_frozen(model, 0, 3) and not is_frozen(model, 0, 2)
    freeze_command(0, 3, False)(model)
    assert model.layers[0].weight.freeze_mask is None
    assert model.layers[0].bias.freeze_mask is None
    assert not is_frozen(model, 0, 3)


def test_a_deep_filter_reads_the_layer_below():
    """Layer 0 reads the digit; a deeper layer reads a channel of the layer below."""
    digit = np.zeros((28, 28))
    digit[5:8, 6:22] = 1.0  # one stroke of ink
    rng = np.random.default_rng(4)
    model = nn.Sequential(nn.Conv2d(1, 3, 3, rng=rng), nn.ReLU(),
                          nn.Conv2d(3, 2, 3, rng=rng))
    np.testing.assert_array_equal(filter_input(model, digit, 0, 0), digit)
    below = model.activations(digit[None, None].astype(np.float32))[1][0, 2]
    np.testing.assert_allclose(filter_input(model, digit, 2, 2), below)
    assert filter_input(model, digit, 2, 2).dtype == np.float64


def test_sgd_step_sets_w_minus_lr_times_grad_and_restore_undoes_it_exactly():
    """The step writes w - lr * dW (in float32); restore puts back the exact bits."""
    model = _model()
    weight, bias = conv_filter(model, 0, 1)
    grad = np.random.default_rng(1).normal(size=weight.shape)
    sgd_step_command(0, 1, weight, grad, 0.1, bias, 2.0)(model)
    expected = (weight.astype(np.float64) - 0.1 * grad).astype(np.float32)
    np.testing.assert_array_equal(model.layers[0].weight.data[1], expected)
    assert model.layers[0].bias.data[1] == np.float32(float(bias) - 0.2)
    restore_command(0, 1, weight, bias)(model)
    assert np.array_equal(model.layers[0].weight.data[1], weight)
    assert model.layers[0].bias.data[1] == bias
