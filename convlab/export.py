"""Export a ConvLab model as a self-contained PyTorch file: the road beyond ConvLab."""

import base64
import io

import numpy as np

from convlab import nn


class ExportError(ValueError):
    """The model holds something the exporter cannot write for PyTorch."""


# The exported file: plain torch code a student can read and extend. The weights
# ride along inline (a base64 .npz), so the one file is all anyone needs.
_TEMPLATE = '''"""A ConvLab network exported for PyTorch ({source}).

    from {module} import build
    net = build()            # torch.nn.Module in eval mode, trained weights loaded
    logits = net(x)          # x: float32 images in [0, 1], shape (N, 1, 28, 28)

Written by `python -m convlab export --format pytorch`; needs numpy and torch only.
"""

import base64
import io

import numpy as np
import torch
from torch import nn


def build():
    """The trained network in eval mode (call net.train() to fine-tune it)."""
    net = nn.Sequential(
{layers}
    )
    arrays = np.load(io.BytesIO(base64.b64decode(WEIGHTS)), allow_pickle=False)
    # ConvLab names its arrays exactly like torch's state_dict ("0.weight", ...).
    state = {{name: torch.from_numpy(arrays[name]) for name in arrays.files}}
    for name, buffer in net.state_dict().items():
        if name.endswith("num_batches_tracked"):   # torch-only BatchNorm counter
            state[name] = buffer
    net.load_state_dict(state)
    return net.eval()


# The trained parameters and BatchNorm statistics: a base64-encoded .npz file.
WEIGHTS = """
{weights}
"""
'''


def _pair(value):
    return tuple(value) if isinstance(value, (list, tuple)) else (value, value)


def _torch_layer(layer) -> str:
    """The torch constructor call equivalent to one ConvLab layer."""
    if isinstance(layer, nn.Conv2d):
        return (f"nn.Conv2d({layer.in_channels}, {layer.out_channels}, "
                f"kernel_size={_pair(layer.kernel_size)}, "
                f"stride={_pair(layer.stride)}, padding={_pair(layer.padding)}, "
                f"bias={layer.bias is not None})")
    if isinstance(layer, (nn.MaxPool2d, nn.AvgPool2d)):
        # ConvLab pools like torch's defaults: no padding, floor for partial windows.
        return (f"nn.{type(layer).__name__}(kernel_size={_pair(layer.kernel_size)}, "
                f"stride={_pair(layer.stride)})")
    if isinstance(layer, nn.BatchNorm2d):
        return (f"nn.BatchNorm2d({layer.num_features}, eps={layer.eps!r}, "
                f"momentum={layer.momentum!r})")
    if isinstance(layer, nn.Linear):
        return (f"nn.Linear({layer.in_features}, {layer.out_features}, "
                f"bias={layer.bias is not None})")
    if isinstance(layer, nn.Dropout):
        return f"nn.Dropout(p={layer.p!r})"
    if isinstance(layer, nn.ReLU):
        return "nn.ReLU()"
    if isinstance(layer, nn.Flatten):
        return "nn.Flatten()"
    raise ExportError(f"cannot export a {type(layer).__name__} layer to PyTorch")


def export_pytorch(model, module="model", source="a ConvLab model") -> str:
    """Python source of a file whose ``build()`` recreates ``model`` in PyTorch.

    model: an nn.Sequential of ConvLab layers (ExportError for anything else);
    module: the file's import name and source: where the model came from, both only
    for the file's docstring.
    """
    if not isinstance(model, nn.Sequential):
        raise ExportError(
            f"can only export an nn.Sequential, got {type(model).__name__}"
        )
    layers = "\n".join(f"        {_torch_layer(layer)}," for layer in model.layers)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **model.state_dict())
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    # 76-character lines, like MIME, keep the file friendly to editors and diffs.
    weights = "\n".join(encoded[i:i + 76] for i in range(0, len(encoded), 76))
    return _TEMPLATE.format(source=source, module=module, layers=layers,
                            weights=weights)
