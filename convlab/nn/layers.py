"""The layers, with PyTorch's names and arguments, wrapping convlab.nn.functional."""

import numpy as np

from convlab.nn import functional as F
from convlab.nn.functional import as_pair
from convlab.nn.im2col import to_nchw
from convlab.nn.init import kaiming_uniform_bound, uniform_
from convlab.nn.module import Module, Parameter


def _int_or_pair(value, name):
    """An int stays an int; a pair (tuple or JSON list) becomes a tuple of two ints."""
    return as_pair(value, name) if isinstance(value, (tuple, list)) else int(value)


def _check_at_least(name, value, minimum):
    if min(as_pair(value, name)) < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")


def _rng_or_default(rng):
    # No rng given: a fresh Generator seeded by the operating system, never the
    # global np.random state (which other code could reseed or consume).
    return np.random.default_rng() if rng is None else rng


class Conv2d(Module):
    """2-D convolution: (N, in_channels, H, W) -> (N, out_channels, out_h, out_w).

    ``weight`` has shape (out_channels, in_channels, kh, kw) and ``bias``
    (out_channels,), as in PyTorch. Each output side is
    out = (n + 2*padding - k) // stride + 1.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 bias=True, *, rng=None, dtype=np.float32):
        super().__init__()
        _check_at_least("in_channels", in_channels, 1)
        _check_at_least("out_channels", out_channels, 1)
        _check_at_least("kernel_size", kernel_size, 1)
        _check_at_least("stride", stride, 1)
        _check_at_least("padding", padding, 0)
        self.in_channels = int(in_channels)
        self.out_channels = int(out_channels)
        self.kernel_size = as_pair(kernel_size, "kernel_size")
        self.stride = as_pair(stride, "stride")
        self.padding = as_pair(padding, "padding")
        kh, kw = self.kernel_size
        self.weight = Parameter(np.empty((out_channels, in_channels, kh, kw), dtype),
                                name="weight")
        self.bias = (Parameter(np.empty(out_channels, dtype), name="bias") if bias
                     else None)
        self.reset_parameters(_rng_or_default(rng))

    def reset_parameters(self, rng):
        """PyTorch's default: uniform in +-1/sqrt(fan_in), fan_in = C * kh * kw."""
        bound = kaiming_uniform_bound(self.in_channels * self.kernel_size[0]
                                      * self.kernel_size[1])
        uniform_(self.weight, bound, rng)
        if self.bias is not None:
            uniform_(self.bias, bound, rng)

    def _forward(self, x, training):
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"Conv2d expects input (N, {self.in_channels}, H, W) with "
                f"{self.in_channels} channel(s), got shape {x.shape}"
            )
        bias = None if self.bias is None else self.bias.data
        return F.conv2d_forward(x, self.weight.data, bias, self.stride, self.padding)

    def _backward(self, dout, cache, need_dx):
        dx, dw, db = F.conv2d_backward(dout, cache, need_dx=need_dx)
        self.weight.grad += dw
        if self.bias is not None:
            self.bias.grad += db
        return dx

    def get_config(self):
        return {"type": "Conv2d", "in_channels": self.in_channels,
                "out_channels": self.out_channels,
                "kernel_size": list(self.kernel_size), "stride": list(self.stride),
                "padding": list(self.padding), "bias": self.bias is not None}

    def extra_repr(self):
        text = (f"{self.in_channels}, {self.out_channels}, "
                f"kernel_size={self.kernel_size}, stride={self.stride}")
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.bias is None:
            text += ", bias=False"
        return text


class _Pool2d(Module):
    """What max and average pooling share: window size, stride, config and repr."""

    def __init__(self, kernel_size, stride=None):
        super().__init__()
        _check_at_least("kernel_size", kernel_size, 1)
        if stride is not None:
            _check_at_least("stride", stride, 1)
        # Kept as an int when given as one, so the repr reads like PyTorch's.
        self.kernel_size = _int_or_pair(kernel_size, "kernel_size")
        self.stride = self.kernel_size if stride is None else _int_or_pair(stride,
                                                                           "stride")

    def get_config(self):
        def plain(value):
            return list(value) if isinstance(value, tuple) else value

        return {"type": type(self).__name__, "kernel_size": plain(self.kernel_size),
                "stride": plain(self.stride)}

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}"


class MaxPool2d(_Pool2d):
    """Max pooling: the largest value of each window; stride defaults to the window."""

    takes_window_max = True

    def _forward(self, x, training):
        return F.max_pool2d_forward(x, self.kernel_size, self.stride)

    def _infer(self, x):
        return F.max_pool2d_forward(x, self.kernel_size, self.stride,
                                    keep_argmax=False)[0]

    def _backward(self, dout, cache, need_dx):
        return F.max_pool2d_backward(dout, cache) if need_dx else None


class AvgPool2d(_Pool2d):
    """Average pooling: the mean of each window; stride defaults to the window."""

    def _forward(self, x, training):
        return F.avg_pool2d_forward(x, self.kernel_size, self.stride)

    def _backward(self, dout, cache, need_dx):
        return F.avg_pool2d_backward(dout, cache) if need_dx else None


