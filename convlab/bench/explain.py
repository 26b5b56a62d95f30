"""`python -m convlab bench explain`: how long the explanations of one digit take.

Times, through the sample network, on one 28x28 digit in float64 and on one BLAS
thread as the app's worker uses, each after a warm-up:

* explain.backprop: forward, loss and backward, every layer's output and gradients
  kept; floor median < 5 ms, so the app can redraw "see the network learn" for
  every stroke;
* explain.saliency_all: the ten saliency maps, d logit[k] / dx for every digit k;
  floor median < 20 ms, so the window can show all ten as the digit is drawn;
* explain.occlusion with 4x4 patches at stride 2: 169 occluded copies through the
  network; floor median < 50 ms.

Reports the median, p95, fastest and slowest call of each in milliseconds.
``--json`` prints one JSON object.
"""

import argparse
import json
import statistics
import sys
import time

import numpy as np

from convlab import explain
from convlab.bench.common import NETWORK, blas_info
from convlab.data.synthetic import generate_digits
from convlab.nn._malloc import keep_freed_memory
from convlab.nn.architectures import NAMED_ARCHS, build

# What is timed: its result key, its line in the report and its floor (median, ms).
TIMED = (
    ("backprop", "explain.backprop of one digit", 5.0),
    ("saliency_all", "explain.saliency_all, all ten digits", 20.0),
    ("occlusion", "explain.occlusion, 4x4 patches at stride 2", 50.0),
)
FLOORS = {
    f"{key} median < {floor:g} ms":
        lambda r, key=key, floor=floor: r[f"{key}_ms"]["median"] < floor
    for key, _, floor in TIMED
}


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python -m convlab bench explain", description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--repeats", type=int, default=100,
                        help="timed calls of each explanation (default 100)")
    parser.add_argument("--warmup", type=int, default=10,
                        help="untimed calls of each first (default 10)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    if args.warmup < 0:
        parser.error("--warmup must be >= 0")
    return args


def time_calls(call, repeats, warmup):
    """Median, p95, fastest and slowest of `repeats` calls after `warmup`, in ms."""
    for _ in range(warmup):  # first-call allocations, caches
        call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1e3)
    return {"median": statistics.median(times),
            "p95": float(np.percentile(times, 95)),
            "min": min(times), "max": max(times)}


def run(args):
    """Time every explanation and return every figure as a JSON-able dict."""
    from threadpoolctl import threadpool_limits

    model = build(NAMED_ARCHS["sample"], np.random.default_rng(args.seed))
    images, labels = generate_digits(1, args.seed)
    x, target = images[0], int(labels[0])  # (28, 28), the digit drawn
    calls = {
        "backprop": lambda: explain.backprop(model, x, target),
        "saliency_all": lambda: explain.saliency_all(model, x),
        "occlusion": lambda: explain.occlusion(model, x, target, size=4, stride=2),
    }
    with threadpool_limits(limits=1, user_api="blas"):
        blas = blas_info()
        timings = {f"{key}_ms": time_calls(calls[key], args.repeats, args.warmup)
                   for key, _, _ in TIMED}
    result = {
        "network": NETWORK,
        "repeats": args.repeats,
        "warmup": args.warmup,
        "blas": blas,
        "blas_threads": blas[0]["num_threads"] if blas else 1,
        **timings,
    }
    result["floors"] = {name: bool(check(result)) for name, check in FLOORS.items()}
    return result


def format_report(result):
    """The human-readable report of run()'s figures."""
    lines = [
        f"explanations of one 28x28 digit (float64), {result['network']}",
        f"{result['repeats']} calls of each after {result['warmup']} warm-up, "
        f"{result['blas_threads']} BLAS thread(s)",
    ]
    for key, label, _ in TIMED:
        ms = result[f"{key}_ms"]
        lines.append(f"{label}: median {ms['median']:.3f} ms, p95 {ms['p95']:.3f} "
                     f"ms, min {ms['min']:.3f} ms, max {ms['max']:.3f} ms")
    lines += [f"  {'ok  ' if ok else 'MISS'} {name}"
              for name, ok in result["floors"].items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m convlab bench explain`; returns the exit code."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    keep_freed_memory()  # training reuses its freed arrays (see _malloc.py)
    result = run(args)
    print(json.dumps(result, indent=2) if args.json else format_report(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
