"""explain.backprop: one digit's forward and backward pass, layer by layer."""

import numpy as np
import pytest
from nn.cases import numeric_grad

from convlab import explain, nn
from convlab.data.synthetic import generate_digits
from convlab.nn.architectures import (
    NAMED_ARCHS,
    ArchSpec,
    ConvBlock,
    build,
    layer_shapes,
)
from convlab.resources import BUNDLED_MODEL, resource_path

BUNDLED = resource_path(BUNDLED_MODEL)

# Small networks, one per feature the backward pass must get right.
GRADCHECK_ARCHS = {
    "padding": ArchSpec(blocks=[ConvBlock(3, 3, padding=1), ConvBlock(4, 3, padding=2)],
                        dense=8),
    "stride-2": ArchSpec(blocks=[ConvBlock(3, 4, stride=2, pool="none"),
                                 ConvBlock(4, 3, stride=2)], dense=8),
    "avg-pool": ArchSpec(blocks=[ConvBlock(3, 3, pool="avg"),
                                 ConvBlock(4, 3, pool="avg", pool_size=3)], dense=0),
    "batch-norm": ArchSpec(blocks=[ConvBlock(3, 3), ConvBlock(4, 3, padding=1)],
                           batch_norm=True, dense=8, dropout=0.4),
}


def digit(seed=0):
    """One generated digit (28, 28) float in [0, 1] and its label."""
    x, y = generate_digits(1, seed)
    return x[0], int(y[0])


def with_trained_statistics(model, rng):
    """Give every BatchNorm non-trivial scale, shift and running statistics."""
    for layer in model:
        if isinstance(layer, nn.BatchNorm2d):
            c = layer.num_features
            layer.weight.data[...] = rng.uniform(0.5, 1.5, c)
            layer.bias.data[...] = rng.normal(0, 0.3, c)
            layer.running_mean[...] = rng.normal(0, 0.3, c)
            layer.running_var[...] = rng.uniform(0.3, 2.0, c)
    return model


