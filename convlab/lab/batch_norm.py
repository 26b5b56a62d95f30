"""Batch normalization, seen: one BatchNorm2d layer's numbers, in training and eval.

Per channel c, batch norm computes

    x_hat = (x - mean) / sqrt(var + eps),    out = gamma * x_hat + beta

In training, mean and var are those of the current batch, over all its images and
positions (N, H, W); in eval they are the running averages the layer collected while
training. So in training a digit's output depends on which other digits share its
batch, and in eval it does not.

The model is only read, never changed: its layers run in evaluation mode through
``Sequential.activations`` (which caches and updates nothing), and batch norm itself
is computed here on float64 copies, so weights, gradients, running statistics and
the train/eval flags stay as they were (a training run can be mid-step).
"""

from dataclasses import dataclass

import numpy as np

from convlab.lab.channels import as_index, as_real_array, as_whole
from convlab.nn.layers import BatchNorm2d
from convlab.nn.module import Sequential

STATISTICS = ("batch", "running")


@dataclass(frozen=True)
class Histogram:
    """counts (bins,): how many values fall in each bin; edges (bins + 1,)."""

    counts: np.ndarray
    edges: np.ndarray


def histogram(values, bins=30):
    """The histogram of values (any shape), ``bins`` equal bins from min to max."""
    values = as_real_array("values", values, "an array of numbers")
    counts, edges = np.histogram(values, bins=as_whole("bins", bins, 1))
    return Histogram(counts, edges)


@dataclass(frozen=True)
class ChannelHistograms:
    """One channel's values: before (the layer's input), normalized (x_hat), after
    (the output, gamma * x_hat + beta)."""

    before: Histogram
    normalized: Histogram
    after: Histogram


@dataclass(frozen=True)
class BatchStatistics:
    """A BatchNorm2d layer in training mode on one batch, all float64.

    inputs (N, C, H, W): what the layer receives; batch_mean, batch_var (C,): their
    mean and biased variance over (N, H, W), which training normalizes with;
    gamma, beta (C,): the layer's scale and shift; running_mean, running_var (C,):
    the statistics eval mode uses instead; eps: added to the variance; x_hat
    (N, C, H, W): the normalized inputs; output (N, C, H, W): gamma * x_hat + beta.
    """

    layer_index: int
    inputs: np.ndarray
    batch_mean: np.ndarray
    batch_var: np.ndarray
    gamma: np.ndarray
    beta: np.ndarray
    running_mean: np.ndarray
    running_var: np.ndarray
    eps: float
    x_hat: np.ndarray
    output: np.ndarray

    def histograms(self, channel, bins=30):
        """ChannelHistograms of ``channel`` before and after normalization."""
        channel = as_index("channel", channel, len(self.gamma))
        return ChannelHistograms(histogram(self.inputs[:, channel], bins),
                                 histogram(self.x_hat[:, channel], bins),
                                 histogram(self.output[:, channel], bins))


def _per_channel(v):
    """(C,) -> (1, C, 1, 1), to broadcast over (N, C, H, W)."""
    return v[None, :, None, None]


def _normalize(values, mean, var, gamma, beta, eps):
    """values (N, C, H, W), the rest (C,) -> x_hat and output, both (N, C, H, W)."""
    x_hat = (values - _per_channel(mean)) / _per_channel(np.sqrt(var + eps))
    return x_hat, _per_channel(gamma) * x_hat + _per_channel(beta)


def _batch_norm_layer(model, layer_index):
    """The BatchNorm2d at layer_index, or ValueError saying where the others are."""
    if not isinstance(model, Sequential):
        raise ValueError(f"batch norm statistics needs an nn.Sequential, got "
                         f"{type(model).__name__}")
    count = len(model)
    layer_index = as_index("layer_index", layer_index, count,
                           f" (the model has {count} layers)")
    layer = model[layer_index]
    if not isinstance(layer, BatchNorm2d):
        found = [str(i) for i, other in enumerate(model)
                 if isinstance(other, BatchNorm2d)]
        where = (f"the batch norm layers are {', '.join(found)}" if found else
                 "this model has no batch norm layer (build one with batch norm on)")
        raise ValueError(f"layer {layer_index} is {type(layer).__name__}, not "
                         f"BatchNorm2d; {where}")
    return layer


