"""Tests for lab.conv_depth: a filter's channels added up, a layer on a batch."""

import numpy as np
import pytest

from convlab.lab.conv_depth import channel_sums, layer_on_batch
from convlab.nn.architectures import NAMED_ARCHS, build


@pytest.fixture
def model():
    return build(NAMED_ARCHS["sample"], np.random.default_rng(0))


@pytest.fixture
def images():
    return np.random.default_rng(1).random((4, 1, 28, 28)).astype(np.float32)


def _second_conv(model):
    return [i for i, layer in enumerate(model.layers)
            if type(layer).__name__ == "Conv2d"][1]


def test_partial_maps_plus_bias_are_the_layers_output(model, images):
    """The partial maps of conv 2's filter 5 add up, with its bias, to the map the
    layer computes, and the check says how close."""
    i = _second_conv(model)
    outputs = model.activations(images[:1])
    sums = channel_sums(model.layers[i], outputs[i - 1], outputs[i], 5)
    np.testing.assert_allclose(sums.maps.partial.sum(axis=0) + sums.maps.bias,
                               outputs[i][0, 5], rtol=1e-5, atol=1e-5)
    assert sums.maps.bias == pytest.approx(float(model.layers[i].bias.data[5]))
    assert sums.difference < 1e-4
    assert len(sums.labels()) == model.layers[i].in_channels
    assert sums.labels()[0].startswith(f"channel {sums.maps.order[0]}\n")
    assert "before the ReLU" in sums.explanation()


def test_a_conv_without_bias_says_so(images):
    """A conv layer before batch norm has no bias: the sums add none and say why."""
    model = build(NAMED_ARCHS["sample-bn"], np.random.default_rng(0))
    outputs = model.activations(images[:1])
    sums = channel_sums(model.layers[0], images[:1], outputs[0], 0)
    assert not sums.has_bias and sums.maps.bias == 0.0
    assert "no bias" in sums.explanation() and "no bias" in sums.check_lines()[0]


def test_a_bad_filter_index_is_refused(model, images):
    """A filter index outside the layer says the range."""
    outputs = model.activations(images[:1])
    with pytest.raises(ValueError, match="0 to 31"):
        channel_sums(model.layers[0], images[:1], outputs[0], 32)


def test_layer_on_batch_matches_the_model_and_the_shapes(model, images):
    """The batched call's output is the model's own for those filters, and every
    shape number is batch_shapes'."""
    i = _second_conv(model)
    run = layer_on_batch(model, i, images)
    expected = model.activations(images)[i][:, :3]
    np.testing.assert_allclose(run.output, expected, rtol=1e-5, atol=1e-6)
    assert run.shapes.output_shape == run.output.shape == (4, 3, 11, 11)
    assert run.shapes.input_shape == run.inputs.shape == (4, 32, 13, 13)
    assert run.shapes.weight_shape == run.weights.shape == (3, 32, 3, 3)


def test_layer_on_batch_refuses_a_layer_that_is_not_conv(model, images):
    """Asking a ReLU for a batched convolution says what it is."""
    with pytest.raises(ValueError, match="ReLU, not Conv2d"):
        layer_on_batch(model, 1, images)
