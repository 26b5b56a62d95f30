"""Layers: a whole-network gradient check, configs, reprs and input validation."""

import json

import numpy as np
import pytest
from cases import numeric_grad

from convlab import nn


def gradcheck_net(rng):
    """Every layer kind; strides, padding, non-square and overlapping windows."""
    return nn.Sequential(
        # No bias before BatchNorm: the batch mean cancels it, its gradient is 0.
        nn.Conv2d(2, 3, 3, stride=2, padding=1, bias=False, rng=rng, dtype=np.float64),
        nn.BatchNorm2d(3, dtype=np.float64),
        nn.ReLU(),
        nn.MaxPool2d(2, stride=1),
        nn.Conv2d(3, 4, (2, 2), padding=(1, 0), rng=rng, dtype=np.float64),
        nn.ReLU(),
        nn.AvgPool2d((2, 1)),
        nn.Flatten(),
        nn.Dropout(0.3, rng=rng),
        nn.Linear(16, 5, rng=rng, dtype=np.float64),
    )


def relative_error(a, b):
    """Largest difference relative to the gradient's scale (tiny entries carry
    finite-difference noise of about 1e-10 that would swamp an entrywise ratio)."""
    return np.max(np.abs(a - b)) / max(np.max(np.abs(a)), np.max(np.abs(b)), 1e-12)


def test_whole_network_gradients_match_finite_differences():
    """Backward through a whole Sequential with its loss equals finite differences."""
    rng = np.random.default_rng(0)
    net = gradcheck_net(rng)
    dropout = net[8]
    x = rng.standard_normal((3, 2, 9, 8))
    y = np.array([0, 3, 4])

    def loss():
        # Same dropout mask on every evaluation, so the loss is a fixed function.
        dropout.rng = np.random.default_rng(42)
        value, _ = nn.softmax_cross_entropy(net.forward(x), y)
        return value

    loss()
    dropout.rng = np.random.default_rng(42)
    _, dlogits = nn.softmax_cross_entropy(net.forward(x), y)
    net.zero_grad()
    dx = net.backward(dlogits)

    assert relative_error(dx, numeric_grad(loss, x)) < 1e-6
    for p in net.parameters():
        # BatchNorm's running statistics move on each forward but do not enter the
        # training-mode loss, so the repeated forwards do not disturb the check.
        assert relative_error(p.grad, numeric_grad(loss, p.data)) < 1e-6, p.name


def test_eval_mode_gradients_match_finite_differences():
    """Layers in eval mode (running BN statistics, no dropout) inside a network that
    trains: backward is also exact."""
    rng = np.random.default_rng(1)
    net = gradcheck_net(rng)
    net.train().forward(rng.standard_normal((6, 2, 9, 8)))  # move the running stats
    for layer in net:
        layer.eval()  # the network itself still trains, so forward keeps its caches
    x = rng.standard_normal((2, 2, 9, 8))
    y = np.array([1, 2])

    def loss():
        return nn.softmax_cross_entropy(net.forward(x), y)[0]

    _, dlogits = nn.softmax_cross_entropy(net.forward(x), y)
    net.zero_grad()
    dx = net.backward(dlogits)
    assert relative_error(dx, numeric_grad(loss, x)) < 1e-6
    for p in net.parameters():
        assert relative_error(p.grad, numeric_grad(loss, p.data)) < 1e-6, p.name


LAYERS = [
    nn.Conv2d(3, 8, 5),
    nn.Conv2d(3, 8, (3, 1), stride=(2, 1), padding=(1, 0), bias=False),
    nn.MaxPool2d(2),
    nn.MaxPool2d((3, 2), stride=(1, 2)),
    nn.AvgPool2d(3, stride=2),
    nn.BatchNorm2d(8, eps=1e-3, momentum=0.2),
    nn.ReLU(),
    nn.Flatten(),
    nn.Linear(10, 4, bias=False),
    nn.Dropout(0.25),
]