def _batch(x_batch):
    """x_batch as float64 (N, C, H, W); a stack of grey (N, H, W) images gets C = 1."""
    x = as_real_array("x_batch", x_batch, "images (N, C, H, W)")
    if x.ndim == 3:
        x = x[:, None]  # (N, 1, H, W)
    if x.ndim != 4 or len(x) == 0:
        hint = "; one image needs a batch axis: x[None]" if x.ndim == 2 else ""
        raise ValueError(f"x_batch must be images (N, C, H, W) or grey images "
                         f"(N, H, W) with N >= 1, got shape {x.shape}{hint}")
    return x


def _layer_input(model, layer_index, x):
    """What layer ``layer_index`` receives for x (N, C, H, W), in evaluation mode."""
    if layer_index == 0:
        return x
    try:
        # activations() runs every layer in eval mode and keeps or updates nothing.
        outputs = model.activations(x)
    except ValueError as exc:
        raise ValueError(f"the model cannot read x_batch of shape {x.shape}: "
                         f"{exc}") from exc
    return outputs[layer_index - 1]


def batch_statistics(model, layer_index, x_batch):
    """The BatchNorm2d at ``layer_index`` of ``model``, in training mode on x_batch.

    x_batch: (N, 1, 28, 28) images (or (N, 28, 28)) fed to the model; the layers
    before the batch norm run in eval mode. Returns a BatchStatistics. The model is
    left exactly as it was; bad input raises ValueError saying what is wrong.
    """
    layer = _batch_norm_layer(model, layer_index)
    inputs = _layer_input(model, layer_index, _batch(x_batch))  # (N, C, H, W)
    N, C, H, W = inputs.shape
    if layer.num_features != C:
        raise ValueError(f"layer {layer_index} normalizes {layer.num_features} "
                         f"channel(s) but receives {C}; the input has shape "
                         f"{inputs.shape}")
    if N * H * W < 2:
        raise ValueError(f"batch statistics need more than one value per channel, "
                         f"got N*H*W = {N}*{H}*{W}; use a batch of two or more images")
    mean = inputs.mean(axis=(0, 2, 3))  # (C,)
    # Biased (divide by N*H*W), as batch norm normalizes with it.
    var = inputs.var(axis=(0, 2, 3))  # (C,)
    gamma = layer.weight.data.astype(np.float64)
    beta = layer.bias.data.astype(np.float64)
    x_hat, output = _normalize(inputs, mean, var, gamma, beta, layer.eps)
    return BatchStatistics(
        layer_index, inputs, mean, var, gamma, beta,
        layer.running_mean.astype(np.float64), layer.running_var.astype(np.float64),
        float(layer.eps), x_hat, output,
    )


def _signed(value):
    """A number to put after an operator: negatives in brackets, "+ (-0.1)"."""
    return f"({value:.4g})" if value < 0 else f"{value:.4g}"


def formula_text(channel, value, mean, var, gamma, beta, eps):
    """Batch norm of one value, as lines with this channel's numbers plugged in.

    All arguments are numbers: value, one input x of the channel; mean and var, the
    statistics it is normalized with (the batch's or the running ones); gamma, beta
    and eps, the layer's. The last line is the output value.
    """
    std = np.sqrt(var + eps)
    x_hat = (value - mean) / std
    return [
        f"channel {channel}: (x - mean) / sqrt(var + eps) * gamma + beta",
        f"= ({value:.4g} - {_signed(mean)}) / sqrt({var:.4g} + {eps:.4g}) "
        f"* {_signed(gamma)} + {_signed(beta)}",
        f"= {value - mean:.4g} / {std:.4g} * {_signed(gamma)} + {_signed(beta)}",
        f"= {x_hat:.4g} * {_signed(gamma)} + {_signed(beta)}",
        f"= {x_hat * gamma + beta:.4g}",
    ]


