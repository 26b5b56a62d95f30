"""Parameter, Module and Sequential: the PyTorch-style base the layers build on."""

import numpy as np


class Parameter:
    """A learnable array: ``.data`` and its gradient ``.grad`` (same shape).

    Gradients accumulate (``+=``) across backward passes until ``zero_grad()``, as in
    PyTorch. ``freeze_mask`` is None or a bool array broadcastable to ``.data``; the
    optimizers leave the entries where it is True exactly unchanged (for a conv weight
    of shape (F, C, kh, kw), a mask of shape (F, 1, 1, 1) freezes whole filters).
    """

    def __init__(self, data, name=""):
        self.data = np.asarray(data)
        self.grad = np.zeros_like(self.data)
        self.name = name
        self.freeze_mask = None

    @property
    def freeze_mask(self):
        return self._freeze_mask

    @freeze_mask.setter
    def freeze_mask(self, mask):
        if mask is not None:
            mask = np.asarray(mask)
            if mask.dtype != bool:
                raise ValueError(f"freeze_mask must be a bool array, got {mask.dtype}")
            try:
                shape = np.broadcast_shapes(mask.shape, self.data.shape)
            except ValueError:
                shape = None
            if shape != self.data.shape:
                raise ValueError(
                    f"freeze_mask of shape {mask.shape} does not broadcast to the "
                    f"parameter's shape {self.data.shape}"
                )
        self._freeze_mask = mask

    @property
    def shape(self):
        return self.data.shape

    def __repr__(self):
        return (f"Parameter(name={self.name!r}, shape={self.data.shape}, "
                f"dtype={self.data.dtype})")


class Module:
    """Base class of every layer: forward, backward, parameters, train/eval, config.

    A subclass implements ``_forward(x, training) -> (out, cache)`` and
    ``_backward(dout, cache, need_dx) -> dx``, the same split as the functions in
    ``convlab.nn.functional``. In training mode ``forward`` keeps the cache for the
    next ``backward``; in evaluation mode (inference) it calls ``_infer(x) -> out``,
    which keeps nothing. ``infer`` and ``Sequential.activations`` ask for evaluation
    outputs in either mode.
    """

    # Names of plain-array attributes that are model state without being learnable
    # (BatchNorm's running statistics); they are saved and loaded with the parameters.
    buffer_names = ()
    # Sequential runs a layer with commutes_with_max_pool before it when the next
    # layer is one with takes_window_max (see Sequential._order).
    commutes_with_max_pool = False
    takes_window_max = False

    def __init__(self):
        self.training = True
        self._cache = None

    def forward(self, x):
        """The layer's output for the batch ``x``; in training mode it remembers what
        backward needs."""
        if not self.training:
            # Inference needs no backward, and a kept cache (a conv layer's im2col
            # columns) would hold on to about 100 MB per evaluated copy of a network.
            self._cache = None
            return self._infer(x)
        out, self._cache = self._forward(x, True)
        return out

    def __call__(self, x):
        return self.forward(x)

    def infer(self, x):
        """The output for ``x`` as in evaluation mode, whatever mode the layer is in.

        BatchNorm uses its running statistics, Dropout is off, and nothing is cached
        or updated, so a network may be asked while it trains (in train mode) and
        its next backward is not disturbed.
        """
        return self._infer(x)

    def backward(self, dout, need_dx=True):
        """Accumulate parameter gradients and return dL/dx for the last forward.

        ``need_dx=False`` says nobody needs the input gradient (the first layer of a
        network): the layer may skip computing it and return None.
        """
        if self._cache is None:
            hint = "" if self.training else (
                " (in evaluation mode forward keeps nothing for backward: call "
                "train() first)")
            raise RuntimeError(
                f"{type(self).__name__}.backward() called without a forward() "
                f"first{hint}"
            )
        # Drop the cache: it can be large (im2col columns) and must not be reused.
        cache, self._cache = self._cache, None
        return self._backward(dout, cache, need_dx)

    def _forward(self, x, training):
        raise NotImplementedError

    def _backward(self, dout, cache, need_dx):
        raise NotImplementedError

    def _infer(self, x):
        """The output for ``x`` in evaluation mode. Layers override it to skip work
        that only backward needs (ReLU's mask, max pooling's argmax)."""
        return self._forward(x, False)[0]

    def named_children(self):
        """Direct sub-modules as (name, module) pairs; plain layers have none."""
        return []

    def modules(self):
        """This module and every module inside it, depth first."""
        yield self
        for _, child in self.named_children():
            yield from child.modules()

    def named_parameters(self, prefix=""):
        """(name, Parameter) pairs, named like PyTorch's state_dict ("0.weight")."""
        for name, value in vars(self).items():
            if isinstance(value, Parameter):
                yield prefix + name, value
        for child_name, child in self.named_children():
            yield from child.named_parameters(f"{prefix}{child_name}.")

    def parameters(self):
        """Every learnable Parameter, in a fixed order (the optimizers rely on it)."""
        return [p for _, p in self.named_parameters()]

    def named_buffers(self, prefix=""):
        """(name, array) pairs of non-learnable state, e.g. "1.running_mean"."""
        for name in self.buffer_names:
            yield prefix + name, getattr(self, name)
        for child_name, child in self.named_children():
            yield from child.named_buffers(f"{prefix}{child_name}.")

    def zero_grad(self):
        """Set every gradient to zero in place (references to .grad stay valid)."""
        for p in self.parameters():
            p.grad.fill(0)

    def train(self, mode=True):
        """Training mode: BatchNorm uses batch statistics, Dropout drops units."""
        for module in self.modules():
            module.training = mode
        return self

    def eval(self):
        """Evaluation mode: BatchNorm uses running statistics, Dropout does nothing."""
        return self.train(False)

    def to(self, dtype):
        """Convert parameters and buffers to ``dtype`` (float64 for gradient checks).

        This makes new arrays, so call it right after building the model, before
        anything (an optimizer's buffers, a view) holds on to the old ones.
        """
        for p in self.parameters():
            p.data = p.data.astype(dtype)
            p.grad = np.zeros_like(p.data)
        for module in self.modules():
            for name in module.buffer_names:
                setattr(module, name, getattr(module, name).astype(dtype))
        return self

    def state_dict(self):
        """Copies of every parameter and buffer array, keyed by their names."""
        state = {name: p.data.copy() for name, p in self.named_parameters()}
        state.update((name, value.copy()) for name, value in self.named_buffers())
        return state

    def _state_targets(self):
        targets = {name: p.data for name, p in self.named_parameters()}
        targets.update(self.named_buffers())
        return targets

    def check_state_dict(self, state):
        """Raise ValueError naming every missing, unexpected or wrong-shaped entry."""
        targets = self._state_targets()
        missing = sorted(set(targets) - set(state))
        unexpected = sorted(set(state) - set(targets))
        problems = []
        if missing:
            problems.append("missing " + ", ".join(missing))
        if unexpected:
            problems.append("unexpected " + ", ".join(unexpected))
        for name in sorted(set(targets) & set(state)):
            shape = np.shape(state[name])
            if shape != targets[name].shape:
                problems.append(f"{name} has shape {shape} but the model needs "
                                f"{targets[name].shape}")
        if problems:
            raise ValueError("state does not fit the model: " + "; ".join(problems))

    def load_state_dict(self, state):
        """Copy arrays from ``state`` into this model, in place.

        Everything is checked first (same names, same shapes), so a mismatch raises
        ValueError and leaves the model untouched.
        """
        self.check_state_dict(state)
        for name, target in self._state_targets().items():
            # In place: optimizers and the GUI hold references to these arrays.
            np.copyto(target, state[name], casting="same_kind")

    def get_config(self):
        """A JSON-able description that ``nn.from_config`` turns back into a layer."""
        return {"type": type(self).__name__}

    def extra_repr(self):
        """The text between the parentheses of the repr, as in PyTorch."""
        return ""

    def __repr__(self):
        return f"{type(self).__name__}({self.extra_repr()})"


