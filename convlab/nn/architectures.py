"""Network recipes for the GUI's architecture editor and the CLI's --arch option."""

import json
import math
import numbers
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np

from convlab.nn import layers
from convlab.nn.functional import conv_output_size
from convlab.nn.module import Sequential

POOL_KINDS = ("max", "avg", "none")
MAX_BLOCKS = 3


@dataclass
class ConvBlock:
    """One convolution block: conv [-> batch norm] -> ReLU [-> pooling]."""

    filters: int = 32
    kernel_size: int = 3
    stride: int = 1
    padding: int = 0
    pool: str = "max"  # "max", "avg" or "none"
    pool_size: int = 2


@dataclass
class ArchSpec:
    """A whole network: 1 to 3 conv blocks, then flatten, a hidden dense layer, output.

    ``dense`` is the width of the hidden fully connected layer (0 for none);
    ``dropout`` is the probability of dropping each of its outputs in training.
    """

    blocks: list[ConvBlock] = field(default_factory=lambda: [ConvBlock()])
    batch_norm: bool = False
    dense: int = 128
    dropout: float = 0.0
    in_channels: int = 1
    input_size: int = 28
    num_classes: int = 10

    def to_dict(self):
        """A JSON-able dict (what --arch files hold)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d):
        """The inverse of to_dict; raises ValueError naming an unknown or bad key."""
        if not isinstance(d, dict):
            raise ValueError(f"an architecture must be a JSON object, got {d!r}")
        d = dict(d)
        blocks = d.pop("blocks", None)
        if not isinstance(blocks, list):
            raise ValueError("an architecture needs a 'blocks' list of conv blocks")
        _check_keys(d, cls, "architecture", skip={"blocks"})
        _check_types(d, cls, "architecture")
        for i, block in enumerate(blocks, 1):
            if not isinstance(block, dict):
                raise ValueError(f"block {i} must be a JSON object, got {block!r}")
            _check_keys(block, ConvBlock, f"block {i}")
            _check_types(block, ConvBlock, f"block {i}")
        return cls(blocks=[ConvBlock(**block) for block in blocks], **d)


def _check_keys(d, cls, what, skip=()):
    known = {f.name for f in fields(cls)} - set(skip)
    unknown = sorted(set(d) - known)
    if unknown:
        raise ValueError(f"unknown {what} setting(s) {', '.join(unknown)}; "
                         f"known: {', '.join(sorted(known))}")


# What a JSON value must look like for each field type, and how to say so. JSON's
# true/false are Python bools, which are ints too, so bools are refused as numbers.
_JSON_TYPES = {
    bool: ("true or false", lambda v: isinstance(v, bool)),
    int: ("a whole number", lambda v: isinstance(v, int) and not isinstance(v, bool)),
    float: ("a number", lambda v: isinstance(v, (int, float))
            and not isinstance(v, bool) and math.isfinite(v)),
    str: ("a string", lambda v: isinstance(v, str)),
}


def _check_types(d, cls, what):
    """ValueError naming the first setting of ``d`` whose JSON type is wrong."""
    for f in fields(cls):
        if f.name in d and f.type in _JSON_TYPES:
            description, fits = _JSON_TYPES[f.type]
            if not fits(d[f.name]):
                raise ValueError(f"{what} setting '{f.name}' must be {description}, "
                                 f"got {json.dumps(d[f.name])}")


NAMED_ARCHS = {
    # The classic teaching network: two 3x3 conv blocks, 2x2 max pooling, dense 128.
    "sample": ArchSpec(blocks=[ConvBlock(32, 3), ConvBlock(64, 3)], dense=128),
    # The same with batch normalization after each convolution.
    "sample-bn": ArchSpec(blocks=[ConvBlock(32, 3), ConvBlock(64, 3)],
                          batch_norm=True, dense=128),
    # Small and quick: trains in seconds, good for first experiments.
    "tiny": ArchSpec(blocks=[ConvBlock(8, 5, pool="max", pool_size=2)], dense=32),
    # Three blocks, padding keeps the size before each pooling; dropout against
    # overfitting.
    "deep": ArchSpec(blocks=[ConvBlock(32, 3, padding=1), ConvBlock(64, 3, padding=1),
                             ConvBlock(128, 3, padding=1)],
                     batch_norm=True, dense=128, dropout=0.3),
}


def _check_int(what, value, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{what} must be a whole number, got {value!r}")
    if value < minimum:
        raise ValueError(f"{what} must be at least {minimum}, got {value}")


def _check_spec(spec):
    """Plain-English ValueError for settings that are wrong whatever the image size."""
    if not 1 <= len(spec.blocks) <= MAX_BLOCKS:
        raise ValueError(f"a network needs 1 to {MAX_BLOCKS} conv blocks, "
                         f"got {len(spec.blocks)}")
    _check_int("input channels", spec.in_channels, 1)
    _check_int("input size", spec.input_size, 1)
    _check_int("number of classes", spec.num_classes, 2)
    _check_int("dense width", spec.dense, 0)
    if not isinstance(spec.batch_norm, bool):
        raise ValueError(f"batch norm must be on or off (true or false), got "
                         f"{spec.batch_norm!r}")
    if (isinstance(spec.dropout, bool) or not isinstance(spec.dropout, numbers.Real)
            or not 0.0 <= spec.dropout < 1.0):
        raise ValueError(f"dropout must be a number at least 0 and below 1, got "
                         f"{spec.dropout!r}")
    for i, block in enumerate(spec.blocks, 1):
        _check_int(f"Block {i} filters", block.filters, 1)
        _check_int(f"Block {i} kernel size", block.kernel_size, 1)
        _check_int(f"Block {i} stride", block.stride, 1)
        _check_int(f"Block {i} padding", block.padding, 0)
        if block.pool not in POOL_KINDS:
            raise ValueError(f"Block {i} pooling must be one of "
                             f"{', '.join(POOL_KINDS)}, got {block.pool!r}")
        _check_int(f"Block {i} pool size", block.pool_size, 1)


def _conv_side(what, n, k, stride, padding):
    """The engine's conv_output_size, or a ValueError naming the block and the fix."""
    try:
        return conv_output_size(n, k, stride, padding)
    except ValueError:
        # The explanation shows the (too small) result the formula gives.
        out = (n + 2 * padding - k) // stride + 1
        raise ValueError(
            f"{what}: a {k}x{k} kernel does not fit the {n}x{n} input "
            f"(padding {padding}): out = ({n} + 2*{padding} - {k}) // {stride} + 1 "
            f"= {out}. Use a smaller kernel, more padding or fewer blocks."
        ) from None


