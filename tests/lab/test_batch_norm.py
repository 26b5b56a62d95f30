"""convlab.lab.batch_norm: a BatchNorm2d layer's statistics, train versus eval."""

import numpy as np
import pytest

from convlab.data.synthetic import generate_digits
from convlab.lab import batch_norm
from convlab.nn import functional as F
from convlab.nn.architectures import ArchSpec, ConvBlock, build
from convlab.nn.layers import BatchNorm2d
from convlab.nn.module import Sequential

# conv, BN, ReLU, pool, conv, BN, ReLU, pool, flatten, linear, ReLU, linear.
SPEC = ArchSpec(blocks=[ConvBlock(4, 3), ConvBlock(6, 3, padding=1)],
                batch_norm=True, dense=8)
BN_LAYERS = (1, 5)


def trained_model(seed=0):
    """A small batch-norm network after a few training forwards, left in training.

    Its scales, shifts and running statistics are all different from their defaults,
    so a computation that confused them would show.
    """
    rng = np.random.default_rng(seed)
    model = build(SPEC, rng)
    for layer in model:
        if isinstance(layer, BatchNorm2d):
            c = layer.num_features
            layer.weight.data[...] = rng.uniform(0.5, 1.5, c)
            layer.bias.data[...] = rng.normal(0, 0.3, c)
    model.train()
    for step in range(3):
        model(generate_digits(16, seed + step)[0][:, None])
    return model


def digits(n=12, seed=7):
    """n generated digits as a float32 (n, 1, 28, 28) batch."""
    return generate_digits(n, seed)[0][:, None]


def layer_input(model, layer_index, x_batch):
    """What the layer sees in eval mode: the previous layer's activations."""
    return model.activations(x_batch.astype(np.float64))[layer_index - 1]


def snapshot(model):
    """Every weight, gradient, running statistic, flag and cache of the model."""
    state = {name: value.copy() for name, value in model.state_dict().items()}
    grads = {name: p.grad.copy() for name, p in model.named_parameters()}
    flags = [(m.training, m._cache is None) for m in model.modules()]
    return state, grads, flags


def assert_same(before, after):
    for b, a in zip(before[:2], after[:2], strict=True):
        assert b.keys() == a.keys()
        for name in b:
            np.testing.assert_array_equal(a[name], b[name], err_msg=name)
    assert before[2] == after[2]


@pytest.mark.parametrize("layer_index", BN_LAYERS)
def test_batch_mean_and_var_are_those_of_the_layers_input(layer_index):
    """Batch mean and (biased) variance equal np.mean / np.var over (N, H, W)."""
    model, x_batch = trained_model(), digits()
    stats = batch_norm.batch_statistics(model, layer_index, x_batch)
    inputs = layer_input(model, layer_index, x_batch)
    np.testing.assert_allclose(stats.inputs, inputs, atol=1e-12)
    np.testing.assert_allclose(stats.batch_mean, np.mean(inputs, axis=(0, 2, 3)),
                               atol=1e-12)
    np.testing.assert_allclose(stats.batch_var, np.var(inputs, axis=(0, 2, 3)),
                               atol=1e-12)
    assert stats.batch_mean.dtype == np.float64


@pytest.mark.parametrize("layer_index", BN_LAYERS)
def test_output_equals_the_engines_training_forward(layer_index):
    """The output is what F.batch_norm2d_forward(training) gives, and x_hat is the
    layer's input normalized with its own batch mean and variance."""
    model, x_batch = trained_model(), digits()
    layer = model[layer_index]
    stats = batch_norm.batch_statistics(model, layer_index, x_batch)
    x = layer_input(model, layer_index, x_batch)
    out, _ = F.batch_norm2d_forward(
        x, layer.weight.data.astype(np.float64), layer.bias.data.astype(np.float64),
        layer.running_mean.astype(np.float64), layer.running_var.astype(np.float64),
        training=True, eps=layer.eps,
    )
    np.testing.assert_allclose(stats.output, out, atol=1e-10)
    mean = x.mean(axis=(0, 2, 3), keepdims=True)  # (1, C, 1, 1)
    var = x.var(axis=(0, 2, 3), keepdims=True)
    np.testing.assert_allclose(stats.x_hat, (x - mean) / np.sqrt(var + layer.eps),
                               atol=1e-10)
    np.testing.assert_allclose(stats.gamma, layer.weight.data)
    np.testing.assert_allclose(stats.beta, layer.bias.data)
    np.testing.assert_allclose(stats.running_mean, layer.running_mean)
    np.testing.assert_allclose(stats.running_var, layer.running_var)
    assert stats.eps == layer.eps


