"""A conv layer in depth, as the Network tab shows it: a filter's channels added
up, and the layer on a batch of images.

A deeper conv layer's filter holds one kernel per input channel (per map of the
column before). Its output map is the sum of the C partial maps, kernel c over
input map c, plus one bias; the ReLU comes after. channel_sums takes the numbers
from the layer's real input and output, so the check it prints is a real one.

layer_on_batch runs the layer on N images at once and gives the shapes of
(N, C, H, W) * (F, C, kh, kw) -> (N, F, out_h, out_w) from channels.batch_shapes.

The model is only read: its layers run through ``Sequential.activations`` (eval
mode, nothing cached) and the engine's conv2d_forward, so nothing in it changes.
No Qt here.
"""

from dataclasses import dataclass

import numpy as np

from convlab.data.synthetic import generate_digits
from convlab.lab.channels import as_index, as_real_array, batch_shapes, partial_maps
from convlab.nn.functional import conv2d_forward
from convlab.nn.layers import Conv2d
from convlab.nn.module import Sequential

SHOWN_TERMS = 4  # partial maps written out in the check of one cell; the rest "..."
BATCH_FILTERS = 3  # filters of the batch view: enough to see F, small enough to read


@dataclass(frozen=True)
class ChannelSums:
    """Filter ``index`` of a conv layer on one image, channel by channel.

    maps: channels.PartialMaps (partial (C, out_h, out_w), total, bias, output,
    contribution (C,), order (C,) biggest contribution first); layer_output
    (out_h, out_w): the map the layer itself computed (before any ReLU);
    has_bias: False for a conv layer without bias (batch norm's beta shifts
    instead); cell: (row, col) of the largest |output|, the cell the check writes
    out; difference: the largest |sum of partial maps + bias - layer_output|.
    """

    index: int
    maps: object
    layer_output: np.ndarray
    has_bias: bool
    cell: tuple
    difference: float

    def labels(self):
        """One label per partial map, in maps.order: the channel and its share."""
        return [f"channel {c}\n{self.maps.contribution[c]:.3g}"
                for c in self.maps.order]

    def explanation(self):
        """What the partial maps are, in the words of the Network tab."""
        c = len(self.maps.partial)
        bias = (f"plus the filter's bias b = {self.maps.bias:.3g}" if self.has_bias
                else "(this layer has no bias: the batch norm after it shifts by β)")
        return (f"Filter {self.index} has {c} kernels, one per map of the column "
                f"before. Kernel c slides over map c alone and gives partial map "
                f"c; the layer's output map is the sum of all {c} partial maps "
                f"{bias}, before the ReLU. Largest share first: the number under "
                f"each channel is the sum of |partial map|. Channel c is map c of "
                f"the column before, counted from 0.")

    def check_lines(self):
        """The check, with this image's numbers: one cell written out, then all."""
        m = self.maps
        r, col = self.cell
        values = m.partial[m.order, r, col]  # (C,) biggest contributors first
        terms = " + ".join(f"{v:.3g}" for v in values[:SHOWN_TERMS])
        if len(values) > SHOWN_TERMS:
            terms += f" + … ({len(values)} terms)"
        bias = f" + bias {m.bias:.3g}" if self.has_bias else " + no bias"
        cells = self.layer_output.size
        return [
            f"Row {r}, column {col}: {terms} = {m.total[r, col]:.4g}{bias} = "
            f"{m.output[r, col]:.4g}; the layer's output map holds "
            f"{self.layer_output[r, col]:.4g} there.",
            f"Sum of partial maps + bias = this layer's output map: largest "
            f"difference over all {cells} cells {self.difference:.2g} (float32 "
            f"rounding).",
        ]


def _conv_layer(model, layer_index):
    """The Conv2d at layer_index of an nn.Sequential, or ValueError."""
    if not isinstance(model, Sequential):
        raise ValueError(f"a conv layer in depth needs an nn.Sequential, got "
                         f"{type(model).__name__}")
    layer_index = as_index("layer_index", layer_index, len(model),
                           f" (the model has {len(model)} layers)")
    layer = model[layer_index]
    if not isinstance(layer, Conv2d):
        raise ValueError(f"layer {layer_index} is {type(layer).__name__}, not Conv2d")
    return layer