def _pool_side(what, n, k):
    out = (n - k) // k + 1
    if out < 1:
        raise ValueError(
            f"{what}: a {k}x{k} window does not fit the {n}x{n} input: "
            f"out = ({n} - {k}) // {k} + 1 = {out}. Use a smaller pool size, "
            "no pooling, or fewer blocks."
        )
    return out


def layer_shapes(spec):
    """Label and output shape (without the batch axis) of every layer build() makes.

    One entry per layer, in order, so it lines up with ``Sequential.activations``.
    Raises ValueError with a plain-English explanation when the sizes do not work.
    """
    _check_spec(spec)
    shapes = []
    channels, side = spec.in_channels, spec.input_size
    for i, block in enumerate(spec.blocks, 1):
        k = block.kernel_size
        side = _conv_side(f"Block {i} conv", side, k, block.stride, block.padding)
        channels = block.filters
        shapes.append((f"Block {i} conv {k}x{k}, {channels} filters",
                       (channels, side, side)))
        if spec.batch_norm:
            shapes.append((f"Block {i} batch norm", (channels, side, side)))
        shapes.append((f"Block {i} ReLU", (channels, side, side)))
        if block.pool != "none":
            p = block.pool_size
            side = _pool_side(f"Block {i} {block.pool} pool", side, p)
            shapes.append((f"Block {i} {block.pool} pool {p}x{p}",
                           (channels, side, side)))
    features = channels * side * side
    shapes.append(("Flatten", (features,)))
    if spec.dense:
        shapes.append((f"Dense {features}-{spec.dense}", (spec.dense,)))
        shapes.append(("ReLU", (spec.dense,)))
        features = spec.dense
    if spec.dropout:
        shapes.append((f"Dropout {spec.dropout:g}", (features,)))
    shapes.append((f"Output {features}-{spec.num_classes}", (spec.num_classes,)))
    return shapes