def test_normalized_values_have_mean_zero_and_variance_one():
    """Per channel, x_hat has mean 0 and variance var / (var + eps), about 1."""
    stats = batch_norm.batch_statistics(trained_model(), 1, digits())
    np.testing.assert_allclose(stats.x_hat.mean(axis=(0, 2, 3)), 0.0, atol=1e-10)
    np.testing.assert_allclose(stats.x_hat.var(axis=(0, 2, 3)),
                               stats.batch_var / (stats.batch_var + stats.eps))


@pytest.mark.parametrize("training", [True, False])
def test_the_model_is_left_exactly_as_it_was(training):
    """Weights, gradients, running statistics, train flags and caches are unchanged."""
    model = trained_model().train(training)
    model.zero_grad()
    model[0].weight.grad[...] = 0.5
    before = snapshot(model)
    batch_norm.batch_statistics(model, 1, digits())
    batch_norm.train_vs_eval(model, 5, digits(1, 9)[0, 0], digits())
    assert_same(before, snapshot(model))


def test_the_results_are_copies_not_the_models_arrays():
    """Editing a returned array (as a view might) cannot reach the model."""
    model = trained_model()
    layer = model[1]
    stats = batch_norm.batch_statistics(model, 1, digits())
    pairs = ((stats.gamma, layer.weight.data), (stats.beta, layer.bias.data),
             (stats.running_mean, layer.running_mean),
             (stats.running_var, layer.running_var))
    for mine, theirs in pairs:
        assert not np.shares_memory(mine, theirs)


def test_a_stack_of_grey_images_is_a_batch():
    """(N, 28, 28) images give the same statistics as (N, 1, 28, 28)."""
    model, x_batch = trained_model(), digits()
    with_axis = batch_norm.batch_statistics(model, 1, x_batch)
    without = batch_norm.batch_statistics(model, 1, x_batch[:, 0])
    np.testing.assert_array_equal(with_axis.output, without.output)


def test_histogram_counts_every_value():
    """histogram() matches np.histogram: counts (bins,), edges (bins + 1,)."""
    values = np.random.default_rng(0).normal(size=500)
    hist = batch_norm.histogram(values, bins=30)
    counts, edges = np.histogram(values, bins=30)
    np.testing.assert_array_equal(hist.counts, counts)
    np.testing.assert_allclose(hist.edges, edges)
    assert hist.counts.sum() == 500


def test_channel_histograms_before_and_after_normalization():
    """A channel's histograms cover its input, x_hat and output values."""
    stats = batch_norm.batch_statistics(trained_model(), 1, digits())
    hists = stats.histograms(2, 20)
    for hist, values in ((hists.before, stats.inputs[:, 2]),
                         (hists.normalized, stats.x_hat[:, 2]),
                         (hists.after, stats.output[:, 2])):
        assert hist.counts.shape == (20,) and hist.edges.shape == (21,)
        assert hist.counts.sum() == values.size
        assert hist.edges[0] == values.min() and hist.edges[-1] == values.max()


@pytest.mark.parametrize(
    ("values", "bins", "message"),
    [
        (np.array([1.0, np.nan]), 10, r"values must be finite, but 1 value"),
        (np.ones(3), 0, "bins must be at least 1, got 0"),
        (np.ones(3), 2.5, "bins must be a whole number"),
    ],
)
def test_bad_histogram_input_is_explained(values, bins, message):
    """NaN values or a bad bin count raise ValueError saying what is wrong."""
    with pytest.raises(ValueError, match=message):
        batch_norm.histogram(values, bins)


