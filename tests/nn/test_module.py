"""Parameter, Module and Sequential: naming, modes, caches, state and initialisation."""

import numpy as np
import pytest

from convlab import nn


def small_net(rng, dtype=np.float32):
    """Conv, BN, ReLU, pool, flatten, dropout, linear: (N, 1, 8, 8) -> (N, 3)."""
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, rng=rng, dtype=dtype),
        nn.BatchNorm2d(4, dtype=dtype),
        nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.5, rng=rng),
        nn.Linear(4 * 4 * 4, 3, rng=rng, dtype=dtype),
    )


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def test_parameter_grad_matches_data(rng):
    """A Parameter's gradient starts at zero with the data's shape and dtype."""
    p = nn.Parameter(rng.random((2, 3), dtype=np.float32), name="w")
    assert p.grad.shape == p.data.shape == p.shape
    assert p.grad.dtype == np.float32
    assert not p.grad.any()
    assert p.freeze_mask is None and p.name == "w"


def test_freeze_mask_must_be_bool_and_broadcast(rng):
    """freeze_mask accepts a broadcastable bool array and rejects anything else."""
    p = nn.Parameter(np.zeros((4, 2, 3, 3)))
    p.freeze_mask = np.array([True, False, False, True])[:, None, None, None]
    assert p.freeze_mask.shape == (4, 1, 1, 1)
    with pytest.raises(ValueError, match="bool"):
        p.freeze_mask = np.ones((4, 1, 1, 1))
    with pytest.raises(ValueError, match="does not broadcast"):
        p.freeze_mask = np.ones((3, 1, 1, 1), dtype=bool)


def test_sequential_names_parameters_like_pytorch(rng):
    """Parameters are named and ordered as in PyTorch's state_dict."""
    net = small_net(rng)
    names = [name for name, _ in net.named_parameters()]
    assert names == ["0.weight", "0.bias", "1.weight", "1.bias", "6.weight", "6.bias"]
    assert [p.name for p in net.parameters()] == names
    assert [name for name, _ in net.named_buffers()] == ["1.running_mean",
                                                         "1.running_var"]


def test_default_dtype_is_float32(rng):
    """Parameters and buffers are float32 unless asked otherwise."""
    net = small_net(rng)
    assert {p.data.dtype for p in net.parameters()} == {np.dtype(np.float32)}
    assert net[1].running_var.dtype == np.float32


def test_to_float64_converts_parameters_and_buffers(rng):
    """to(float64) converts every parameter, gradient and buffer."""
    net = small_net(rng).to(np.float64)
    assert {p.data.dtype for p in net.parameters()} == {np.dtype(np.float64)}
    assert {p.grad.dtype for p in net.parameters()} == {np.dtype(np.float64)}
    assert net[1].running_mean.dtype == np.float64


def test_train_and_eval_reach_every_layer(rng):
    """eval() and train() set the mode of every layer inside the network."""
    net = small_net(rng)
    net.eval()
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())


def test_gradients_accumulate_until_zero_grad(rng):
    """Two backward passes add their gradients; zero_grad clears them in place."""
    net = small_net(rng, np.float64)
    for layer in net:
        layer.eval()  # same output every forward; the network still keeps caches
    x = rng.random((2, 1, 8, 8))
    net.backward(np.ones_like(net.forward(x)))
    first = [p.grad.copy() for p in net.parameters()]
    net.backward(np.ones_like(net.forward(x)))
    for p, g in zip(net.parameters(), first, strict=True):
        np.testing.assert_allclose(p.grad, 2 * g)
    grad_ref = net[0].weight.grad
    net.zero_grad()
    assert grad_ref is net[0].weight.grad and not grad_ref.any()


def test_backward_without_forward_raises(rng):
    """backward needs a forward first, and each forward serves one backward."""
    net = small_net(rng)
    with pytest.raises(RuntimeError, match="without a forward"):
        net.backward(np.ones((2, 3), np.float32))
    net.backward(np.ones_like(net.forward(rng.random((2, 1, 8, 8), dtype=np.float32))))
    with pytest.raises(RuntimeError, match="without a forward"):
        net.backward(np.ones((2, 3), np.float32))


def test_need_dx_false_skips_input_gradient_only(rng):
    """need_dx=False returns no input gradient but the same parameter gradients."""
    net = small_net(rng, np.float64)
    for layer in net:
        layer.eval()  # same output every forward; the network still keeps caches
    x = rng.random((2, 1, 8, 8))
    dout = rng.standard_normal((2, 3))
    net.forward(x)
    dx = net.backward(dout)
    grads = [p.grad.copy() for p in net.parameters()]
    net.zero_grad()
    net.forward(x)
    assert dx.shape == x.shape
    assert net.backward(dout, need_dx=False) is None
    for p, g in zip(net.parameters(), grads, strict=True):
        np.testing.assert_array_equal(p.grad, g)