@dataclass(frozen=True)
class TrainVsEval:
    """One digit through a BatchNorm2d, normalized with the batch or the running
    statistics.

    batch: the BatchStatistics of x_batch with the digit as its last image; input
    (C, H, W): what the layer receives for the digit; train_output (C, H, W): with
    the batch's mean and var; eval_output (C, H, W): with the running ones;
    difference (C, H, W): train_output - eval_output; channel_difference (C,): its
    mean absolute value per channel.
    """

    batch: BatchStatistics
    input: np.ndarray
    train_output: np.ndarray
    eval_output: np.ndarray
    difference: np.ndarray
    channel_difference: np.ndarray

    @property
    def batch_mean(self):
        return self.batch.batch_mean

    @property
    def batch_var(self):
        return self.batch.batch_var

    @property
    def running_mean(self):
        return self.batch.running_mean

    @property
    def running_var(self):
        return self.batch.running_var

    def formula(self, channel, row, col, statistics="batch"):
        """formula_text for the digit's value at (channel, row, col), normalized
        with the "batch" (training) or the "running" (eval) statistics."""
        if statistics not in STATISTICS:
            raise ValueError(f'statistics must be "batch" or "running", got '
                             f"{statistics!r}")
        C, H, W = self.input.shape
        channel = as_index("channel", channel, C)
        row, col = as_index("row", row, H), as_index("col", col, W)
        s = self.batch
        mean, var = ((s.batch_mean, s.batch_var) if statistics == "batch"
                     else (s.running_mean, s.running_var))
        return formula_text(channel, self.input[channel, row, col], mean[channel],
                            var[channel], s.gamma[channel], s.beta[channel], s.eps)


def _digit(x, image_shape):
    """x as float64 (1, C, H, W) for a batch of (C, H, W) images."""
    x = as_real_array("x", x, "one image")
    C, H, W = image_shape
    if x.shape == (H, W) and C == 1:
        return x[None, None]
    if x.shape != image_shape:
        grey = f"({H}, {W})" if C == 1 else str(image_shape)
        raise ValueError(f"x must be one image of shape {grey}, like the batch's "
                         f"images, got shape {x.shape}")
    return x[None]


def train_vs_eval(model, layer_index, x, x_batch):
    """Digit x through the BatchNorm2d at ``layer_index``: training versus eval.

    x: one image (28, 28); x_batch: (N, 1, 28, 28) (or (N, 28, 28)), the batch x
    would be trained in. Returns a TrainVsEval. The model is left exactly as it
    was; bad input raises ValueError saying what is wrong.
    """
    _batch_norm_layer(model, layer_index)
    images = _batch(x_batch)
    digit = _digit(x, images.shape[1:])
    # In training the digit is part of its batch, so its values count too.
    s = batch_statistics(model, layer_index, np.concatenate([images, digit]))
    value = s.inputs[-1:]  # (1, C, H, W)
    _, eval_output = _normalize(value, s.running_mean, s.running_var, s.gamma,
                                s.beta, s.eps)
    train_output = s.output[-1]  # (C, H, W)
    difference = train_output - eval_output[0]
    return TrainVsEval(s, value[0], train_output, eval_output[0], difference,
                       np.abs(difference).mean(axis=(1, 2)))


def difference_text(result, channel):
    """Why the digit's ``channel`` differs in training and eval, with its numbers.

    result: a TrainVsEval. Returns the lines a student reads.
    """
    C = len(result.channel_difference)
    c = as_index("channel", channel, C)
    n = len(result.batch.inputs)
    return [
        f"Training (batch statistics): channel {c} is normalized with the mean "
        f"{result.batch_mean[c]:.4g} and variance {result.batch_var[c]:.4g} of "
        f"these {n} images, your digit included, so it depends on the others in "
        f"the batch.",
        f"Eval (running statistics): with the running mean "
        f"{result.running_mean[c]:.4g} and variance {result.running_var[c]:.4g}, "
        f"averaged over the batches seen in training, the same for every image.",
        f"The two outputs differ by {result.channel_difference[c]:.3g} on average "
        f"(mean |train − eval| over this channel's map): the more this batch's "
        f"statistics stray from the running ones, the larger the gap.",
    ]


# Added to a batch-norm map's enlarged view, which shows the eval-mode output.
VIEW_POINTER = (
    "Here, as whenever the network is used, batch norm runs in eval mode with the "
    "running statistics. \"Batch norm, seen…\" below shows this channel on a "
    "batch: its batch mean and variance, its values before and after, and your "
    "digit in training versus eval.")
