"""convlab.lab.update: one filter's SGD step, a gradient check, one batch's changes."""


import numpy as np
import pytest

from convlab import explain, nn
from convlab.data.synthetic import generate_digits
from convlab.lab.filter_edits import sgd_step_command
from convlab.lab.snapshots import clone_model
from convlab.lab.update import (
    CHECK_STEP,
    batch_loss,
    batch_update,
    filter_step,
    float64_copy,
    gradient_check,
    predicted_digit,
)
from convlab.nn.architectures import NAMED_ARCHS, build
from convlab.resources import BUNDLED_MODEL, resource_path
from convlab.train import TrainConfig, Trainer

BUNDLED = resource_path(BUNDLED_MODEL)


@pytest.fixture(scope="module")
def network():
    """The bundled trained network, or the sample network with random weights."""
    if BUNDLED.is_file():
        return nn.load_model(BUNDLED).model
    return build(NAMED_ARCHS["sample"], np.random.default_rng(0))


def digit(seed=0):
    """One generated digit (28, 28) in [0, 1] and its label."""
    x, y = generate_digits(1, seed)
    return x[0], int(y[0])


def test_filter_step_is_w_minus_lr_times_backprops_gradient(network):
    """new_weight is w - lr * explain.backprop's grad_weight; the model is untouched."""
    image, label = digit()
    before = network.layers[3].weight.data.copy()
    step = filter_step(network, image, label, 3, 5, 0.01)
    trace = explain.backprop(network, image, label)
    grad = trace.layers[3].grad_weight[5]
    np.testing.assert_array_equal(step.grad_weight, grad)
    weight = network.layers[3].weight.data[5].astype(np.float64)
    np.testing.assert_array_equal(step.new_weight, weight - 0.01 * grad)
    assert step.new_bias == pytest.approx(
        float(network.layers[3].bias.data[5]) - 0.01 * trace.layers[3].grad_bias[5])
    assert step.loss_before == pytest.approx(trace.loss)
    np.testing.assert_array_equal(network.layers[3].weight.data, before)


@pytest.mark.parametrize("layer_index, filter_index", [(0, 0), (0, 7), (3, 12)])
def test_a_small_step_lowers_the_loss_as_the_first_order_estimate_says(
        network, layer_index, filter_index):
    """For a small lr the target's loss drops by about lr * |dW|^2."""
    image, _ = digit(1)
    wrong = 0  # a digit the network does not see: a loss with room to fall
    step = filter_step(network, image, wrong, layer_index, filter_index, 1e-4)
    assert step.predicted_change < 0
    assert step.loss_after < step.loss_before
    change = step.loss_after - step.loss_before
    assert change == pytest.approx(step.predicted_change, rel=0.1)


def test_the_after_loss_is_the_loss_of_the_applied_command(network):
    """loss_after is backprop's loss of a copy with sgd_step_command applied."""
    image, label = digit(2)
    step = filter_step(network, image, label, 0, 3, 0.05)
    twin = clone_model(network)
    sgd_step_command(0, 3, step.weight, step.grad_weight, step.lr, step.bias,
                     step.grad_bias)(twin)
    assert explain.backprop(twin, image, label).loss == step.loss_after


@pytest.mark.parametrize("lr", [0.0, -0.1, float("nan")])
def test_filter_step_refuses_a_learning_rate_that_is_not_positive(network, lr):
    """A learning rate of 0, below 0 or NaN is refused with a message."""
    image, label = digit()
    with pytest.raises(ValueError, match="learning rate"):
        filter_step(network, image, label, 0, 0, lr)


@pytest.mark.parametrize("layer_index", [0, 3])
def test_gradient_check_agrees_with_backprop_in_float64(network, layer_index):
    """Every weight of one kernel: central difference = backprop to 1e-3 relative."""
    image, label = digit(3)
    label = (label + 1) % 10  # a wrong digit: its loss has sizeable gradients
    trace = explain.backprop(network, image, label)
    grads = trace.layers[layer_index].grad_weight  # (F, C, 3, 3)
    # The kernel that matters most here (many get no gradient: a dead ReLU).
    filter_index, channel = np.unravel_index(
        np.abs(grads).sum(axis=(2, 3)).argmax(), grads.shape[:2])
    before = network.layers[layer_index].weight.data.copy()
    checked = 0
    for row in range(3):
        for col in range(3):
            check = gradient_check(network, image, label, layer_index,
                                   int(filter_index), int(channel), row, col)
            assert check.h == CHECK_STEP
            assert check.numeric == pytest.approx(
                (check.loss_plus - check.loss_minus) / (2 * check.h))
            expected = grads[filter_index, channel, row, col]
            assert check.backprop == pytest.approx(expected, rel=1e-9, abs=1e-15)
            if abs(check.backprop) > 1e-6:
                assert check.relative_difference < 1e-3
                checked += 1
    assert checked > 0
    np.testing.assert_array_equal(network.layers[layer_index].weight.data, before)


def test_float64_copy_is_independent_and_float64(network):
    """The copy holds the same values in float64 and does not share arrays."""
    twin = float64_copy(network)
    for p, q in zip(network.parameters(), twin.parameters(), strict=True):
        assert q.data.dtype == np.float64
        np.testing.assert_array_equal(q.data, p.data)
        assert not np.shares_memory(p.data, q.data)


def test_batch_update_measures_each_layer_and_the_batch_loss():
    """Norms and ratios match the weights before and after one Trainer step."""
    model = build(NAMED_ARCHS["sample"], np.random.default_rng(0))
    x, y = generate_digits(32, 5)
    x = x[:, None].astype(np.float32)
    trainer = Trainer(model, (x, y), None,
                      TrainConfig(epochs=1, batch_size=32, lr=0.01, optimizer="sgd"))
    before = clone_model(model)
    next(trainer.steps())
    update = batch_update(before, model, x, y, 0.01, 1)
    kinds = [entry.kind for entry in update.layers]
    assert kinds == ["Conv2d", "Conv2d", "Linear", "Linear"]
    for entry in update.layers:
        w0 = before.layers[entry.layer_index].weight.data.astype(np.float64)
        w1 = model.layers[entry.layer_index].weight.data.astype(np.float64)
        grad = model.layers[entry.layer_index].weight.grad.astype(np.float64)
        assert entry.weight_norm == pytest.approx(np.linalg.norm(w0))
        assert entry.grad_norm == pytest.approx(np.linalg.norm(grad))
        assert entry.change_ratio == pytest.approx(
            np.linalg.norm(w1 - w0) / np.linalg.norm(w0))
        # Plain SGD without momentum: the measured change is lr * dW exactly.
        assert entry.change_ratio == pytest.approx(entry.sgd_ratio, rel=1e-3)
    assert update.loss_before == pytest.approx(batch_loss(before, x, y))
    assert update.loss_after == pytest.approx(batch_loss(model, x, y))
    assert update.loss_after < update.loss_before
    assert update.batch_size == 32


def test_predicted_digit_is_the_most_probable_one(network):
    """predicted_digit is the argmax of backprop's probabilities."""
    for seed in range(3):
        image, _ = digit(seed)
        probabilities = explain.backprop(network, image, 0).probabilities
        assert predicted_digit(network, image) == int(np.argmax(probabilities))
