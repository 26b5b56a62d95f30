"""`python -m convlab bench explain`: how long one digit's explain.backprop takes.

Times convlab.explain.backprop (forward, loss and backward of one 28x28 digit in
float64, every layer's output and gradients kept) through the sample network, after
a warm-up, on one BLAS thread as the app's worker uses. Reports the median, p95,
fastest and slowest call in milliseconds; floor: median < 5 ms, so the app can
redraw "see the network learn" for every stroke. ``--json`` prints one JSON object.
"""

import argparse
import json
import statistics
import sys
import time

import numpy as np

from convlab import explain
from convlab.bench.engine import NETWORK, blas_info
from convlab.data.synthetic import generate_digits
from convlab.nn.architectures import NAMED_ARCHS, build

FLOOR_MS = 5.0
FLOORS = {f"median < {FLOOR_MS:g} ms": lambda r: r["backprop_ms"]["median"] < FLOOR_MS}


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python -m convlab bench explain", description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--repeats", type=int, default=200,
                        help="timed calls (default 200)")
    parser.add_argument("--warmup", type=int, default=20,
                        help="untimed calls first (default 20)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    if args.warmup < 0:
        parser.error("--warmup must be >= 0")
    return args


def run(args):
    """Time explain.backprop and return every figure as a JSON-able dict."""
    from threadpoolctl import threadpool_limits

    model = build(NAMED_ARCHS["sample"], np.random.default_rng(args.seed))
    images, labels = generate_digits(1, args.seed)
    x, target = images[0], int(labels[0])  # (28, 28), the digit drawn
    with threadpool_limits(limits=1, user_api="blas"):
        blas = blas_info()
        for _ in range(args.warmup):  # first-call allocations, caches
            explain.backprop(model, x, target)
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            explain.backprop(model, x, target)
            times.append((time.perf_counter() - start) * 1e3)
    result = {
        "network": NETWORK,
        "repeats": args.repeats,
        "warmup": args.warmup,
        "blas": blas,
        "blas_threads": blas[0]["num_threads"] if blas else 1,
        "backprop_ms": {
            "median": statistics.median(times),
            "p95": float(np.percentile(times, 95)),
            "min": min(times),
            "max": max(times),
        },
    }
    result["floors"] = {name: bool(check(result)) for name, check in FLOORS.items()}
    return result


def format_report(result):
    """The human-readable report of run()'s figures."""
    ms = result["backprop_ms"]
    lines = [
        f"explain.backprop of one 28x28 digit (float64), {result['network']}",
        f"{result['repeats']} calls after {result['warmup']} warm-up, "
        f"{result['blas_threads']} BLAS thread(s)",
        f"median {ms['median']:.3f} ms, p95 {ms['p95']:.3f} ms, "
        f"min {ms['min']:.3f} ms, max {ms['max']:.3f} ms",
    ]
    lines += [f"  {'ok  ' if ok else 'MISS'} {name}"
              for name, ok in result["floors"].items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m convlab bench explain`; returns the exit code."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    result = run(args)
    print(json.dumps(result, indent=2) if args.json else format_report(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