def build(spec, rng):
    """The nn.Sequential that ``spec`` describes, weights drawn from ``rng``.

    Raises ValueError (from layer_shapes) when the settings are impossible.
    """
    shapes = dict(layer_shapes(spec))  # fails early with the plain-English reason
    net = []
    channels = spec.in_channels
    for block in spec.blocks:
        # With batch norm right after it, a conv bias would be subtracted away again
        # by the mean; BatchNorm's own shift (beta) takes its place.
        net.append(layers.Conv2d(channels, block.filters, block.kernel_size,
                                 block.stride, block.padding,
                                 bias=not spec.batch_norm, rng=rng))
        channels = block.filters
        if spec.batch_norm:
            net.append(layers.BatchNorm2d(channels))
        net.append(layers.ReLU())
        if block.pool == "max":
            net.append(layers.MaxPool2d(block.pool_size))
        elif block.pool == "avg":
            net.append(layers.AvgPool2d(block.pool_size))
    net.append(layers.Flatten())
    (features,) = shapes["Flatten"]
    if spec.dense:
        net += [layers.Linear(features, spec.dense, rng=rng), layers.ReLU()]
        features = spec.dense
    if spec.dropout:
        # Its own generator, split off from rng: masks never shift the weights' draws.
        net.append(layers.Dropout(spec.dropout,
                                  rng=np.random.default_rng(rng.integers(2**63))))
    net.append(layers.Linear(features, spec.num_classes, rng=rng))
    return Sequential(*net)


def arch_of(model):
    """The ArchSpec that builds a network like model, or None for any other network.

    The inverse of build: the GUI's architecture editor shows it for an opened file.
    """
    net = list(model.layers)
    blocks, batch_norm, i = [], False, 0
    try:
        while i < len(net) and isinstance(net[i], layers.Conv2d):
            conv, i = net[i], i + 1
            if isinstance(net[i], layers.BatchNorm2d):
                batch_norm, i = True, i + 1
            if isinstance(net[i], layers.ReLU):
                i += 1
            pool, size = "none", 2
            if isinstance(net[i], (layers.MaxPool2d, layers.AvgPool2d)):
                pool = "max" if isinstance(net[i], layers.MaxPool2d) else "avg"
                size = np.ravel(net[i].kernel_size)[0]  # an int or a square pair
                i += 1
            blocks.append(ConvBlock(conv.out_channels, conv.kernel_size[0],
                                    conv.stride[0], conv.padding[0], pool, int(size)))
        linears = [layer for layer in net[i:] if isinstance(layer, layers.Linear)]
        dense = linears[0].out_features if len(linears) == 2 else 0
        dropout = next((layer.p for layer in net[i:]
                        if isinstance(layer, layers.Dropout)), 0.0)
        spec = ArchSpec(blocks, batch_norm, dense, dropout)
        # Only a spec that rebuilds exactly these layers describes the model.
        same = build(spec, np.random.default_rng(0)).get_config() == model.get_config()
    except (IndexError, TypeError, ValueError):
        return None
    return spec if same else None


def check_fits_mnist(model):
    """Raise ValueError unless model maps (1, 1, 28, 28) images to 10 class scores."""
    try:
        out = model.infer(np.zeros((1, 1, 28, 28), np.float32))
    except (ValueError, IndexError) as exc:
        raise ValueError(f"this network cannot read 28x28 digits: {exc}") from exc
    if out.shape != (1, 10):
        raise ValueError(f"this network gives {out.shape[1:]} outputs, not 10 digit "
                         "scores")


def load_arch(name_or_path):
    """An ArchSpec from a NAMED_ARCHS name or a JSON file (the CLI's --arch)."""
    if name_or_path in NAMED_ARCHS:
        return ArchSpec.from_dict(NAMED_ARCHS[name_or_path].to_dict())  # a copy
    path = Path(name_or_path)
    if not path.is_file():
        raise ValueError(f"{name_or_path!r} is neither an architecture name "
                         f"({', '.join(NAMED_ARCHS)}) nor an existing JSON file")
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read architecture file {path.name}: {exc}") from exc
    spec = ArchSpec.from_dict(d)
    # Architecture files are for the command line, which trains on MNIST.
    for name, needed in (("in_channels", 1), ("input_size", 28), ("num_classes", 10)):
        if getattr(spec, name) != needed:
            raise ValueError(
                f"'{name}' is {getattr(spec, name)}, but ConvLab reads 28x28 "
                f"greyscale digits with 10 classes: it must be {needed} (or left out)")
    layer_shapes(spec)
    return spec