def test_a_channel_outside_the_layer_is_refused():
    """Channel 4 of a 4-channel layer raises ValueError naming the range."""
    stats = batch_norm.batch_statistics(trained_model(), 1, digits())
    with pytest.raises(ValueError, match=r"channel must be 0 to 3, got 4"):
        stats.histograms(4)


@pytest.mark.parametrize(
    ("layer_index", "message"),
    [
        (0, r"layer 0 is Conv2d, not BatchNorm2d; the batch norm layers are 1, 5"),
        (12, r"layer_index must be 0 to 11 \(the model has 12 layers\), got 12"),
        (-1, r"layer_index must be 0 to 11"),
        (1.0, r"layer_index must be a whole number"),
    ],
)
def test_a_layer_that_is_not_batch_norm_is_refused(layer_index, message):
    """The message says what the layer is and where the batch norm layers are."""
    with pytest.raises(ValueError, match=message):
        batch_norm.batch_statistics(trained_model(), layer_index, digits())


def test_a_model_without_batch_norm_is_explained():
    """A network built without batch norm: the message says to turn it on."""
    model = build(ArchSpec(blocks=[ConvBlock(4, 3)], dense=8), np.random.default_rng(0))
    with pytest.raises(ValueError, match="this model has no batch norm layer"):
        batch_norm.batch_statistics(model, 1, digits())


@pytest.mark.parametrize(
    ("x_batch", "message"),
    [
        (np.zeros((2, 3, 28, 28)),
         r"cannot read x_batch of shape \(2, 3, 28, 28\): Conv2d expects input"),
        (np.zeros((28, 28)),
         r"x_batch must be images \(N, C, H, W\) .* one image needs a batch axis"),
        (np.zeros((0, 1, 28, 28)), r"with N >= 1, got shape \(0, 1, 28, 28\)"),
        (np.full((2, 1, 28, 28), np.inf), "x_batch must be finite"),
        ([["a"]], "x_batch must hold real numbers"),
    ],
)
def test_a_bad_batch_is_explained(x_batch, message):
    """Wrong shapes, channels, NaN or text: ValueError saying what is wrong."""
    with pytest.raises(ValueError, match=message):
        batch_norm.batch_statistics(trained_model(), 1, x_batch)


def test_a_first_layer_batch_norm_checks_the_channels():
    """Batch norm as layer 0 on the wrong channel count: both numbers named."""
    model = Sequential(BatchNorm2d(2))
    with pytest.raises(ValueError, match=r"normalizes 2 channel\(s\) but receives 1"):
        batch_norm.batch_statistics(model, 0, digits())
    stats = batch_norm.batch_statistics(model, 0, np.repeat(digits(), 2, axis=1))
    np.testing.assert_allclose(stats.inputs, np.repeat(digits(), 2, axis=1))


def test_one_value_per_channel_is_not_a_batch():
    """A 1x1 input in a batch of one has no variance to speak of: explained."""
    model = Sequential(BatchNorm2d(1))
    with pytest.raises(ValueError, match=r"N\*H\*W = 1\*1\*1; use a batch of two"):
        batch_norm.batch_statistics(model, 0, np.ones((1, 1, 1, 1)))


def test_not_a_sequential_is_refused():
    """A bare layer is not a model: ValueError names what was given."""
    with pytest.raises(ValueError, match="needs an nn.Sequential, got BatchNorm2d"):
        batch_norm.batch_statistics(BatchNorm2d(4), 0, digits())


