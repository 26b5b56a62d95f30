"""explain.unit_gradient: how one unit of a layer depends on every input pixel."""

import numpy as np
import pytest
from nn.cases import numeric_grad
from test_explain import arch_model

from convlab import explain


def _unit(model, x, layer_index, index):
    """The unit's value for image x (28, 28), by the model's own forward pass."""
    outputs = model.activations(x.reshape(1, 1, 28, 28))
    return float(outputs[layer_index][(0, *index)])


@pytest.mark.parametrize("name", ["padding", "stride-2", "avg-pool", "batch-norm"])
def test_unit_gradient_matches_finite_differences(name):
    """d(unit)/dx equals the central difference for a map unit and a vector unit."""
    model = arch_model(name).to(np.float64)
    model.eval()
    x = np.random.default_rng(0).random((28, 28))
    shapes = [a.shape[1:] for a in model.activations(x.reshape(1, 1, 28, 28))]
    conv_like = [i for i, s in enumerate(shapes) if len(s) == 3][-1]
    c, h, w = shapes[conv_like]
    vector = len(shapes) - 1
    for layer_index, index, args in (
            (conv_like, (c - 1, h // 2, w // 2), (c - 1, h // 2, w // 2)),
            (vector, (3,), (3, 0, 0))):
        got = explain.unit_gradient(model, x, layer_index, *args)
        probe = x.copy()
        expected = numeric_grad(
            lambda p=probe, li=layer_index, i=index: _unit(model, p, li, i), probe)
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)


def test_unit_gradient_lies_inside_the_receptive_field():
    """Every pixel that moves the unit is inside receptive_field's box."""
    model = arch_model("padding")
    x = np.random.default_rng(1).random((28, 28))
    grad = explain.unit_gradient(model, x, 3, 1, 5, 6)
    top, left, bottom, right = explain.receptive_field(model, 3, 5, 6)
    outside = grad.copy()
    outside[top:bottom, left:right] = 0
    assert np.abs(grad).max() > 0 and not outside.any()


def test_unit_gradient_refuses_a_unit_that_does_not_exist():
    """A channel, row or column outside the layer's output is a clear ValueError."""
    model = arch_model("padding")
    x = np.zeros((28, 28))
    with pytest.raises(ValueError, match="channel must be a whole number"):
        explain.unit_gradient(model, x, 0, 99, 0, 0)
    with pytest.raises(ValueError, match="row must be a whole number"):
        explain.unit_gradient(model, x, 0, 0, 100, 0)
