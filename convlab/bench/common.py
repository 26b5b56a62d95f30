"""What the benchmarks share: the sample network's name, the BLAS NumPy uses, a
median timing, one ConvLab training step, and a PyTorch twin of a ConvLab network."""

import statistics
import time

from convlab import nn

NETWORK = (
    "conv 32 3x3, relu, maxpool 2, conv 64 3x3, relu, maxpool 2, flatten, "
    "linear 1600-128, relu, linear 128-10"
)


def median_ms(fn, runs, warm_up=2):
    """Median milliseconds of fn() over `runs` calls, after `warm_up` untimed ones
    (first calls pay for allocations the later ones reuse)."""
    for _ in range(warm_up):
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def blas_info():
    """What BLAS NumPy uses (library, kernel, threads), via threadpoolctl if present."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    keys = ("internal_api", "version", "architecture", "num_threads", "threading_layer")
    return [
        {key: entry.get(key) for key in keys}
        for entry in threadpool_info()
        if entry.get("user_api") == "blas"
    ]


def convlab_trainer(model, x, y):
    """One ConvLab training step: forward, loss, backward, Adam."""
    optimizer = nn.Adam(model.parameters(), lr=1e-3)

    def step():
        logits = model.forward(x)
        _, dlogits = nn.softmax_cross_entropy(logits, y)
        optimizer.zero_grad()
        model.backward(dlogits, need_dx=False)  # nobody needs d(loss)/d(images)
        optimizer.step()

    return step


def torch_twin(torch, model):
    """PyTorch's version of a ConvLab Sequential, with the same weights and buffers."""
    modules = []
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "Conv2d":
            m = torch.nn.Conv2d(layer.in_channels, layer.out_channels,
                                layer.kernel_size, layer.stride, layer.padding,
                                bias=layer.bias is not None)
        elif kind == "Linear":
            m = torch.nn.Linear(layer.in_features, layer.out_features,
                                bias=layer.bias is not None)
        elif kind in ("MaxPool2d", "AvgPool2d"):
            m = getattr(torch.nn, kind)(layer.kernel_size, layer.stride)
        elif kind == "BatchNorm2d":
            m = torch.nn.BatchNorm2d(layer.num_features, layer.eps, layer.momentum)
        elif kind == "ReLU":
            m = torch.nn.ReLU()
        elif kind == "Flatten":
            m = torch.nn.Flatten()
        elif kind == "Dropout":
            m = torch.nn.Dropout(layer.p)
        else:
            raise ValueError(f"no PyTorch twin for {kind}")
        with torch.no_grad():
            for name, p in layer.named_parameters():
                getattr(m, name).copy_(torch.from_numpy(p.data))
            for name, value in layer.named_buffers():
                getattr(m, name).copy_(torch.from_numpy(value))
        modules.append(m)
    return torch.nn.Sequential(*modules)