@pytest.mark.parametrize("layer", LAYERS, ids=repr)
def test_config_round_trip(layer):
    """from_config(get_config()) rebuilds the same layer; the config is JSON-able."""

    config = layer.get_config()
    assert json.loads(json.dumps(config)) == config
    rebuilt = nn.from_config(config)
    assert type(rebuilt) is type(layer)
    assert rebuilt.get_config() == config
    assert repr(rebuilt) == repr(layer)
    assert ([p.shape for p in rebuilt.parameters()]
            == [p.shape for p in layer.parameters()])


def test_reprs_read_like_pytorch():
    """Each layer prints its settings the way PyTorch does."""
    assert repr(nn.Conv2d(1, 32, 3)) == (
        "Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1))"
    )
    assert repr(nn.Conv2d(3, 8, 5, stride=2, padding=1, bias=False)) == (
        "Conv2d(3, 8, kernel_size=(5, 5), stride=(2, 2), padding=(1, 1), bias=False)"
    )
    assert repr(nn.Linear(1600, 128)) == (
        "Linear(in_features=1600, out_features=128, bias=True)"
    )
    assert repr(nn.MaxPool2d(2)) == "MaxPool2d(kernel_size=2, stride=2)"
    assert repr(nn.AvgPool2d(3, 1)) == "AvgPool2d(kernel_size=3, stride=1)"
    assert repr(nn.BatchNorm2d(32)) == "BatchNorm2d(32, eps=1e-05, momentum=0.1)"
    assert repr(nn.Dropout(0.25)) == "Dropout(p=0.25)"
    assert repr(nn.ReLU()) == "ReLU()" and repr(nn.Flatten()) == "Flatten()"


def test_from_config_rejects_unknown_and_bad_descriptions():
    """from_config names an unknown type or a bad argument."""
    with pytest.raises(ValueError, match="unknown layer type 'Conv3d'"):
        nn.from_config({"type": "Conv3d"})
    with pytest.raises(ValueError, match="bad Linear description"):
        nn.from_config({"type": "Linear", "in_features": 3})
    with pytest.raises(ValueError, match="'type'"):
        nn.from_config(["Conv2d"])


def test_from_config_uses_the_given_generator():
    """The same seed gives the same weights when building from a config."""
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(8, 2))
    config = net.get_config()
    a = nn.from_config(config, np.random.default_rng(3))
    b = nn.from_config(config, np.random.default_rng(3))
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: nn.Conv2d(0, 4, 3), "in_channels must be >= 1"),
        (lambda: nn.Conv2d(1, 4, 3, stride=0), "stride must be >= 1"),
        (lambda: nn.Conv2d(1, 4, 3, padding=-1), "padding must be >= 0"),
        (lambda: nn.MaxPool2d(0), "kernel_size must be >= 1"),
        (lambda: nn.Dropout(1.5), r"p must be in \[0, 1\]"),
        (lambda: nn.BatchNorm2d(4, momentum=2), "momentum"),
    ],
)
def test_impossible_settings_raise(make, match):
    """Impossible layer settings raise ValueError naming the setting."""
    with pytest.raises(ValueError, match=match):
        make()


def test_channel_mismatch_names_the_numbers():
    """Feeding the wrong number of channels or features says what was expected."""
    x = np.zeros((2, 3, 8, 8), np.float32)
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\).*\(2, 3, 8, 8\)"):
        nn.Conv2d(1, 4, 3).forward(x)
    with pytest.raises(ValueError, match=r"\(N, 4, H, W\)"):
        nn.BatchNorm2d(4).forward(x)
    with pytest.raises(ValueError, match=r"\(N, 10\)"):
        nn.Linear(10, 2).forward(np.zeros((2, 9), np.float32))
    with pytest.raises(ValueError, match=r"padding"):
        nn.Conv2d(3, 4, 9).forward(x)