@pytest.mark.parametrize("probe", ["activations", "infer"])
def test_eval_probes_leave_training_state_alone(probe):
    """activations() and infer() give eval outputs mid-training and keep BN stats,
    dropout masks, caches and the mode as they were."""
    plain, probed = (small_net(np.random.default_rng(0), np.float64) for _ in range(2))
    data = np.random.default_rng(1)
    x = data.random((4, 1, 8, 8))
    dout = data.standard_normal((4, 3))

    plain.forward(x)
    dx_plain = plain.backward(dout)
    probed.forward(x)
    if probe == "activations":
        outputs = probed.activations(x[:1])
        assert [o.shape for o in outputs] == [(1, 4, 8, 8), (1, 4, 8, 8), (1, 4, 8, 8),
                                              (1, 4, 4, 4), (1, 64), (1, 64), (1, 3)]
        scores = outputs[-1]
    else:
        scores = probed.infer(x[:1])
    dx = probed.backward(dout)

    np.testing.assert_array_equal(dx, dx_plain)
    for p, q in zip(plain.parameters(), probed.parameters(), strict=True):
        np.testing.assert_array_equal(p.grad, q.grad)
    np.testing.assert_array_equal(probed[1].running_mean, plain[1].running_mean)
    np.testing.assert_array_equal(probed[1].running_var, plain[1].running_var)
    assert probed[5].rng.bit_generator.state == plain[5].rng.bit_generator.state
    assert probed.training
    np.testing.assert_array_equal(scores, probed.eval().forward(x[:1]))


def test_state_dict_round_trip_and_mismatch(rng):
    """load_state_dict copies in place; a mismatch raises before changing anything."""
    net = small_net(rng)
    other = small_net(np.random.default_rng(1))
    weight_ref = other[0].weight.data
    other.load_state_dict(net.state_dict())
    assert other[0].weight.data is weight_ref
    for (_, a), (_, b) in zip(net.named_parameters(), other.named_parameters(),
                              strict=True):
        np.testing.assert_array_equal(a.data, b.data)

    before = other.state_dict()
    bad = net.state_dict()
    bad["6.weight"] = np.zeros((3, 5), np.float32)
    del bad["1.running_var"]
    with pytest.raises(ValueError, match=r"missing 1.running_var.*6.weight has shape"):
        other.load_state_dict(bad)
    for name, value in other.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_init_weights_is_reproducible_and_in_place(rng):
    """init_weights redraws from the Generator, in place, the same way for a seed."""
    net = small_net(rng)
    weight_ref = net[0].weight.data
    nn.init_weights(net, np.random.default_rng(5))
    first = [p.data.copy() for p in net.parameters()]
    nn.init_weights(net, np.random.default_rng(5))
    assert net[0].weight.data is weight_ref
    for p, value in zip(net.parameters(), first, strict=True):
        np.testing.assert_array_equal(p.data, value)
    with pytest.raises(TypeError, match="Generator"):
        nn.init_weights(net, 5)


def test_default_init_follows_pytorch_bounds(rng):
    """Weights and biases lie within +-1/sqrt(fan_in) and fill most of that range."""
    conv = nn.Conv2d(8, 16, 3, rng=rng)
    linear = nn.Linear(200, 50, rng=rng)
    for layer, fan_in in ((conv, 8 * 9), (linear, 200)):
        bound = 1 / np.sqrt(fan_in)
        for p in (layer.weight, layer.bias):
            assert np.abs(p.data).max() <= bound
        assert np.abs(layer.weight.data).max() > 0.95 * bound
        assert abs(layer.weight.data.mean()) < 0.1 * bound


def test_sequential_rejects_non_modules():
    """Sequential says which item is not a layer."""
    with pytest.raises(TypeError, match="item 1"):
        nn.Sequential(nn.ReLU(), "conv")


def test_sequential_indexing_and_repr(rng):
    """Sequential indexes like a list and prints like PyTorch's."""
    net = nn.Sequential(nn.Conv2d(1, 2, 3, rng=rng), nn.ReLU())
    assert len(net) == 2 and isinstance(net[1], nn.ReLU)
    assert list(net) == net.layers
    assert repr(net) == (
        "Sequential(\n"
        "  (0): Conv2d(1, 2, kernel_size=(3, 3), stride=(1, 1))\n"
        "  (1): ReLU()\n"
        ")"
    )


def test_eval_forward_equals_training_forward_without_modes(rng):
    """Inference (no masks, no argmax kept) gives the training pass's outputs."""
    net = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1, rng=rng), nn.ReLU(),
                        nn.MaxPool2d(2), nn.Conv2d(3, 4, 3, rng=rng), nn.ReLU(),
                        nn.AvgPool2d(2, 1), nn.Flatten(), nn.Linear(4, 2, rng=rng))
    x = rng.random((5, 1, 8, 8))
    h, trained = x, []
    for layer in net:
        h, _ = layer._forward(h, True)
        trained.append(h)
    np.testing.assert_array_equal(net.eval().forward(x), trained[-1])
    for got, want in zip(net.activations(x), trained, strict=True):
        np.testing.assert_array_equal(got, want)