class Sequential(Module):
    """Layers applied one after another; ``backward`` runs them in reverse."""

    def __init__(self, *layers):
        super().__init__()
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential item {i} is not a Module: {layer!r}")
        self.layers = list(layers)
        # Parameters learn their full names ("3.weight") so the GUI can label them.
        for name, p in self.named_parameters():
            p.name = name

    def named_children(self):
        return [(str(i), layer) for i, layer in enumerate(self.layers)]

    def __len__(self):
        return len(self.layers)

    def __getitem__(self, index):
        return self.layers[index]

    def __iter__(self):
        return iter(self.layers)

    def _order(self):
        """The indices of the layers in the order they run.

        A ReLU followed by max pooling runs after it instead: max(relu(x)) and
        relu(max(x)) are the same numbers, and so are their gradients (a window whose
        maximum is <= 0 passes no gradient either way, and otherwise both send it to
        the same first maximum). ReLU then works on the pooled maps, a quarter of the
        numbers after 2x2 pooling. Backward runs the same order in reverse.
        """
        layers, order, i = self.layers, [], 0
        while i < len(layers):
            if (i + 1 < len(layers) and layers[i].commutes_with_max_pool
                    and layers[i + 1].takes_window_max):
                order += [i + 1, i]
                i += 2
            else:
                order.append(i)
                i += 1
        return order

    def _forward(self, x, training):
        order = self._order()
        caches = [None] * len(self.layers)
        for i in order:
            layer = self.layers[i]
            # A layer set to eval on its own (e.g. one BatchNorm) stays in eval.
            x, caches[i] = layer._forward(x, training and layer.training)
        return x, (order, caches)

    def _infer(self, x):
        for i in self._order():
            x = self.layers[i]._infer(x)
        return x

    def _backward(self, dout, cache, need_dx):
        order, caches = cache
        for i in reversed(order):
            # Only the layer that ran first may skip its input gradient: the others
            # pass theirs on to the layer below.
            dout = self.layers[i]._backward(dout, caches[i], need_dx or i != order[0])
        return dout

    def activations(self, x):
        """Every layer's output for ``x`` (N, C, H, W), in evaluation mode.

        For showing feature maps: BatchNorm uses its running statistics, Dropout is
        off, and nothing is cached or updated, so training state is not disturbed.
        """
        outputs = []
        for layer in self.layers:
            x = layer._infer(x)
            outputs.append(x)
        return outputs

    def get_config(self):
        return {"type": "Sequential",
                "layers": [layer.get_config() for layer in self.layers]}

    def __repr__(self):
        lines = [f"  ({i}): " + repr(layer).replace("\n", "\n  ")
                 for i, layer in enumerate(self.layers)]
        return "Sequential(\n" + "\n".join(lines) + "\n)"
