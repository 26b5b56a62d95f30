"""Tests for the Backward view's numbers and words: target, near-zero note, scales."""

import numpy as np
import pytest

from convlab import explain
from convlab.lab import backward
from convlab.nn.architectures import NAMED_ARCHS, build


def _probabilities(top, top_p, second, second_p):
    """Ten probabilities with top and second given and the rest shared equally."""
    p = np.full(10, (1.0 - top_p - second_p) / 8)
    p[top], p[second] = top_p, second_p
    return p


def test_default_target_is_the_label_when_known_else_the_prediction():
    """A test image's true digit wins; a drawing gets the predicted digit."""
    p = _probabilities(4, 0.7, 9, 0.2)
    assert backward.default_target(p, label=9) == 9
    assert backward.default_target(p, label=0) == 0
    assert backward.default_target(p) == 4


def test_runner_up_is_the_most_probable_other_digit():
    """The runner-up of the target is the next guess, never the target itself."""
    p = _probabilities(4, 0.7, 9, 0.2)
    assert backward.runner_up(p, 4) == 9
    assert backward.runner_up(p, 9) == 4


def test_sure_network_note_says_gradients_are_near_zero_and_offers_runner_up():
    """At P(target) >= 99% the note gives the loss, says every gradient is close to
    zero, and offers the runner-up digit."""
    p = _probabilities(3, 0.998, 8, 0.0015)
    loss = -np.log(p[3])
    note = backward.loss_note(loss, p, 3)
    assert note.sure and note.offer == 8
    assert note.text.startswith(f"Loss {loss:.3g}: the network is already sure this "
                                "is a 3")
    assert "every gradient is close to zero" in note.text


def test_unsure_network_note_plugs_in_the_numbers():
    """Below 99% the note writes the loss formula with its numbers and offers none."""
    p = _probabilities(3, 0.6, 8, 0.3)
    note = backward.loss_note(-np.log(0.3), p, 8)
    assert not note.sure and note.offer is None
    assert "L = −log P(8) = −log 0.3 = 1.2" in note.text
    assert "only 30.0%" in note.text


def test_sure_threshold_matches_the_largest_score_gradient():
    """Sure means every entry of dL/d(scores) = P - onehot is at most 0.01."""
    model = build(NAMED_ARCHS["tiny"], np.random.default_rng(0))
    x = np.random.default_rng(1).random((28, 28))
    for target in range(10):
        trace = explain.backprop(model, x, target)
        sure = backward.is_sure(trace.probabilities, target)
        largest = np.abs(trace.layers[-1].grad_output).max()
        assert sure == (largest <= 1 - backward.SURE_PROBABILITY)


def test_not_finite_loss_says_so():
    """A NaN loss is named as such and blamed on blown-up weights."""
    p = np.full(10, np.nan)
    note = backward.loss_note(np.nan, p, 2)
    assert "not a number" in note.text and note.offer is None


def test_percent_never_rounds_to_certainty():
    """99.97% is not written as 100%, nor 0.01% as 0%."""
    assert backward.percent(0.9997) == "more than 99.9%"
    assert backward.percent(0.0001) == "less than 0.1%"
    assert backward.percent(1.0) == "100.0%"


def test_per_layer_scale_keeps_the_gradients_with_one_symmetric_level():
    """Per layer the tiles are the gradients and the levels fit the largest."""
    grad = np.array([[[0.5, -0.02]], [[0.001, 0.0]]])  # (2, 1, 2)
    tiles, levels, scales = backward.scaled_maps(grad, per_map=False)
    np.testing.assert_array_equal(tiles, grad)
    assert levels[0] == -levels[1] and levels[1] >= 0.5
    assert scales is None


def test_per_map_scale_divides_each_map_by_its_largest_value():
    """Per map each map reaches +-1 at its largest |value|; a zero map stays zero."""
    grad = np.array([[[0.5, -0.02]], [[0.001, -0.004]], [[0.0, 0.0]]])  # (3, 1, 2)
    tiles, levels, scales = backward.scaled_maps(grad, per_map=True)
    assert levels == (-1.0, 1.0)
    np.testing.assert_allclose(scales, [0.5, 0.004, 0.0])
    np.testing.assert_allclose(tiles[:2] * scales[:2, None, None], grad[:2])
    np.testing.assert_array_equal(tiles[2], 0.0)
    np.testing.assert_allclose(np.abs(tiles[:2]).max(axis=(1, 2)), 1.0)


def test_enlarged_gradient_map_shows_that_maps_gradient_and_explains_it():
    """The enlarged gradient map is the map's dL/d(output) with a gradient text."""
    model = build(NAMED_ARCHS["tiny"], np.random.default_rng(0))
    trace = explain.backprop(model, np.random.default_rng(1).random((28, 28)), 5)
    grad = trace.layers[0].grad_output
    shown = backward.enlarged_gradient_map("Conv", grad, 2, trace.loss,
                                           trace.probabilities, 5)
    np.testing.assert_array_equal(shown.values, grad[2])
    assert shown.heading.startswith("Gradient dL/d(output), Conv: map 2 of")
    assert "A gradient map" in shown.explanation
    assert f"−log P(5) = −log {backward.number(trace.probabilities[5])}" in \
        shown.explanation


def test_enlarged_weight_gradient_shows_every_channel_of_dw():
    """The enlarged dL/dW of a filter holds that filter's dW numbers and no others."""
    model = build(NAMED_ARCHS["sample"], np.random.default_rng(0))
    trace = explain.backprop(model, np.random.default_rng(1).random((28, 28)), 5)
    dw = next(layer.grad_weight for layer in trace.layers[1:]
              if layer.grad_weight is not None and layer.grad_weight.ndim == 4)
    shown = backward.enlarged_weight_gradient("Conv", dw, 7, 0, trace.loss,
                                              trace.probabilities, 5)
    values = shown.values[~shown.gaps]
    np.testing.assert_allclose(np.sort(values), np.sort(dw[7].ravel()))
    assert "dL/dW for this filter" in shown.explanation
    assert "A filter's weights" not in shown.explanation


@pytest.mark.parametrize("value, text", [(0.00213, "0.00213"), (1.65, "1.65"),
                                         (-0.5, "−0.5"), (-0.0, "0"),
                                         (np.nan, "NaN")])
def test_number_text(value, text):
    """Losses and gradients are written with three significant digits."""
    assert backward.number(value) == text


def test_probability_in_the_formula_is_never_rounded_to_one():
    """P = 0.9999937 is written with just enough decimals to differ from 1."""
    assert backward.probability(0.9999937) == "0.999994"
    assert backward.probability(0.871) == "0.871"
    p = np.full(10, 1e-7)
    p[4] = 1 - 9e-7
    assert "−log 0.9999991 =" in backward.loss_formula(9e-7, p, 4)


def test_sure_note_never_shows_a_negative_loss():
    """A certain network's rounding (loss -1e-16) reads as loss 0."""
    p = np.zeros(10)
    p[1] = 1.0
    assert backward.loss_note(-1e-16, p, 1).text.startswith("Loss 0:")


@pytest.mark.parametrize("value, text", [(3.26e-7, "3.3e-07"), (-0.5, "-5.0e-01"),
                                         (0.0, "0"), (np.inf, "∞")])
def test_gradient_text_keeps_tiny_gradients_readable(value, text):
    """A gradient of 3e-7 is written as such in the table, never as 0.00."""
    assert backward.gradient_text(value) == text
