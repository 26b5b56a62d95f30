"""Edits of one trained conv filter: set a kernel, switch off, restore, freeze, step.

Each edit is a command `fn(model)` that only *sets* values, so it can run on the
training worker between two steps (the GUI's TrainingSession.submit) and again on
the GUI's copy of the model with the same result. Nothing here imports Qt.
"""

import copy

import numpy as np


def conv_filter(model, layer_index, filter_index):
    """The (weight (C, kh, kw), bias scalar or None) of one filter, as copies."""
    layer = model.layers[layer_index]
    bias = None if layer.bias is None else layer.bias.data[filter_index].copy()
    return layer.weight.data[filter_index].copy(), bias


def set_channel_command(layer_index, filter_index, channel, kernel):
    """Command: write a (kh, kw) kernel into one input channel of one filter."""
    kernel = np.array(kernel, copy=True)

    def apply(model):
        weight = model.layers[layer_index].weight.data
        weight[filter_index, channel] = kernel.astype(weight.dtype)

    return apply


def switch_off_command(layer_index, filter_index):
    """Command: zero a filter's weights and bias, so its feature map is all zeros."""

    def apply(model):
        layer = model.layers[layer_index]
        layer.weight.data[filter_index] = 0
        if layer.bias is not None:
            layer.bias.data[filter_index] = 0

    return apply


def restore_command(layer_index, filter_index, weight, bias):
    """Command: put back a filter's saved weights (C, kh, kw) and bias, bit for bit."""
    weight = np.array(weight, copy=True)

    def apply(model):
        layer = model.layers[layer_index]
        layer.weight.data[filter_index] = weight
        if layer.bias is not None and bias is not None:
            layer.bias.data[filter_index] = bias

    return apply


def sgd_step_command(layer_index, filter_index, weight, grad_weight, lr, bias=None,
                     grad_bias=None):
    """Command: one plain gradient-descent step of a filter, w - lr * dW.

    The step is worked out here from the given weight (C, kh, kw), gradient and
    learning rate, not from whatever the model holds when the command runs, so the
    GUI's copy and the live model end with the same values (lab.update.filter_step
    computes the gradient).
    """
    new_weight = np.asarray(weight, np.float64) - lr * np.asarray(grad_weight)
    new_bias = None
    if bias is not None and grad_bias is not None:
        new_bias = float(bias) - lr * float(grad_bias)
    return restore_command(layer_index, filter_index, new_weight, new_bias)


def _with_entry(mask, shape, index, value):
    """A copy of freeze `mask` (or an all-False one of `shape`) with [index] = value."""
    if mask is None:
        new = np.zeros(shape, dtype=bool)
    elif mask.shape == shape:
        new = mask.copy()
    else:
        new = np.broadcast_to(mask, shape).copy()
    new[index] = value
    # No frozen entry left: None lets the optimizers take their fast path.
    return new if new.any() else None


def freeze_command(layer_index, filter_index, frozen):
    """Command: freeze (or free) a whole filter, weights and bias, via freeze_mask."""

    def apply(model):
        layer = model.layers[layer_index]
        weight = layer.weight
        # (F, 1, 1, 1) broadcasts over (F, C, kh, kw): one flag per filter.
        shape = (weight.data.shape[0],) + (1,) * (weight.data.ndim - 1)
        weight.freeze_mask = _with_entry(weight.freeze_mask, shape, filter_index,
                                         frozen)
        if layer.bias is not None:
            layer.bias.freeze_mask = _with_entry(
                layer.bias.freeze_mask, layer.bias.data.shape, filter_index, frozen)

    return apply


def is_frozen(model, layer_index, filter_index):
    """Whether training currently leaves this filter alone."""
    mask = model.layers[layer_index].weight.freeze_mask
    return mask is not None and bool(np.all(mask[filter_index]))


def with_filter(model, layer_index, filter_index, weight, bias):
    """A deep copy of `model` with one filter set to (weight, bias)."""
    twin = copy.deepcopy(model)
    restore_command(layer_index, filter_index, weight, bias)(twin)
    return twin


def filter_input(model, image, layer_index, channel):
    """The (H, W) float64 map that one input channel of a layer's filters slides over.

    The first layer reads the digit image (H, W) itself; a deeper layer reads channel
    `channel` of the output of the layer below it for that digit.
    """
    if layer_index == 0:
        return np.asarray(image, dtype=np.float64)
    dtype = model.parameters()[0].data.dtype
    below = model.activations(np.asarray(image, dtype)[None, None])  # (1, 1, H, W) in
    return below[layer_index - 1][0, channel].astype(np.float64)
