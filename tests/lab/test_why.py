"""lab.why: the Why tab's shift, scales, enlarged digits, occlusion checks, texts."""

import numpy as np
import pytest

from convlab import explain, nn
from convlab.data.synthetic import generate_digits
from convlab.lab import why
from convlab.nn.architectures import NAMED_ARCHS, build
from convlab.resources import BUNDLED_MODEL, resource_path


@pytest.fixture(scope="module")
def model():
    """The bundled trained model."""
    return nn.load_model(resource_path(BUNDLED_MODEL)).model


def digit(seed=0):
    """One generated (28, 28) digit."""
    return generate_digits(1, seed)[0][0]


def test_shift_moves_by_exactly_the_pixels_asked_with_zero_fill():
    """shift_image moves every pixel by (down, right); what comes in is 0."""
    x = np.arange(1, 28 * 28 + 1, dtype=np.float64).reshape(28, 28)
    for down, right in [(0, 0), (3, 0), (0, -2), (-5, 4), (27, 27), (-28, 0)]:
        out = why.shift_image(x, down, right)
        expected = np.zeros_like(x)
        for r in range(28):
            for c in range(28):
                if 0 <= r - down < 28 and 0 <= c - right < 28:
                    expected[r, c] = x[r - down, c - right]
        np.testing.assert_array_equal(out, expected)


def test_clamp_and_text_of_the_shift():
    """The shift stays within MAX_SHIFT and reads in plain words."""
    assert why.clamp_shift(99, -99) == (why.MAX_SHIFT, -why.MAX_SHIFT)
    assert why.shift_text(2, -1) == "2 px down, 1 px left"
    assert why.shift_text(0, 0) == "not shifted"


def test_top_two_are_the_two_highest_probabilities():
    """The enlarged digits are the prediction and the runner-up."""
    assert why.top_two([0.1, 0.05, 0.6, 0.0, 0.25, 0, 0, 0, 0, 0]) == (2, 4)


def test_shared_levels_are_symmetric_and_cover_every_map():
    """One symmetric scale for all ten, at least as large as any |value|."""
    maps = np.random.default_rng(0).normal(size=(10, 28, 28))
    low, high = why.shared_levels(maps)
    assert low == -high and high >= np.abs(maps).max()


@pytest.mark.parametrize("size, stride", [(0, 2), (29, 2), (4, 0), (-1, 1)])
def test_impossible_occlusion_settings_say_why(size, stride):
    """A patch that does not fit or a stride below 1 gets a message."""
    assert why.occlusion_problem(size, stride)


@pytest.mark.parametrize("size, stride", [(1, 1), (4, 2), (28, 5), (6, 9)])
def test_possible_occlusion_settings_pass(size, stride):
    """Every size 1..28 with stride >= 1 is accepted."""
    assert why.occlusion_problem(size, stride) is None


def test_occlusion_grid_text_counts_patches_and_warns_of_gaps():
    """The grid text names n x n and says when pixels are never hidden."""
    assert why.occlusion_grid_text(4, 2).startswith("13 x 13 patches")
    assert "never hidden" in why.occlusion_grid_text(2, 5)


@pytest.mark.parametrize("size, stride", [(4, 2), (3, 5), (7, 7)])
def test_occlusion_per_pixel_is_the_mean_of_the_covering_patches(size, stride):
    """Each pixel averages the patches over it; uncovered pixels are NaN."""
    n = (28 - size) // stride + 1
    occ = np.random.default_rng(1).normal(size=(n, n))
    out = why.occlusion_per_pixel(occ, size, stride)
    for r, c in [(0, 0), (5, 9), (27, 27), (13, 2)]:
        covering = [occ[i, j] for i in range(n) for j in range(n)
                    if i * stride <= r < i * stride + size
                    and j * stride <= c < j * stride + size]
        if covering:
            assert out[r, c] == pytest.approx(np.mean(covering))
        else:
            assert np.isnan(out[r, c])


def test_explain_input_matches_explain(model):
    """Saliency, occlusion and probabilities equal explain's for the shifted input."""
    x = digit(3)
    result = why.explain_input(model, x, shift=(2, -3), size=5, stride=3)
    shifted = why.shift_image(x, 2, -3)
    np.testing.assert_array_equal(result.x, shifted)
    np.testing.assert_allclose(result.saliency, explain.saliency_all(model, shifted))
    np.testing.assert_allclose(result.probabilities,
                               explain.backprop(model, shifted, 0).probabilities,
                               atol=1e-6)
    np.testing.assert_allclose(result.unshifted,
                               explain.backprop(model, x, 0).probabilities, atol=1e-6)
    assert (result.best, result.runner_up) == why.top_two(result.probabilities)
    np.testing.assert_allclose(result.occlusion,
                               explain.occlusion(model, shifted, result.best, 5, 3))
    assert result.untrained is None


def test_untrained_twin_is_new_weights_and_leaves_the_model(model):
    """The twin has the model's architecture, other weights; the model is unchanged."""
    before = [p.data.copy() for p in model.parameters()]
    twin = why.untrained_twin(model, np.random.default_rng(0))
    after = [p.data for p in model.parameters()]
    assert all(np.array_equal(a, b) for a, b in zip(before, after, strict=True))
    assert [p.shape for p in twin.parameters()] == [p.shape for p in after]
    assert not np.array_equal(twin.parameters()[0].data, after[0])
    x = digit(1)
    result = why.explain_input(model, x, untrained=twin)
    np.testing.assert_allclose(result.untrained,
                               explain.saliency(twin, x, result.best))
    assert not np.allclose(result.untrained, result.saliency[result.best])


def test_untrained_twin_refuses_a_network_the_editor_cannot_build():
    """A hand-made network has no ArchSpec: a clear ValueError."""
    net = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    with pytest.raises(ValueError, match="editor"):
        why.untrained_twin(net, np.random.default_rng(0))
    assert build(NAMED_ARCHS["sample"], np.random.default_rng(0)) is not None


def test_shift_change_text_names_the_digit_before_and_after():
    """The digit predicted before the shift, its probability before and after."""
    before = np.array([0.0, 0.0, 0.0, 0.9, 0.0, 0.1, 0.0, 0.0, 0.0, 0.0])
    after = np.array([0.0, 0.0, 0.0, 0.4, 0.0, 0.6, 0.0, 0.0, 0.0, 0.0])
    assert why.shift_change_text(before, after) == (
        "Before the shift: 3, P(3) = 90.0%. After: P(3) = 40.0%; the network now "
        "says 5 (60.0%).")
    assert why.shift_change_text(before, before).endswith("P(3) = 90.0%.")