def arch_model(name, dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    return with_trained_statistics(build(GRADCHECK_ARCHS[name], rng), rng).to(dtype)


def eval_loss(model, x, target):
    """The model's own eval-mode loss for one image (nothing cached or updated)."""
    logits = model.activations(x[None, None])[-1]  # (1, 10)
    loss, _ = nn.softmax_cross_entropy(logits, np.array([target]))
    return loss


def every_entry_view(a, count=40):
    """A strided view of about `count` entries of a, spread over the whole array."""
    view = a.reshape(-1)[:: max(1, a.size // count)]
    assert np.shares_memory(view, a)  # numeric_grad must perturb the real weights
    return view


def assert_close(ours, expected, what, rtol=1e-5):
    """Largest difference relative to the largest expected entry (tiny entries carry
    finite-difference noise that would swamp an entrywise ratio)."""
    scale = max(np.abs(expected).max(), 1e-12)
    error = np.abs(ours - expected).max() / scale
    assert error < rtol, f"{what}: relative error {error:.2e}"


def check_shapes(trace, model, shapes):
    """Every field of the trace has its contract shape and is float64."""
    assert trace.probabilities.shape == (10,)
    assert trace.grad_input.shape == (28, 28)
    assert len(trace.layers) == len(model.layers) == len(shapes)
    for layer, entry, (label, shape) in zip(model, trace.layers, shapes, strict=True):
        assert entry.output.shape == shape, label
        assert entry.grad_output.shape == shape, label
        weight = getattr(layer, "weight", None)
        if weight is None:
            assert entry.grad_weight is None and entry.grad_bias is None, label
        else:
            assert entry.grad_weight.shape == weight.shape, label
            if layer.bias is None:
                assert entry.grad_bias is None, label
            else:
                assert entry.grad_bias.shape == layer.bias.shape, label
    arrays = [trace.probabilities, trace.grad_input]
    for entry in trace.layers:
        arrays += [a for a in (entry.output, entry.grad_output, entry.grad_weight,
                               entry.grad_bias) if a is not None]
    assert all(a.dtype == np.float64 for a in arrays)


@pytest.mark.parametrize("name", ["sample", "sample-bn"])
def test_sample_architectures_give_every_shape(name):
    """Each layer's output and gradients have the layer's shapes, without batch axis."""
    spec = NAMED_ARCHS[name]
    model = build(spec, np.random.default_rng(0))
    x, y = digit()
    check_shapes(explain.backprop(model, x, y), model, layer_shapes(spec))


def test_bundled_model_shapes_and_probabilities():
    """The bundled model: contract shapes, and its own eval probabilities for x."""
    if not BUNDLED.is_file():
        pytest.skip("no bundled model in resources/models")
    checkpoint = nn.load_model(BUNDLED)
    model = checkpoint.model
    x, y = digit(3)
    trace = explain.backprop(model, x, y)
    outputs = model.activations(x[None, None])
    shapes = [("layer", out.shape[1:]) for out in outputs]
    check_shapes(trace, model, shapes)
    for entry, out in zip(trace.layers, outputs, strict=True):
        np.testing.assert_allclose(entry.output, out[0], rtol=1e-5, atol=1e-5)
    expected = nn.functional.softmax(outputs[-1].astype(np.float64))[0]
    np.testing.assert_allclose(trace.probabilities, expected, atol=1e-6)
    assert trace.probabilities.sum() == pytest.approx(1.0)


def test_loss_is_minus_log_probability_of_target():
    """trace.loss is the cross-entropy of the target: -log(probabilities[target])."""
    model = build(NAMED_ARCHS["sample"], np.random.default_rng(1))
    x, _ = digit(1)
    for target in (0, 4, 9):
        trace = explain.backprop(model, x, target)
        assert trace.loss == pytest.approx(-np.log(trace.probabilities[target]),
                                           rel=1e-12)


@pytest.mark.parametrize("name", list(GRADCHECK_ARCHS))
def test_gradients_match_finite_differences(name):
    """dL/dx and sampled dL/dW, dL/db equal central differences of the eval loss."""
    model = arch_model(name, np.float64)
    x, y = digit(2)
    # Background pixels are all 0, so pooling windows tie and a nudge of 1e-6 would
    # pick a different maximum; a little noise keeps the loss smooth around x.
    x = 0.9 * x + 0.1 * np.random.default_rng(0).random(x.shape)
    trace = explain.backprop(model, x, y)
    assert trace.loss == pytest.approx(eval_loss(model, x, y), rel=1e-12)

    def loss():
        return eval_loss(model, x, y)

    assert_close(trace.grad_input, numeric_grad(loss, x), "grad_input")
    for layer, entry in zip(model, trace.layers, strict=True):
        for param, grad in ((getattr(layer, "weight", None), entry.grad_weight),
                            (getattr(layer, "bias", None), entry.grad_bias)):
            if param is None:
                continue
            view = every_entry_view(param.data)
            assert_close(every_entry_view(grad), numeric_grad(loss, view), param.name)


@pytest.mark.parametrize("name", list(GRADCHECK_ARCHS))
def test_gradients_match_torch_autograd(name, tmp_path):
    """Loss, probabilities and every gradient equal PyTorch autograd in float64."""
    torch = pytest.importorskip("torch")
    from test_export import import_exported

    model = arch_model(name)  # float32 weights: exact in torch's float64 copy
    tnet = import_exported(model, tmp_path).build().double().eval()
    x, y = digit(4)
    trace = explain.backprop(model, x, y)

    tx = torch.from_numpy(x.astype(np.float64)).requires_grad_()
    outputs = []
    h = tx[None, None]
    for module in tnet:
        h = module(h)
        h.retain_grad()
        outputs.append(h)
    tloss = torch.nn.functional.cross_entropy(h, torch.tensor([y]))
    tloss.backward()

    assert trace.loss == pytest.approx(tloss.item(), rel=1e-10)
    assert_close(trace.probabilities, torch.softmax(h, 1)[0].detach().numpy(),
                 "probabilities", 1e-10)
    assert_close(trace.grad_input, tx.grad.numpy(), "grad_input", 1e-10)
    for i, (module, entry, out) in enumerate(
            zip(tnet, trace.layers, outputs, strict=True)):
        assert_close(entry.output, out[0].detach().numpy(), f"output {i}", 1e-10)
        assert_close(entry.grad_output, out.grad[0].numpy(), f"grad_output {i}", 1e-10)
        for grad, tparam in ((entry.grad_weight, getattr(module, "weight", None)),
                             (entry.grad_bias, getattr(module, "bias", None))):
            if tparam is not None:
                assert_close(grad, tparam.grad.numpy(), f"layer {i} gradient", 1e-10)


def model_state(model):
    """Everything backprop must leave alone, as copies and object identities."""
    return {
        "state": model.state_dict(),
        "grads": {name: p.grad.copy() for name, p in model.named_parameters()},
        "arrays": [id(p.data) for p in model.parameters()]
        + [id(b) for _, b in model.named_buffers()],
        "training": [m.training for m in model.modules()],
        "caches": [m._cache for m in model.modules()],
        "rngs": [m.rng.bit_generator.state for m in model.modules()
                 if isinstance(m, nn.Dropout)],
    }


def assert_same_state(before, after):
    for key in ("state", "grads"):
        assert before[key].keys() == after[key].keys()
        for name, value in before[key].items():
            assert value.dtype == after[key][name].dtype, name
            assert np.array_equal(value, after[key][name]), f"{key} {name} changed"
    assert before["arrays"] == after["arrays"]
    assert before["training"] == after["training"]
    assert all(a is b for a, b in zip(before["caches"], after["caches"], strict=True))
    assert before["rngs"] == after["rngs"]


@pytest.mark.parametrize("training", [True, False], ids=["train-mode", "eval-mode"])
def test_model_is_left_exactly_as_it_was(training):
    """Weights, .grad, running stats, train flags, caches and dropout rng untouched."""
    model = arch_model("batch-norm")
    x, y = digit(5)
    # Mid-training state: accumulated gradients, and a forward whose cache waits
    # for its backward.
    model.train()
    batch = generate_digits(4, 1)[0][:, None]  # (4, 1, 28, 28)
    _, dlogits = nn.softmax_cross_entropy(model.forward(batch), np.arange(4))
    model.backward(dlogits)
    model.forward(batch)
    model.train(training)
    before = model_state(model)
    explain.backprop(model, x, y)
    assert_same_state(before, model_state(model))


def test_train_mode_model_is_traced_as_in_eval_mode():
    """A model in training mode gives the eval trace: running stats, no dropout."""
    model = arch_model("batch-norm")
    x, y = digit(6)
    model.train()
    in_train = explain.backprop(model, x, y)
    model.eval()
    in_eval = explain.backprop(model, x, y)
    assert in_train.loss == in_eval.loss
    assert np.array_equal(in_train.grad_input, in_eval.grad_input)
    for a, b in zip(in_train.layers, in_eval.layers, strict=True):
        assert np.array_equal(a.output, b.output)
        assert np.array_equal(a.grad_output, b.grad_output)


def test_accepts_numpy_integer_targets_and_lists():
    """np.int64 / np.uint8 targets and a nested-list image give the same trace."""
    model = arch_model("stride-2")
    x, _ = digit(7)
    reference = explain.backprop(model, x, 3)
    for target in (np.int64(3), np.uint8(3)):
        assert explain.backprop(model, x, target).loss == reference.loss
    assert explain.backprop(model, x.tolist(), 3).loss == reference.loss


def bad_image(kind):
    x, _ = digit(8)
    return {
        "3d": x[None], "4d": x[None, None], "27x28": x[:27], "28x28x1": x[..., None],
        "nan": np.where(np.arange(784).reshape(28, 28) == 5, np.nan, x),
        "inf": np.where(np.arange(784).reshape(28, 28) == 9, np.inf, x),
        "text": np.full((28, 28), "a"), "complex": x + 1j,
        "ragged": [[0.0], [0.0, 1.0]], "none": None,
    }[kind]


@pytest.mark.parametrize(
    ("kind", "message"),
    [("3d", r"\(28, 28\).*\(1, 28, 28\)"), ("4d", r"\(1, 1, 28, 28\)"),
     ("27x28", r"\(27, 28\)"), ("28x28x1", r"\(28, 28, 1\)"), ("nan", "NaN or inf"),
     ("inf", "NaN or inf"), ("text", "real numbers"), ("complex", "real numbers"),
     ("ragged", "cannot be made into one array"), ("none", "real numbers")],
)
def test_bad_image_raises_clear_value_error(kind, message):
    """An image that is not a finite (28, 28) array of numbers is refused, saying so."""
    model = arch_model("stride-2")
    with pytest.raises(ValueError, match=message):
        explain.backprop(model, bad_image(kind), 3)


@pytest.mark.parametrize("target", [True, np.bool_(False), 3.0, "3", None, -1, 10,
                                    np.int64(12)])
def test_bad_target_raises_clear_value_error(target):
    """A target that is not a whole number 0-9 (bools and floats too) is refused."""
    model = arch_model("stride-2")
    x, _ = digit(9)
    with pytest.raises(ValueError, match="target must be a whole number from 0 to 9"):
        explain.backprop(model, x, target)


def test_bad_models_raise_clear_value_errors():
    """Not a Sequential, an unknown layer, a wrong input or class count: ValueError."""
    x, _ = digit(10)

    class Swish(nn.Module):
        def _forward(self, x, training):
            return x, None

    with pytest.raises(ValueError, match="Sequential"):
        explain.backprop(nn.Linear(784, 10), x, 1)
    with pytest.raises(ValueError, match="layer 1 .*Swish"):
        explain.backprop(nn.Sequential(nn.Flatten(), Swish(), nn.Linear(784, 10)),
                         x, 1)
    with pytest.raises(ValueError, match=r"layer 1 \(Linear\).*784"):
        explain.backprop(nn.Sequential(nn.Flatten(), nn.Linear(100, 10)), x, 1)
    with pytest.raises(ValueError, match=r"10 class scores.*\(7,\)"):
        explain.backprop(nn.Sequential(nn.Flatten(), nn.Linear(784, 7)), x, 1)


# --- saliency: how each pixel moves one digit's raw score ---------------------------


def noisy_digit(seed):
    """A digit with a little noise: no ties in max pooling, so finite differences of
    the scores are smooth around it (background pixels are otherwise all 0)."""
    x, _ = digit(seed)
    return 0.9 * x + 0.1 * np.random.default_rng(seed).random(x.shape)


def eval_logit(model, x, k):
    """The model's own eval-mode score of digit k for one image."""
    return model.activations(x[None, None])[-1][0, k]  # (1, 10) -> one score


@pytest.mark.parametrize(("name", "k"), list(zip(GRADCHECK_ARCHS, (0, 3, 7, 9),
                                                    strict=True)))
def test_saliency_matches_finite_differences(name, k):
    """saliency is d logit[k] / dx: central differences of the model's raw score."""
    model = arch_model(name, np.float64)
    x = noisy_digit(11)
    ours = explain.saliency(model, x, k)
    assert ours.shape == (28, 28) and ours.dtype == np.float64
    assert_close(ours, numeric_grad(lambda: eval_logit(model, x, k), x), "saliency")


@pytest.mark.parametrize("name", list(GRADCHECK_ARCHS))
def test_saliency_all_matches_torch_autograd(name, tmp_path):
    """All ten saliency maps equal PyTorch's gradients of the ten raw scores."""
    torch = pytest.importorskip("torch")
    from test_export import import_exported

    model = arch_model(name)  # float32 weights: exact in torch's float64 copy
    tnet = import_exported(model, tmp_path).build().double().eval()
    x = noisy_digit(12)
    tx = torch.from_numpy(x).requires_grad_()
    logits = tnet(tx[None, None])[0]  # (10,)
    expected = np.stack([torch.autograd.grad(logits[k], tx, retain_graph=True)[0]
                         .numpy() for k in range(10)])  # (10, 28, 28)
    maps = explain.saliency_all(model, x)
    assert maps.shape == (10, 28, 28) and maps.dtype == np.float64
    for k in range(10):
        assert_close(maps[k], expected[k], f"saliency of {k}", 1e-10)
        assert_close(explain.saliency(model, x, k), expected[k], f"digit {k}", 1e-10)


def test_saliency_is_the_row_of_saliency_all():
    """saliency(model, x, k) equals saliency_all(model, x)[k] for every digit."""
    model = arch_model("batch-norm")
    x, _ = digit(13)
    maps = explain.saliency_all(model, x)
    for k in range(10):
        np.testing.assert_allclose(explain.saliency(model, x, k), maps[k],
                                   rtol=1e-12, atol=1e-15)


def test_loss_gradient_is_saliency_weighted_by_softmax_error():
    """dL/dx = sum_k (p_k - [k == target]) * saliency_k: the chain rule via softmax."""
    model = arch_model("padding")
    x, y = digit(14)
    trace = explain.backprop(model, x, y)
    error = trace.probabilities - np.eye(10)[y]  # dL/dlogits (10,)
    combined = np.tensordot(error, explain.saliency_all(model, x), axes=1)
    assert_close(trace.grad_input, combined, "grad_input", 1e-10)


# --- occlusion: how much each patch of the image mattered ----------------------------


def occlusion_by_loop(model, x, k, size, stride):
    """Occlusion the slow, obvious way: one single-image forward per patch."""
    def prob(image):
        logits = model.activations(image[None, None].astype(np.float64))[-1]
        return nn.functional.softmax(logits.astype(np.float64))[0, k]

    n = (28 - size) // stride + 1
    result = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            covered = x.copy()
            covered[i * stride : i * stride + size, j * stride : j * stride + size] = 0
            result[i, j] = prob(x) - prob(covered)
    return result


@pytest.mark.parametrize(("size", "stride", "n"),
                         [(4, 2, 13), (3, 3, 9), (5, 4, 6), (28, 1, 1), (28, 5, 1),
                          (1, 1, 28), (7, 30, 1)])
def test_occlusion_matches_a_loop_of_single_forwards(size, stride, n):
    """Each entry is P(k | x) - P(k | x with that patch 0); (n, n), n = (28-s)//t+1."""
    model = arch_model("batch-norm", np.float64)
    x, y = digit(15)
    ours = explain.occlusion(model, x, y, size=size, stride=stride)
    assert ours.shape == (n, n) and ours.dtype == np.float64
    np.testing.assert_allclose(ours, occlusion_by_loop(model, x, y, size, stride),
                               rtol=0, atol=1e-10)


@pytest.mark.parametrize("name", ["padding", "stride-2", "avg-pool", "kernel-5-max-3",
                                  "every-layer-kind", "gappy"])
@pytest.mark.parametrize(("size", "stride"), [(3, 2), (6, 5), (1, 9)])
def test_occlusion_matches_the_loop_for_every_layer_geometry(name, size, stride):
    """Padding, strides, pools that overlap or drop rows, non-square kernels, 1x1."""
    model = receptive_field_models()[name].to(np.float64)
    x = noisy_digit(21)
    np.testing.assert_allclose(explain.occlusion(model, x, 4, size=size,
                                                 stride=stride),
                               occlusion_by_loop(model, x, 4, size, stride),
                               rtol=0, atol=1e-10)


def test_occlusion_defaults_to_4x4_patches_every_2_pixels():
    """Without size and stride: 4x4 patches, stride 2, a 13x13 map; float32 model."""
    model = arch_model("stride-2")
    x, _ = digit(16)
    ours = explain.occlusion(model, x, 5)
    np.testing.assert_allclose(ours, occlusion_by_loop(model, x, 5, 4, 2),
                               rtol=0, atol=1e-10)


def test_occluding_blank_background_changes_nothing():
    """A patch over pixels that are already 0 leaves the probability as it was."""
    model = arch_model("padding")
    x = np.zeros((28, 28))
    x[10:20, 12:16] = 1.0  # ink only in the middle
    ours = explain.occlusion(model, x, 1, size=4, stride=4)  # (7, 7)
    assert np.abs(ours[0]).max() < 1e-12 and np.abs(ours[:, 0]).max() < 1e-12
    assert np.abs(ours[2:5, 3]).min() > 0


# --- receptive fields: which input pixels can reach a unit ---------------------------


def positive_twin(model):
    """model with every weight positive and max pooling replaced by average pooling
    of the same window: with a positive input every ReLU passes, nothing cancels, and
    every input pixel a unit can see has a nonzero gradient. Same geometry."""
    twin = []
    for layer in model:
        if isinstance(layer, nn.Conv2d):
            conv = nn.Conv2d(layer.in_channels, layer.out_channels, layer.kernel_size,
                             layer.stride, layer.padding, bias=False, dtype=np.float64)
            conv.weight.data[...] = np.abs(layer.weight.data) + 0.1
            twin.append(conv)
        elif isinstance(layer, nn.Linear):
            linear = nn.Linear(layer.in_features, layer.out_features, bias=False,
                               dtype=np.float64)
            linear.weight.data[...] = np.abs(layer.weight.data) + 0.1
            twin.append(linear)
        elif isinstance(layer, nn.MaxPool2d):
            twin.append(nn.AvgPool2d(layer.kernel_size, layer.stride))
        elif isinstance(layer, nn.BatchNorm2d):
            twin.append(nn.BatchNorm2d(layer.num_features, dtype=np.float64))  # x/1
        else:
            twin.append(layer)
    return nn.Sequential(*twin).eval()


def support_boxes(model, layer_index, units):
    """Bounding box (top, left, bottom, right) of the nonzero d(unit)/dx of every
    unit, from one batched backward through the positive twin's first layers."""
    net = nn.Sequential(*positive_twin(model).layers[: layer_index + 1]).train()
    # Training mode keeps what backward needs; batch norm and dropout compute as
    # in evaluation (per-channel affine, identity), so no unit mixes in others.
    for layer in net.layers:
        if isinstance(layer, nn.BatchNorm2d | nn.Dropout):
            layer.eval()
    x = 0.5 + np.random.default_rng(0).random((len(units), 1, 28, 28))
    out = net.forward(x)
    dout = np.zeros_like(out)
    for i, unit in enumerate(units):
        dout[(i, *unit)] = 1.0  # unit: (channel, row, col) or (feature,)
    dx = net.backward(dout)[:, 0]  # (units, 28, 28)
    boxes = []
    for grad in dx:
        rows, cols = np.flatnonzero(grad.any(1)), np.flatnonzero(grad.any(0))
        boxes.append((rows[0], cols[0], rows[-1] + 1, cols[-1] + 1) if rows.size
                     else (0, 0, 0, 0))
    return boxes


def gappy_net():
    """1x1 kernels with stride 3 and padding: units that see only padding, gaps."""
    rng = np.random.default_rng(0)
    return nn.Sequential(nn.Conv2d(1, 2, 1, stride=3, padding=1, rng=rng), nn.ReLU(),
                         nn.Conv2d(2, 2, 3, stride=2, padding=2, rng=rng),
                         nn.MaxPool2d(2, stride=1), nn.Flatten(),
                         nn.Linear(2 * 5 * 5, 10, rng=rng))


def receptive_field_models():
    from test_export import every_layer_kind_net

    models = {name: arch_model(name) for name in GRADCHECK_ARCHS}
    models["kernel-5-max-3"] = build(
        ArchSpec(blocks=[ConvBlock(3, 5, stride=2, padding=2),
                         ConvBlock(3, 5, pool="max", pool_size=3)], dense=6),
        np.random.default_rng(1))
    models["every-layer-kind"] = every_layer_kind_net()
    models["gappy"] = gappy_net()
    return models


@pytest.mark.parametrize("name", ["padding", "stride-2", "avg-pool", "batch-norm",
                                  "kernel-5-max-3", "every-layer-kind", "gappy"])
def test_receptive_field_is_the_box_of_the_gradients_support(name):
    """For units of every layer the box is exactly the bounding box of the pixels
    with nonzero d(unit)/dx: every reaching pixel inside, every edge touched."""
    model = receptive_field_models()[name]
    shapes = [out.shape[1:] for out in model.activations(np.zeros((1, 1, 28, 28)))]
    rng = np.random.default_rng(2)
    for index, shape in enumerate(shapes):
        if len(shape) == 3:
            c, h, w = shape
            units = [(0, 0, 0), (c - 1, h - 1, w - 1), (0, h // 2, w // 2),
                     (0, 0, w - 1), (0, h - 1, 0)]
            units += [(int(rng.integers(c)), int(rng.integers(h)),
                       int(rng.integers(w))) for _ in range(3)]
            positions = [(r, col) for _, r, col in units]
        else:
            units = [(0,), (shape[0] - 1,), (int(rng.integers(shape[0])),)]
            positions = [(0, f) for (f,) in units]
        expected = support_boxes(model, index, units)
        for (row, col), box in zip(positions, expected, strict=True):
            assert explain.receptive_field(model, index, row, col) == box, (
                f"layer {index} ({type(model[index]).__name__}) unit {row, col}")


def test_receptive_field_of_the_sample_network_by_hand():
    """3x3 conv: 3x3; after 2x2 pooling 4x4; next 3x3 conv 8x8; the dense layer all."""
    model = build(NAMED_ARCHS["sample"], np.random.default_rng(0))
    # conv, ReLU, pool, conv, ReLU, pool, Flatten, Linear, ReLU, Linear
    assert explain.receptive_field(model, 0, 0, 0) == (0, 0, 3, 3)
    assert explain.receptive_field(model, 0, 5, 7) == (5, 7, 8, 10)
    assert explain.receptive_field(model, 1, 25, 25) == (25, 25, 28, 28)
    assert explain.receptive_field(model, 2, 1, 2) == (2, 4, 6, 8)
    assert explain.receptive_field(model, 3, 0, 0) == (0, 0, 8, 8)
    assert explain.receptive_field(model, 5, 4, 4) == (16, 16, 26, 26)
    # Feature 0 of the flattened 64x5x5 maps is channel 0, row 0, column 0.
    assert explain.receptive_field(model, 6, 0, 0) == (0, 0, 10, 10)
    assert explain.receptive_field(model, 7, 0, 127) == (0, 0, 26, 26)
    assert explain.receptive_field(model, 9, 0, 9) == (0, 0, 26, 26)


def test_padding_is_clipped_off_the_field():
    """A 3x3 conv with padding 1: the corner unit sees only the 2x2 image corner."""
    model = arch_model("padding")
    assert explain.receptive_field(model, 0, 0, 0) == (0, 0, 2, 2)
    assert explain.receptive_field(model, 0, 27, 27) == (26, 26, 28, 28)
    assert all(isinstance(v, int) for v in explain.receptive_field(model, 0, 3, 4))


@pytest.mark.parametrize(
    ("layer_index", "row", "col", "message"),
    [(-1, 0, 0, r"layer_index must be a whole number from 0 to 9 .*got -1"),
     (10, 0, 0, r"from 0 to 9 .*got 10"), (True, 0, 0, "got True"),
     (1.0, 0, 0, "got 1.0"), (0, 26, 0, r"row must be .*0 to 25.*\(32, 26, 26\)"),
     (0, 0, -1, r"col must be .*0 to 25.*got -1"), (0, 0, 2.0, "got 2.0"),
     (7, 1, 0, r"row must be 0 .*\(128,\)"), (7, 0, 128, r"col must be .*0 to 127"),
     (2, None, 0, "got None")],
)
def test_bad_receptive_field_arguments_raise_clear_value_errors(layer_index, row, col,
                                                                message):
    """A layer index or a unit outside the network's shapes is refused, saying so."""
    model = build(NAMED_ARCHS["sample"], np.random.default_rng(0))
    with pytest.raises(ValueError, match=message):
        explain.receptive_field(model, layer_index, row, col)


def test_receptive_field_refuses_bad_models():
    """Not a Sequential, an unknown layer, layers that do not fit: ValueError."""
    class Swish(nn.Module):
        def _forward(self, x, training):
            return x, None

    with pytest.raises(ValueError, match="Sequential"):
        explain.receptive_field(nn.Linear(784, 10), 0, 0, 0)
    with pytest.raises(ValueError, match="layer 1 .*Swish"):
        explain.receptive_field(nn.Sequential(nn.Flatten(), Swish()), 0, 0, 0)
    with pytest.raises(ValueError, match=r"layer 1 \(Linear\).*784"):
        explain.receptive_field(nn.Sequential(nn.Flatten(), nn.Linear(100, 10)),
                                1, 0, 0)


# --- every explanation: model untouched, bad input refused ---------------------------

EXPLANATIONS = {
    "saliency": lambda model, x: explain.saliency(model, x, 3),
    "saliency_all": explain.saliency_all,
    "occlusion": lambda model, x: explain.occlusion(model, x, 3, size=5, stride=3),
    "receptive_field": lambda model, x: explain.receptive_field(model, 4, 2, 3),
}


@pytest.mark.parametrize("name", list(EXPLANATIONS))
@pytest.mark.parametrize("training", [True, False], ids=["train-mode", "eval-mode"])
def test_explanations_leave_the_model_as_it_was(name, training):
    """Weights, .grad, running stats, train flags, caches and dropout rng untouched."""
    model = arch_model("batch-norm")
    x, _ = digit(17)
    model.train()
    batch = generate_digits(4, 1)[0][:, None]  # (4, 1, 28, 28)
    _, dlogits = nn.softmax_cross_entropy(model.forward(batch), np.arange(4))
    model.backward(dlogits)
    model.forward(batch)
    model.train(training)
    before = model_state(model)
    EXPLANATIONS[name](model, x)
    assert_same_state(before, model_state(model))


@pytest.mark.parametrize("name", ["saliency", "saliency_all", "occlusion"])
@pytest.mark.parametrize("kind", ["3d", "nan", "text", "ragged"])
def test_explanations_refuse_bad_images(name, kind):
    """saliency, saliency_all and occlusion refuse an image that backprop refuses."""
    model = arch_model("stride-2")
    with pytest.raises(ValueError, match="x must"):
        EXPLANATIONS[name](model, bad_image(kind))


@pytest.mark.parametrize("function", [explain.saliency, explain.occlusion])
@pytest.mark.parametrize("value", [True, 3.0, "3", None, -1, 10])
def test_bad_digit_raises_clear_value_error(function, value):
    """saliency and occlusion take a whole-number digit 0-9, nothing else."""
    model = arch_model("stride-2")
    x, _ = digit(18)
    with pytest.raises(ValueError, match="digit must be a whole number from 0 to 9"):
        function(model, x, value)


@pytest.mark.parametrize(
    ("size", "stride", "message"),
    [(0, 2, "size must be a whole number from 1 to 28"), (29, 2, "from 1 to 28"),
     (4.0, 2, "got 4.0"), (True, 2, "got True"),
     (4, 0, "stride must be a whole number >= 1"), (4, -2, "got -2"),
     (4, None, "got None")],
)
def test_bad_occlusion_patch_raises_clear_value_error(size, stride, message):
    """A patch size outside 1..28 or a stride below 1 (or not whole) is refused."""
    model = arch_model("stride-2")
    x, _ = digit(19)
    with pytest.raises(ValueError, match=message):
        explain.occlusion(model, x, 2, size=size, stride=stride)


def test_saliency_and_occlusion_refuse_a_model_without_ten_scores():
    """A model not ending in 10 class scores is refused by every explanation."""
    x, _ = digit(20)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 7))
    for call in EXPLANATIONS.values():
        if call is not EXPLANATIONS["receptive_field"]:
            with pytest.raises(ValueError, match=r"10 class scores.*\(7,\)"):
                call(model, x)
