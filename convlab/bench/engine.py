"""Engine benchmark: training images/s of ConvLab, the reference loops and PyTorch."""

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np

from convlab import nn
from convlab.bench.common import (
    NETWORK,
    blas_info,
    convlab_trainer,
    median_ms,
    torch_twin,
)
from convlab.nn import functional as F
from convlab.nn import reference as R
from convlab.nn._malloc import keep_freed_memory
from convlab.nn.architectures import NAMED_ARCHS, build


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python -m convlab bench engine",
        description="Train the sample network on random data (batch 64, float32, "
        "Adam) with ConvLab, the reference loops and PyTorch (when installed), "
        "interleaved in one run, and report images per second and one-image latency.",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--repeats", type=int, default=None,
                        help="interleaved repeats; the median is reported (default 7, "
                        "5 with --matrix)")
    parser.add_argument("--steps", type=int, default=10,
                        help="training steps per repeat (default 10)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--reference-images", type=int, default=2,
                        help="images per reference-loop step (slow; default 2)")
    parser.add_argument("--latency-runs", type=int, default=200,
                        help="one-image forward passes timed (default 200)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--settle", type=float, default=None,
                        help="seconds of pause before each timed block (default 0.3, "
                        "0.1 with --matrix)")
    parser.add_argument("--no-torch", action="store_true",
                        help="leave PyTorch out even when it is installed")
    matrix = parser.add_argument_group(
        "matrix", "--matrix compares ConvLab with PyTorch on many networks instead")
    matrix.add_argument("--matrix", action="store_true",
                        help="every kernel size, stride, padding, pooling and batch "
                        "norm setting the editor offers, training at batch 1-256 and "
                        "eval at 500, plus peak memory at batch 256")
    matrix.add_argument("--quick", action="store_true",
                        help="with --matrix: two networks, two settings (a smoke test)")
    matrix.add_argument("--seconds", type=float, default=0.15,
                        help="with --matrix: about this long per timed block "
                        "(default 0.15)")
    matrix.add_argument("--no-memory", action="store_true",
                        help="with --matrix: skip the peak-memory processes")
    args = parser.parse_args(argv)
    if args.repeats is None:
        args.repeats = 5 if args.matrix else 7
    if args.settle is None:
        args.settle = 0.1 if args.matrix else 0.3
    for name in ("repeats", "steps", "batch_size", "reference_images", "latency_runs"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    return args


def reference_trainer(model, x, y):
    """The same step with convolution and pooling done by the reference loops.

    ReLU, linear layers, loss and Adam are the vectorized ones: next to the loops they
    cost almost nothing, so the figure measures the loops.
    """
    params = [nn.Parameter(p.data.copy()) for p in model.parameters()]
    optimizer = nn.Adam(params, lr=1e-3)
    layers = list(model.layers)

    def step():
        caches = []
        h = x
        it = iter(params)
        weights = []
        for layer in layers:
            kind = type(layer).__name__
            if kind == "Conv2d":
                w, b = next(it), next(it)
                weights.append((w, b))
                h, cache = R.conv_forward(h, w.data, b.data, layer.stride,
                                          layer.padding)
            elif kind == "MaxPool2d":
                h, cache = R.pool_forward(h, layer.kernel_size, layer.stride, "max")
            elif kind == "ReLU":
                h, cache = F.relu_forward(h)
            elif kind == "Flatten":
                h, cache = h.reshape(len(h), -1), h.shape  # (N, C*H*W)
            elif kind == "Linear":
                w, b = next(it), next(it)
                weights.append((w, b))
                h, cache = F.linear_forward(h, w.data, b.data)
            else:
                raise ValueError(f"no reference loop for {kind}")
            caches.append((kind, cache))
        _, d = F.softmax_cross_entropy(h, y)
        optimizer.zero_grad()
        for kind, cache in reversed(caches):
            if kind == "Conv2d":
                w, b = weights.pop()
                d, dw, db = R.conv_backward(d, cache)
                w.grad += dw
                b.grad += db
            elif kind == "MaxPool2d":
                d = R.pool_backward(d, cache)
            elif kind == "ReLU":
                d = F.relu_backward(d, cache)
            elif kind == "Flatten":
                d = d.reshape(cache)  # (N, C, H, W)
            else:
                w, b = weights.pop()
                d, dw, db = F.linear_backward(d, cache)
                w.grad += dw
                b.grad += db
        optimizer.step()

    return step


def torch_setup(model, x, y, threads):
    """PyTorch's version of the model (same weights) and its training step, or None."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    net = torch_twin(torch, model)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)

    def step():
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(tx), ty)
        loss.backward()
        optimizer.step()

    def infer(image):
        with torch.no_grad():
            net(image)

    return torch, step, infer


def time_steps(step, steps):
    """Seconds for `steps` calls of step()."""
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return time.perf_counter() - start


def run(args):
    """Run the benchmark and return every figure as a JSON-able dict."""
    rng = np.random.default_rng(args.seed)
    model = build(NAMED_ARCHS["sample"], rng)
    x = rng.random((args.batch_size, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, size=args.batch_size)
    blas = blas_info()
    threads = blas[0]["num_threads"] if blas else os.cpu_count()

    ref_model = build(NAMED_ARCHS["sample"], np.random.default_rng(args.seed))
    n_ref = min(args.reference_images, args.batch_size)
    engines = {
        "convlab": (convlab_trainer(model, x, y), args.steps, args.batch_size),
        "reference": (reference_trainer(ref_model, x[:n_ref], y[:n_ref]), 1, n_ref),
    }
    torch_parts = None if args.no_torch else torch_setup(model, x, y, threads)
    if torch_parts is not None:
        torch, torch_step, torch_infer = torch_parts
        engines["torch"] = (torch_step, args.steps, args.batch_size)

    for step, _, _ in engines.values():  # warm-up: first-call allocations, caches
        step()
    rates = {name: [] for name in engines}
    names = list(engines)
    for r in range(args.repeats):
        # Interleaved, and in a rotating order, so slow phases of a shared machine
        # hit every engine alike.
        for name in names[r % len(names):] + names[: r % len(names)]:
            step, steps, images = engines[name]
            # OpenBLAS and PyTorch keep their worker threads spinning for a while
            # after each call; a pause lets the previous engine's threads go to sleep
            # so they do not steal the cores from the engine being timed.
            time.sleep(args.settle)
            if name != "reference":
                step()  # wake this engine's own threads up, untimed
            rates[name].append(steps * images / time_steps(step, steps))

    result = {
        "network": NETWORK,
        "batch_size": args.batch_size,
        "dtype": "float32",
        "optimizer": "Adam",
        "repeats": args.repeats,
        "steps_per_repeat": args.steps,
        "settle_s": args.settle,
        "reference_images_per_step": n_ref,
        "blas": blas,
        "blas_threads": threads,
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
        "openblas_l2_size": os.environ.get("OPENBLAS_L2_SIZE"),
        "images_per_s": {name: statistics.median(v) for name, v in rates.items()},
        # The fastest repeat: on a busy shared machine, the closest to an idle one.
        "images_per_s_best": {name: max(v) for name, v in rates.items()},
        "images_per_s_repeats": rates,
        "torch_version": None,
        "torch_threads": None,
    }
    ips = result["images_per_s"]
    result["convlab_step_ms"] = 1e3 * args.batch_size / ips["convlab"]
    result["ratio_convlab_to_reference"] = ips["convlab"] / ips["reference"]

    image = x[:1]  # (1, 1, 28, 28)
    model.eval()
    latency = {"convlab": median_ms(lambda: model.forward(image),
                                            args.latency_runs)}
    if torch_parts is not None:
        result["torch_version"] = torch.__version__
        result["torch_threads"] = torch.get_num_threads()
        result["ratio_convlab_to_torch"] = ips["convlab"] / ips["torch"]
        best = result["images_per_s_best"]
        result["ratio_convlab_to_torch_best"] = best["convlab"] / best["torch"]
        # Each repeat times both engines back to back, so the ratio within a repeat
        # cancels slow phases of the machine; this is the median of those ratios.
        result["ratio_convlab_to_torch_paired"] = statistics.median(
            c / t for c, t in zip(rates["convlab"], rates["torch"], strict=True)
        )
        timage = torch.from_numpy(image)
        latency["torch"] = median_ms(lambda: torch_infer(timage),
                                             args.latency_runs)
    result["latency_ms"] = latency

    warnings = []
    if result["openblas_coretype"]:
        warnings.append(
            f"OPENBLAS_CORETYPE={result['openblas_coretype']} is set: it forces "
            "OpenBLAS onto that CPU's kernels, which can be much slower than the "
            "ones it would pick itself (e.g. AVX2 instead of AVX-512). Compare with "
            "`env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m convlab "
            "bench engine`."
        )
    result["warnings"] = warnings
    return result


def format_report(res):
    """The human-readable report of run()'s figures."""
    ips = res["images_per_s"]
    lines = [
        f"ConvLab engine benchmark: {res['network']}",
        f"training on random data: batch {res['batch_size']}, {res['dtype']}, "
        f"{res['optimizer']}; median of {res['repeats']} interleaved repeats of "
        f"{res['steps_per_repeat']} steps",
    ]
    for entry in res["blas"]:
        lines.append(
            f"NumPy BLAS: {entry['internal_api']} {entry['version']}, kernel "
            f"{entry['architecture']}, {entry['num_threads']} threads"
        )
    if not res["blas"]:
        lines.append("NumPy BLAS: unknown (install threadpoolctl to see it)")
    if res["torch_threads"] is not None:
        lines.append(f"PyTorch {res['torch_version']}: {res['torch_threads']} threads")
    for warning in res["warnings"]:
        lines.append(f"warning: {warning}")
    lines.append("")
    best = res["images_per_s_best"]
    lines.append(f"{'':34s}{'images/s':>10s}{'ms/step':>10s}{'best':>10s}"
                 "   ConvLab is")
    lines.append(f"{'ConvLab (NumPy)':34s}{ips['convlab']:10,.0f}"
                 f"{res['convlab_step_ms']:10.2f}{best['convlab']:10,.0f}")
    if "torch" in ips:
        torch_ms = 1e3 * res["batch_size"] / ips["torch"]
        lines.append(f"{'PyTorch CPU':34s}{ips['torch']:10,.0f}{torch_ms:10.2f}"
                     f"{best['torch']:10,.0f}"
                     f"   {res['ratio_convlab_to_torch']:.2f}x PyTorch")
    else:
        lines.append("PyTorch CPU: not installed, skipped")
    label = f"reference loops ({res['reference_images_per_step']} images/step)"
    lines.append(f"{label:34s}{ips['reference']:10,.2f}{'':10s}"
                 f"{best['reference']:10,.2f}"
                 f"   {res['ratio_convlab_to_reference']:,.0f}x reference")
    if "torch" in ips:
        lines.append(
            f"ConvLab / PyTorch: {res['ratio_convlab_to_torch']:.2f}x from the "
            f"medians, {res['ratio_convlab_to_torch_paired']:.2f}x median of the "
            f"per-repeat ratios, {res['ratio_convlab_to_torch_best']:.2f}x from the "
            "best repeats"
        )
    lines.append("images/s and ratios use medians; 'best' is the fastest repeat, "
                 "closest to an idle machine when the machine is shared")
    lines.append("")
    lat = res["latency_ms"]
    text = f"one 28x28 image, forward pass (eval): ConvLab {lat['convlab']:.3f} ms"
    if "torch" in lat:
        text += f", PyTorch {lat['torch']:.3f} ms"
    lines.append(text)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m convlab bench engine`; returns the exit code."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    keep_freed_memory()  # training reuses its freed arrays (see _malloc.py)
    if args.matrix:
        from convlab.bench import matrix

        return matrix.main(args)
    result = run(args)
    print(json.dumps(result, indent=2) if args.json else format_report(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
