"""Tests for the PyTorch export: the same network, weights and logits in torch."""

import importlib.util

import numpy as np
import pytest

from convlab import nn
from convlab.data.sources import load_dataset
from convlab.export import ExportError, export_pytorch
from convlab.nn.architectures import NAMED_ARCHS, build
from convlab.resources import BUNDLED_MODEL, resource_path

BUNDLED = resource_path(BUNDLED_MODEL)


def import_exported(model, folder, name="exported_net"):
    """Write ``model``'s export to folder/name.py and import it as a module."""
    path = folder / f"{name}.py"
    path.write_text(export_pytorch(model, module=name))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def every_layer_kind_net():
    """A net using every exportable layer, with non-trivial BatchNorm statistics."""
    rng = np.random.default_rng(0)
    model = nn.Sequential(
        nn.Conv2d(1, 6, 5, stride=2, padding=2, rng=rng), nn.BatchNorm2d(6),
        nn.ReLU(), nn.AvgPool2d(2), nn.Conv2d(6, 8, (3, 2), padding=(1, 0), rng=rng),
        nn.ReLU(), nn.MaxPool2d(3, stride=2), nn.Flatten(), nn.Dropout(0.5, rng=rng),
        nn.Linear(8 * 3 * 2, 10, rng=rng),
    )
    bn = model.layers[1]
    bn.running_mean[...] = rng.normal(size=6)
    bn.running_var[...] = rng.uniform(0.5, 2.0, size=6)
    bn.weight.data[...] = rng.normal(size=6)
    bn.bias.data[...] = rng.normal(size=6)
    return model


def assert_export_matches(model, x, folder):
    """The exported torch model's logits on x equal ConvLab's eval logits (1e-5, or
    1e-6 of a large logit: float32 rounding grows with the numbers summed)."""
    import torch

    net = import_exported(model, folder).build()
    with torch.no_grad():
        logits = net(torch.from_numpy(x)).numpy()
    model.eval()
    np.testing.assert_allclose(logits, model.forward(x), rtol=1e-6, atol=1e-5)


def test_exported_bundled_or_sample_net_matches_on_real_digits(mnist_dir, tmp_path):
    """On real MNIST test digits the exported model's logits equal ConvLab's."""
    pytest.importorskip("torch")
    if BUNDLED.is_file():
        model = nn.load_model(BUNDLED).model
    else:
        model = build(NAMED_ARCHS["sample"], np.random.default_rng(0))
    x = load_dataset(mnist_dir).x_test[:300]
    assert_export_matches(model, x, tmp_path)


def test_every_layer_kind_matches_on_random_images(tmp_path):
    """Strides, padding, both poolings, batch norm and dropout all export exactly."""
    pytest.importorskip("torch")
    model = every_layer_kind_net()
    x = np.random.default_rng(1).random((64, 1, 28, 28), dtype=np.float32)
    assert_export_matches(model, x, tmp_path)


def test_build_returns_an_eval_mode_module_with_the_same_layers(tmp_path):
    """build() gives a torch Sequential in eval mode with ConvLab's layer names."""
    torch = pytest.importorskip("torch")
    model = every_layer_kind_net()
    net = import_exported(model, tmp_path).build()
    assert isinstance(net, torch.nn.Module) and not net.training
    names = [type(layer).__name__ for layer in net]
    assert names == [type(layer).__name__ for layer in model.layers]


def test_export_refuses_what_it_cannot_write():
    """Non-Sequential models and unknown layers raise ExportError naming the problem."""
    with pytest.raises(ExportError, match="Sequential"):
        export_pytorch(nn.Linear(3, 2))

    class Swish(nn.Module):
        """A layer the exporter does not know."""

    with pytest.raises(ExportError, match="Swish"):
        export_pytorch(nn.Sequential(nn.Flatten(), Swish()))