def channel_sums(layer, layer_input, layer_output, index):
    """Filter ``index`` of ``layer`` (a Conv2d) on one image, taken apart.

    layer_input (1, C, H, W): what the layer received; layer_output
    (1, F, out_h, out_w): what it gave. Returns a ChannelSums.
    """
    x = as_real_array("layer_input", layer_input, "one image (1, C, H, W)")
    out = as_real_array("layer_output", layer_output, "maps (1, F, out_h, out_w)")
    if x.ndim != 4 or len(x) != 1 or out.ndim != 4 or len(out) != 1:
        raise ValueError(f"layer_input and layer_output must each hold one image "
                         f"(1, ...), got shapes {x.shape} and {out.shape}")
    index = as_index("index", index, layer.out_channels,
                     f" (the layer has {layer.out_channels} filters)")
    has_bias = layer.bias is not None
    bias = float(layer.bias.data[index]) if has_bias else 0.0
    maps = partial_maps(x[0], layer.weight.data[index], bias, layer.stride,
                        layer.padding)
    own = out[0, index]  # (out_h, out_w)
    if own.shape != maps.out_shape:
        raise ValueError(f"layer_output's maps are {own.shape}, but the filter on "
                         f"layer_input gives {maps.out_shape}")
    cell = np.unravel_index(int(np.argmax(np.abs(own))), own.shape)
    return ChannelSums(index, maps, own, has_bias, (int(cell[0]), int(cell[1])),
                       float(np.abs(maps.output - own).max()))


@dataclass(frozen=True)
class BatchRun:
    """A conv layer's first filters on a batch of images, in one call.

    shapes: channels.BatchShapes of inputs * weights -> output; inputs
    (N, C, H, W): what the layer receives for each image; weights
    (F, C, kh, kw): its first F filters; output (N, F, out_h, out_w): the batched
    conv2d_forward, before any ReLU.
    """

    layer_index: int
    shapes: object
    inputs: np.ndarray
    weights: np.ndarray
    output: np.ndarray


def layer_on_batch(model, layer_index, x_batch, filters=BATCH_FILTERS):
    """The Conv2d at ``layer_index`` of ``model`` on x_batch (N, 1, 28, 28), its
    first ``filters`` filters only (fewer if it has fewer). Returns a BatchRun."""
    layer = _conv_layer(model, layer_index)
    x = as_real_array("x_batch", x_batch, "images (N, 1, H, W)").astype(np.float32)
    if x.ndim != 4 or len(x) == 0:
        raise ValueError(f"x_batch must be images (N, 1, H, W) with N >= 1, got "
                         f"shape {x.shape}")
    # activations() runs in eval mode and keeps nothing, so the model is unchanged.
    inputs = x if layer_index == 0 else model.activations(x)[layer_index - 1]
    f = min(int(filters), layer.out_channels)
    w = layer.weight.data[:f]  # (F, C, kh, kw)
    b = None if layer.bias is None else layer.bias.data[:f]
    output, _ = conv2d_forward(inputs, w, b, layer.stride, layer.padding)
    N, C, H, W = inputs.shape
    kh, kw = layer.kernel_size
    shapes = batch_shapes(N, C, H, W, f, kh, kw, layer.stride, layer.padding)
    return BatchRun(layer_index, shapes, inputs, w.copy(), output)


def example_batch(x, test_images, n=4):
    """n images (n, 1, 28, 28) float32 and their names: the student's digit x
    (28, 28) first when there is one, then test images (N, 1, 28, 28), or
    generated digits when there are none."""
    images, names = [], []
    if x is not None:
        images.append(np.asarray(x, np.float32).reshape(1, 28, 28))
        names.append("your digit")
    wanted = n - len(images)
    if test_images is not None and len(test_images) >= wanted:
        images += list(np.asarray(test_images[:wanted], np.float32))
        names += [f"test image {i}" for i in range(wanted)]
    else:
        # A fixed seed: the same digits every time, so the view holds still.
        drawn, _ = generate_digits(wanted, 0)
        images += list(drawn[:, None])
        names += [f"generated digit {i}" for i in range(wanted)]
    return np.stack(images), names  # (n, 1, 28, 28)