def test_float32_stays_float32():
    """A float32 network gives float32 outputs and gradients (the fast path)."""
    rng = np.random.default_rng(0)
    net = nn.Sequential(nn.Conv2d(1, 2, 3, rng=rng), nn.BatchNorm2d(2), nn.ReLU(),
                        nn.AvgPool2d(2), nn.Flatten(), nn.Linear(18, 3, rng=rng))
    out = net.forward(rng.random((2, 1, 8, 8), dtype=np.float32))
    assert out.dtype == np.float32
    dx = net.backward(np.ones_like(out))
    assert dx.dtype == np.float32
    assert all(p.grad.dtype == np.float32 for p in net.parameters())


def test_dropout_uses_its_own_generator():
    """Dropout masks come from the layer's Generator: same seed, same mask."""
    x = np.ones((4, 50), np.float32)
    a = nn.Dropout(0.5, rng=np.random.default_rng(7)).forward(x)
    b = nn.Dropout(0.5, rng=np.random.default_rng(7)).forward(x)
    np.testing.assert_array_equal(a, b)
    assert set(np.unique(a)) == {0.0, 2.0}
    np.testing.assert_array_equal(nn.Dropout(0.5).eval().forward(x), x)


def test_eval_mode_forward_keeps_no_cache():
    """Inference remembers nothing for backward (the im2col buffers are large), and
    a backward after it says why it cannot run."""
    rng = np.random.default_rng(0)
    net = gradcheck_net(rng).eval()
    net.forward(rng.standard_normal((3, 2, 9, 8)))
    assert all(m._cache is None for m in net.modules())
    with pytest.raises(RuntimeError, match="evaluation mode"):
        net.backward(np.ones((3, 5)))
    net.train().forward(rng.standard_normal((3, 2, 9, 8)))
    assert net._cache is not None


def _layer_by_layer(layers, x, dout):
    """Output and input gradient with the layers run strictly in the written order."""
    caches = []
    for layer in layers:
        x, cache = layer._forward(x, True)
        caches.append(cache)
    for layer, cache in zip(reversed(layers), reversed(caches), strict=True):
        dout = layer._backward(dout, cache, True)
    return x, dout


@pytest.mark.parametrize("pool", [(2, None), (3, 2), (2, 1)])
def test_relu_before_max_pool_runs_after_it_with_the_same_numbers(pool):
    """Sequential pools before the ReLU that precedes max pooling; outputs, input and
    weight gradients equal the written order's exactly, also for windows that are all
    negative, hold exact zeros or tie."""
    rng = np.random.default_rng(3)
    conv = nn.Conv2d(2, 3, 3, padding=1, rng=rng, dtype=np.float64)
    layers = [nn.ReLU(), nn.MaxPool2d(*pool), conv]
    net = nn.Sequential(*layers)
    assert net._order() == [1, 0, 2]
    # Rounded values tie often; shifted down, with a third set to exact zeros, many
    # windows hold only numbers <= 0.
    x = np.round(rng.standard_normal((4, 2, 9, 9)) - 1, 1)
    x[rng.random(x.shape) < 0.3] = 0
    out = net.forward(x)
    dout = rng.standard_normal(out.shape)
    net.zero_grad()
    dx = net.backward(dout)
    grad = conv.weight.grad.copy()

    conv.zero_grad()
    expected_out, expected_dx = _layer_by_layer(layers, x, dout)
    pooled = layers[1]._infer(np.maximum(x, 0))
    assert (pooled == 0).mean() > 0.1
    np.testing.assert_array_equal(out, expected_out)
    np.testing.assert_array_equal(dx, expected_dx)
    np.testing.assert_array_equal(grad, conv.weight.grad)
    np.testing.assert_array_equal(net.eval().forward(x), expected_out)
    # Sequential.activations shows every layer's own output, in the written order.
    np.testing.assert_array_equal(net.activations(x)[0], np.maximum(x, 0))


def test_only_relu_then_max_pool_changes_order():
    """Average pooling and a ReLU not followed by max pooling run where written."""
    net = nn.Sequential(nn.ReLU(), nn.AvgPool2d(2), nn.ReLU(), nn.ReLU(),
                        nn.MaxPool2d(2), nn.MaxPool2d(2), nn.ReLU())
    assert net._order() == [0, 1, 2, 4, 3, 5, 6]
