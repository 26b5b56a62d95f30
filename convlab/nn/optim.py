"""SGD (momentum, weight decay) and Adam, with the exact update rules of torch.optim."""

import numpy as np

from convlab.nn.module import Parameter


class Optimizer:
    """Shared parts: the parameter list, a settable ``lr``, zero_grad, freezing.

    Updates happen in place (``p.data -= ...``) so every reference to a weight array,
    held by the GUI or by a layer, keeps seeing the current values.
    """

    # Keys of state_dict() that hold one array per parameter, e.g. "exp_avg.3".
    buffer_kinds = ()

    def __init__(self, params, lr):
        self.params = list(params)
        if not self.params:
            raise ValueError("the optimizer got an empty parameter list")
        for p in self.params:
            if not isinstance(p, Parameter):
                raise TypeError(f"optimizer parameters must be nn.Parameter, got {p!r}")
        if lr < 0:
            raise ValueError(f"learning rate must be >= 0, got {lr}")
        self.lr = lr
        self.step_count = 0
        # One list per kind of buffer, one entry per parameter, created at the first
        # step (in the parameter's dtype at that time).
        self.buffers = {kind: [None] * len(self.params) for kind in self.buffer_kinds}

    def zero_grad(self):
        """Set every gradient to zero in place before the next backward pass."""
        for p in self.params:
            p.grad.fill(0)

    def step(self):
        """Apply one update to every parameter from its current ``.grad``."""
        self.step_count += 1
        for i, p in enumerate(self.params):
            # ``where=True`` updates everything; with a freeze mask only the free
            # entries change, in the weights and in the optimizer's own buffers.
            free = True if p.freeze_mask is None else ~p.freeze_mask
            grad = p.grad
            if self.weight_decay:
                grad = grad + self.weight_decay * p.data  # L2 penalty, as in torch
            update = self._update(i, grad, free)
            np.subtract(p.data, update, out=p.data, where=free)

    def _update(self, i, grad, free):
        """The amount to subtract from parameter ``i``; updates its buffers."""
        raise NotImplementedError

    def _buffer(self, kind, i):
        buffer = self.buffers[kind][i]
        if buffer is None:
            buffer = self.buffers[kind][i] = np.zeros_like(self.params[i].data)
        return buffer

    def hyperparameters(self):
        """The settings saved by state_dict (plain numbers)."""
        raise NotImplementedError

    def state_dict(self):
        """Settings, step count and copies of the buffers ("momentum_buffer.0", ...)."""
        state = {"type": type(self).__name__, "step": self.step_count,
                 **self.hyperparameters()}
        for kind, buffers in self.buffers.items():
            for i, buffer in enumerate(buffers):
                if buffer is not None:
                    state[f"{kind}.{i}"] = buffer.copy()
        return state

    def load_state_dict(self, state):
        """Restore what state_dict returned; checks it all before changing anything."""
        if state.get("type") != type(self).__name__:
            raise ValueError(
                f"optimizer state is for {state.get('type')!r}, "
                f"not {type(self).__name__}"
            )
        buffers = {}
        for key, value in state.items():
            if key in ("type", "step") or key in self.hyperparameters():
                continue
            kind, _, index = key.rpartition(".")
            if kind not in self.buffers or not index.isdigit():
                raise ValueError(f"unexpected entry {key!r} in the optimizer state")
            i = int(index)
            if i >= len(self.params):
                raise ValueError(
                    f"optimizer state entry {key!r} refers to parameter {i}, but there "
                    f"are only {len(self.params)}"
                )
            if np.shape(value) != self.params[i].data.shape:
                raise ValueError(
                    f"optimizer state entry {key!r} has shape {np.shape(value)} but "
                    f"parameter {i} has shape {self.params[i].data.shape}"
                )
            buffers[kind, i] = value
        self.step_count = int(state["step"])
        for name in self.hyperparameters():
            if name in state:
                setattr(self, name, state[name])
        for kind in self.buffers:
            self.buffers[kind] = [None] * len(self.params)
        for (kind, i), value in buffers.items():
            self.buffers[kind][i] = np.array(value, dtype=self.params[i].data.dtype)


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum and weight decay.

    As torch.optim.SGD (dampening 0, no Nesterov)::

        g = grad + weight_decay * p
        buf = momentum * buf + g          (buf starts at 0, so the first buf is g)
        p  -= lr * buf                    (or lr * g without momentum)
    """

    buffer_kinds = ("momentum_buffer",)

    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        if momentum < 0:
            raise ValueError(f"momentum must be >= 0, got {momentum}")
        if weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")
        self.momentum = momentum
        self.weight_decay = weight_decay
        super().__init__(params, lr)

    def _update(self, i, grad, free):
        if not self.momentum:
            return self.lr * grad
        buf = self._buffer("momentum_buffer", i)
        np.multiply(buf, self.momentum, out=buf, where=free)
        np.add(buf, grad, out=buf, where=free)
        return self.lr * buf

    def hyperparameters(self):
        return {"lr": self.lr, "momentum": self.momentum,
                "weight_decay": self.weight_decay}

    def __repr__(self):
        return (f"SGD(lr={self.lr}, momentum={self.momentum}, "
                f"weight_decay={self.weight_decay})")


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015), with the same arithmetic as torch.optim.Adam.

    ``weight_decay`` adds ``weight_decay * p`` to the gradient (L2, not AdamW)::

        m = beta1 * m + (1 - beta1) * g          (running mean of gradients)
        v = beta2 * v + (1 - beta2) * g * g      (running mean of squared gradients)
        p -= lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

    The ``1 - beta**t`` factors undo the bias of m and v starting at zero.
    """

    buffer_kinds = ("exp_avg", "exp_avg_sq")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        beta1, beta2 = betas
        if not (0 <= beta1 < 1 and 0 <= beta2 < 1):
            raise ValueError(f"Adam betas must be in [0, 1), got {betas}")
        if eps < 0:
            raise ValueError(f"eps must be >= 0, got {eps}")
        if weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")
        self.beta1, self.beta2 = beta1, beta2
        self.eps = eps
        self.weight_decay = weight_decay
        super().__init__(params, lr)
        self._scratches = {}

    @property
    def betas(self):
        return (self.beta1, self.beta2)

    def _update(self, i, grad, free):
        # Every step works in place in one scratch array per parameter: a training
        # step runs this for every weight, and fresh temporaries cost more than maths.
        m = self._buffer("exp_avg", i)
        v = self._buffer("exp_avg_sq", i)
        scratch = self._scratch(i)
        np.multiply(m, self.beta1, out=m, where=free)
        np.multiply(grad, 1 - self.beta1, out=scratch)
        np.add(m, scratch, out=m, where=free)
        np.multiply(v, self.beta2, out=v, where=free)
        np.multiply(grad, grad, out=scratch)
        scratch *= 1 - self.beta2
        np.add(v, scratch, out=v, where=free)
        t = self.step_count
        step_size = self.lr / (1 - self.beta1 ** t)
        np.sqrt(v, out=scratch)  # denom, in torch's order of operations
        scratch /= np.sqrt(1 - self.beta2 ** t)
        scratch += self.eps
        np.divide(m, scratch, out=scratch)
        scratch *= step_size
        return scratch

    def _scratch(self, i):
        """A work array shaped like parameter ``i``; not state, so never saved."""
        scratch = self._scratches.get(i)
        if scratch is None or scratch.dtype != self.params[i].data.dtype:
            scratch = self._scratches[i] = np.empty_like(self.params[i].data)
        return scratch

    def hyperparameters(self):
        return {"lr": self.lr, "beta1": self.beta1, "beta2": self.beta2,
                "eps": self.eps, "weight_decay": self.weight_decay}

    def __repr__(self):
        return (f"Adam(lr={self.lr}, betas={self.betas}, eps={self.eps}, "
                f"weight_decay={self.weight_decay})")