@pytest.mark.parametrize("layer_index", BN_LAYERS)
def test_eval_output_is_the_models_own(layer_index):
    """With the running statistics the digit's output is the model's eval output."""
    model, x_batch = trained_model(), digits()
    x = digits(1, 3)[0, 0]  # (28, 28)
    result = batch_norm.train_vs_eval(model, layer_index, x, x_batch)
    own = model.activations(x[None, None])[layer_index][0]  # float32 (C, H, W)
    np.testing.assert_allclose(result.eval_output, own, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("layer_index", BN_LAYERS)
def test_train_output_normalizes_with_the_batch_and_the_digit(layer_index):
    """The training output is F.batch_norm2d_forward(training) on the batch + x."""
    model, x_batch = trained_model(), digits()
    x = digits(1, 3)[0, 0]
    result = batch_norm.train_vs_eval(model, layer_index, x, x_batch)
    together = np.concatenate([x_batch, x[None, None]])  # x is the last image
    layer = model[layer_index]
    out, _ = F.batch_norm2d_forward(
        layer_input(model, layer_index, together),
        layer.weight.data.astype(np.float64), layer.bias.data.astype(np.float64),
        layer.running_mean.astype(np.float64), layer.running_var.astype(np.float64),
        training=True, eps=layer.eps,
    )
    np.testing.assert_allclose(result.train_output, out[-1], atol=1e-10)
    np.testing.assert_allclose(result.difference,
                               result.train_output - result.eval_output)
    np.testing.assert_allclose(result.channel_difference,
                               np.abs(result.difference).mean(axis=(1, 2)))
    np.testing.assert_allclose(result.running_mean, layer.running_mean)
    np.testing.assert_allclose(result.running_var, layer.running_var)
    inputs = layer_input(model, layer_index, together)
    np.testing.assert_allclose(result.batch_mean, inputs.mean(axis=(0, 2, 3)))
    np.testing.assert_allclose(result.batch_var, inputs.var(axis=(0, 2, 3)))


def test_a_bad_digit_is_explained():
    """A digit of the wrong size raises ValueError naming both shapes."""
    with pytest.raises(ValueError, match=r"x must be one image of shape \(28, 28\)"):
        batch_norm.train_vs_eval(trained_model(), 1, np.zeros((27, 28)), digits())


def test_formula_text_plugs_in_the_numbers():
    """The formula reads this channel's numbers and ends in the computed value."""
    lines = batch_norm.formula_text(2, value=0.8, mean=0.25, var=0.04, gamma=1.5,
                                    beta=-0.1, eps=1e-5)
    assert lines[0] == "channel 2: (x - mean) / sqrt(var + eps) * gamma + beta"
    assert lines[1] == "= (0.8 - 0.25) / sqrt(0.04 + 1e-05) * 1.5 + (-0.1)"
    expected = (0.8 - 0.25) / np.sqrt(0.04 + 1e-5) * 1.5 - 0.1
    assert lines[-1] == f"= {expected:.4g}"


@pytest.mark.parametrize("statistics", ["batch", "running"])
def test_formula_for_a_cell_ends_in_that_cells_output(statistics):
    """formula() of cell (channel, row, col) ends in that cell's train/eval output."""
    result = batch_norm.train_vs_eval(trained_model(), 1, digits(1, 3)[0, 0],
                                      digits())
    lines = result.formula(3, 10, 12, statistics)
    output = (result.train_output if statistics == "batch" else result.eval_output)
    assert lines[-1] == f"= {output[3, 10, 12]:.4g}"
    mean = result.batch_mean if statistics == "batch" else result.running_mean
    assert f"{mean[3]:.4g}" in lines[1]
    with pytest.raises(ValueError, match='statistics must be "batch" or "running"'):
        result.formula(3, 10, 12, "both")
    with pytest.raises(ValueError, match=r"row must be 0 to 25"):
        result.formula(3, 26, 0)


def test_difference_text_gives_this_channels_own_numbers():
    """The why-they-differ lines quote the channel's batch and running statistics
    and its mean gap."""
    model = trained_model()
    result = batch_norm.train_vs_eval(model, BN_LAYERS[0], digits(1)[0, 0], digits())
    lines = batch_norm.difference_text(result, 2)
    assert f"{result.batch_mean[2]:.4g}" in lines[0]
    assert "13 images" in lines[0]
    assert f"{result.running_var[2]:.4g}" in lines[1]
    assert f"{result.channel_difference[2]:.3g}" in lines[2]
    with pytest.raises(ValueError, match="0 to 3"):
        batch_norm.difference_text(result, 4)