class BatchNorm2d(Module):
    """Batch normalization per channel, with learnable scale ``weight`` and ``bias``.

    Training normalizes with the batch's mean and variance and updates
    ``running_mean`` / ``running_var`` (plain arrays, not Parameters: they are
    estimated, not learned by gradient descent); eval mode uses the running values.
    """

    buffer_names = ("running_mean", "running_var")

    def __init__(self, num_features, eps=1e-5, momentum=0.1, *, dtype=np.float32):
        super().__init__()
        _check_at_least("num_features", num_features, 1)
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"momentum must be in [0, 1], got {momentum}")
        self.num_features = int(num_features)
        self.eps = eps
        self.momentum = momentum
        self.weight = Parameter(np.empty(num_features, dtype), name="weight")
        self.bias = Parameter(np.empty(num_features, dtype), name="bias")
        self.running_mean = np.empty(num_features, dtype)
        self.running_var = np.empty(num_features, dtype)
        self.reset_parameters()

    def reset_parameters(self, rng=None):
        """Scale 1, shift 0, running statistics of a standard normal (no randomness)."""
        self.weight.data.fill(1)
        self.bias.data.fill(0)
        self.weight.grad.fill(0)
        self.bias.grad.fill(0)
        self.running_mean.fill(0)
        self.running_var.fill(1)

    def _forward(self, x, training):
        if x.ndim != 4 or x.shape[1] != self.num_features:
            raise ValueError(
                f"BatchNorm2d expects input (N, {self.num_features}, H, W), "
                f"got shape {x.shape}"
            )
        return F.batch_norm2d_forward(
            x, self.weight.data, self.bias.data, self.running_mean, self.running_var,
            training, momentum=self.momentum, eps=self.eps,
        )

    def _backward(self, dout, cache, need_dx):
        dx, dgamma, dbeta = F.batch_norm2d_backward(dout, cache)
        self.weight.grad += dgamma
        self.bias.grad += dbeta
        return dx

    def get_config(self):
        return {"type": "BatchNorm2d", "num_features": self.num_features,
                "eps": self.eps, "momentum": self.momentum}

    def extra_repr(self):
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class ReLU(Module):
    """Rectified linear unit: max(x, 0), elementwise."""

    commutes_with_max_pool = True

    def _forward(self, x, training):
        return F.relu_forward(x)

    def _infer(self, x):
        return F.relu_forward(x, keep_mask=False)[0]

    def _backward(self, dout, cache, need_dx):
        return F.relu_backward(dout, cache) if need_dx else None


class Flatten(Module):
    """(N, C, H, W) -> (N, C*H*W): feature maps become one vector per image."""

    def _forward(self, x, training):
        # Conv and pooling outputs are (H, W, N, C) in memory; the copy to NCHW order
        # is what the reshape would do, done the fast way.
        return to_nchw(x).reshape(len(x), -1), x.shape  # (N, C*H*W)

    def _backward(self, dout, x_shape, need_dx):
        return dout.reshape(x_shape) if need_dx else None  # (N, C, H, W)


class Linear(Module):
    """Fully connected layer: (N, in_features) -> (N, out_features).

    ``weight`` has shape (out_features, in_features), as in PyTorch.
    """

    def __init__(self, in_features, out_features, bias=True, *, rng=None,
                 dtype=np.float32):
        super().__init__()
        _check_at_least("in_features", in_features, 1)
        _check_at_least("out_features", out_features, 1)
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        self.weight = Parameter(np.empty((out_features, in_features), dtype),
                                name="weight")
        self.bias = (Parameter(np.empty(out_features, dtype), name="bias") if bias
                     else None)
        self.reset_parameters(_rng_or_default(rng))

    def reset_parameters(self, rng):
        """PyTorch's default: uniform in +-1/sqrt(in_features)."""
        bound = kaiming_uniform_bound(self.in_features)
        uniform_(self.weight, bound, rng)
        if self.bias is not None:
            uniform_(self.bias, bound, rng)

    def _forward(self, x, training):
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(
                f"Linear expects input (N, {self.in_features}), got shape {x.shape}"
            )
        bias = None if self.bias is None else self.bias.data
        return F.linear_forward(x, self.weight.data, bias)

    def _backward(self, dout, cache, need_dx):
        dx, dw, db = F.linear_backward(dout, cache)
        self.weight.grad += dw
        if self.bias is not None:
            self.bias.grad += db
        return dx if need_dx else None

    def get_config(self):
        return {"type": "Linear", "in_features": self.in_features,
                "out_features": self.out_features, "bias": self.bias is not None}

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Dropout(Module):
    """Inverted dropout: in training, zero each value with probability p.

    Survivors are scaled by 1/(1-p) so eval mode needs no change. The masks come from
    the layer's own Generator ``rng`` (set it to make a run reproducible).
    """

    def __init__(self, p=0.5, *, rng=None):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability p must be in [0, 1], got {p}")
        self.p = p
        self.rng = _rng_or_default(rng)

    def _forward(self, x, training):
        return F.dropout_forward(x, self.p, training, self.rng)

    def _backward(self, dout, cache, need_dx):
        return F.dropout_backward(dout, cache) if need_dx else None

    def get_config(self):
        return {"type": "Dropout", "p": self.p}

    def extra_repr(self):
        return f"p={self.p}"
