"""Engine benchmark matrix: ConvLab against PyTorch CPU over the networks the
architecture editor builds (kernel sizes, strides, padding, pooling, batch norm),
training steps at several batch sizes and eval forward passes, interleaved in one run.

Peak memory of one batch-256 training step is measured in a fresh process per engine
as the growth of the resident set (Linux's peak-RSS mark VmHWM, reset before the step,
minus the RSS before it), the same yardstick for both; ConvLab's NumPy arrays are also
counted exactly with tracemalloc (NumPy reports its allocations to it, PyTorch does
not).
"""

import json
import os
import statistics
import subprocess
import sys
import time
import tracemalloc

import numpy as np

from convlab.bench.common import blas_info, convlab_trainer, median_ms, torch_twin
from convlab.nn._malloc import keep_freed_memory
from convlab.nn.architectures import (
    NAMED_ARCHS,
    ArchSpec,
    ConvBlock,
    build,
    layer_shapes,
)

C = ConvBlock
CASES = {
    "sample": NAMED_ARCHS["sample"],
    "sample-bn": NAMED_ARCHS["sample-bn"],
    "sample-avg": ArchSpec(blocks=[C(32, 3, pool="avg"), C(64, 3, pool="avg")]),
    "k5-p2": ArchSpec(blocks=[C(16, 5, padding=2), C(32, 5, padding=2)]),
    "k3-s2-p1-x3": ArchSpec(blocks=[C(32, 3, 2, 1, "none"), C(64, 3, 2, 1, "none"),
                                    C(128, 3, 2, 1, "none")]),
    "k1": ArchSpec(blocks=[C(16, 1), C(32, 1)]),
    "k7-p3-bn": ArchSpec(blocks=[C(16, 7, padding=3), C(32, 7, padding=3)],
                         batch_norm=True),
    "k4-s4": ArchSpec(blocks=[C(32, 4, 4, 0, "none")], dense=64),
    "k6-s3-p3-avg-bn": ArchSpec(blocks=[C(32, 6, 3, 3, "avg")], batch_norm=True),
    "k2-s2-nodense": ArchSpec(blocks=[C(16, 2, 2, 0, "none"), C(32, 2, 2, 0, "none")],
                              dense=0),
    "k3-p1-pool3-x3": ArchSpec(blocks=[C(32, 3, 1, 1, "max", 3),
                                       C(64, 3, 1, 1, "avg", 3),
                                       C(64, 3, 1, 1, "none")], dense=256),
}
# (mode, batch size): training steps with Adam, and eval forward passes.
SETTINGS = [("train", 1), ("train", 16), ("train", 64), ("train", 256),
            ("eval", 500)]
QUICK_CASES = ("sample", "k5-p2")
QUICK_SETTINGS = [("train", 16), ("eval", 500)]
MEMORY_BATCH = 256


def _data(batch, seed):
    rng = np.random.default_rng(seed)
    x = rng.random((batch, 1, 28, 28), dtype=np.float32)
    return x, rng.integers(0, 10, size=batch)


def convlab_fn(model, mode, x, y):
    """ConvLab's timed call: one Adam training step, or one eval forward pass."""
    if mode == "train":
        model.train()
        return convlab_trainer(model, x, y)
    model.eval()
    return lambda: model.forward(x)


def torch_fn(torch, net, mode, x, y):
    """PyTorch's timed call, the same work as convlab_fn."""
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    if mode == "train":
        net.train()
        optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)

        def step():
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(net(tx), ty).backward()
            optimizer.step()

        return step
    net.eval()

    def forward():
        with torch.no_grad():
            net(tx)

    return forward


def _calls_for(fn, seconds):
    """How many calls of fn() take about `seconds` (at least one)."""
    fn()  # warm-up: first-call allocations, BLAS threads
    start = time.perf_counter()
    fn()
    return max(1, round(seconds / max(time.perf_counter() - start, 1e-9)))


def time_cell(fns, batch, repeats, seconds, settle):
    """Images per second of every engine in fns, `repeats` interleaved rounds each."""
    calls = {name: _calls_for(fn, seconds) for name, fn in fns.items()}
    rates = {name: [] for name in fns}
    names = list(fns)
    for r in range(repeats):
        # Rotating order, so a slow phase of a shared machine hits both alike.
        for name in names[r % len(names):] + names[: r % len(names)]:
            # Let the other engine's spinning BLAS threads go to sleep first.
            time.sleep(settle)
            fns[name]()  # untimed: wakes this engine's own threads
            start = time.perf_counter()
            for _ in range(calls[name]):
                fns[name]()
            rates[name].append(calls[name] * batch / (time.perf_counter() - start))
    return rates


def one_image_latency(torch, spec, seed, runs):
    """Median ms of a one-image eval forward pass, per engine (torch may be None)."""
    model = build(spec, np.random.default_rng(seed)).eval()
    image = _data(1, seed)[0]  # (1, 1, 28, 28)
    result = {"convlab": median_ms(lambda: model.forward(image), runs, warm_up=1)}
    if torch is not None:
        net = torch_twin(torch, model).eval()
        timage = torch.from_numpy(image)

        def infer():
            with torch.no_grad():
                net(timage)

        result["torch"] = median_ms(infer, runs, warm_up=1)
    return result


def _status_bytes(field):
    """A memory figure of this process from /proc/self/status (VmRSS, VmHWM)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024  # given in kB
    raise OSError(f"no {field} in /proc/self/status")


def _reset_peak_rss():
    # Writing 5 to clear_refs resets VmHWM to the current RSS (Linux 4.0+); where
    # that is refused, the peak also counts the small warm-up step.
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def memory_child(case, engine, threads):
    """In a fresh process: bytes one batch-256 training step adds to peak RSS.

    Not getrusage's ru_maxrss: Linux carries it over from the parent process through
    exec, so it would report the benchmark's own size.
    """
    keep_freed_memory()  # as in every training program (see _malloc.py)
    model = build(CASES[case], np.random.default_rng(0))
    if engine == "torch":
        import torch

        torch.set_num_threads(threads)
        net = torch_twin(torch, model)

        def make(x, y):
            return torch_fn(torch, net, "train", x, y)
    else:
        def make(x, y):
            return convlab_fn(model, "train", x, y)
    # A one-image step first loads and initializes the libraries (BLAS buffers,
    # PyTorch's kernels) without raising the peak, so it is not counted.
    make(*_data(1, 1))()
    fn = make(*_data(MEMORY_BATCH, 1))
    _reset_peak_rss()
    before = _status_bytes("VmRSS")
    fn()
    result = {"rss_growth_bytes": max(_status_bytes("VmHWM") - before, 0)}
    if engine == "convlab":
        tracemalloc.start()
        fn()
        result["tracemalloc_peak_bytes"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    print(json.dumps(result))


def measure_memory(case, engines, threads):
    """memory_child's figures for each engine, each run in its own process."""
    out = {}
    for engine in engines:
        code = ("from convlab.bench.matrix import memory_child; "
                f"memory_child({case!r}, {engine!r}, {threads})")
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True,
                              text=True, check=False)
        if proc.returncode != 0:
            out[engine] = {"error": proc.stderr.strip().splitlines()[-1:]}
            continue
        out[engine] = json.loads(proc.stdout.strip().splitlines()[-1])
    return out


def run(args):
    """Run the matrix and return every figure as a JSON-able dict."""
    torch = None
    if not args.no_torch:
        try:
            import torch
        except ImportError:
            torch = None
    blas = blas_info()
    threads = blas[0]["num_threads"] if blas else os.cpu_count()
    if torch is not None:
        torch.set_num_threads(threads)
    cases = QUICK_CASES if args.quick else tuple(CASES)
    settings = QUICK_SETTINGS if args.quick else SETTINGS
    result = {
        "blas": blas, "threads": threads,
        "torch_version": None if torch is None else torch.__version__,
        "torch_skipped": None if torch is not None else (
            "left out (--no-torch)" if args.no_torch else "PyTorch is not installed"),
        "repeats": args.repeats, "seconds_per_block": args.seconds,
        "ratio": "ConvLab images/s / PyTorch images/s, median of per-repeat ratios "
                 "(above 1: ConvLab is faster)",
        "memory_method": f"batch-{MEMORY_BATCH} training step in a fresh process: "
                         "peak RSS growth for both engines, plus tracemalloc's peak "
                         "for ConvLab's NumPy arrays",
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
        "cases": {},
    }
    for case in cases:
        spec = CASES[case]
        entry = {"layers": [label for label, _ in
                            layer_shapes(spec)], "cells": {}}
        for mode, batch in settings:
            model = build(spec, np.random.default_rng(args.seed))
            x, y = _data(batch, args.seed + 1)
            fns = {"convlab": convlab_fn(model, mode, x, y)}
            if torch is not None:
                fns["torch"] = torch_fn(torch, torch_twin(torch, model), mode, x, y)
            rates = time_cell(fns, batch, args.repeats, args.seconds, args.settle)
            cell = {"images_per_s": {k: statistics.median(v)
                                     for k, v in rates.items()},
                    "images_per_s_repeats": rates}
            if torch is not None:
                cell["ratio"] = statistics.median(
                    c / t for c, t in zip(rates["convlab"], rates["torch"],
                                          strict=True))
                # The fastest repeats: on a busy shared machine, the closest to idle.
                cell["ratio_best"] = max(rates["convlab"]) / max(rates["torch"])
            entry["cells"][f"{mode} {batch}"] = cell
        entry["latency_ms"] = one_image_latency(torch, spec, args.seed,
                                                args.latency_runs)
        # --quick measures memory on its first network only: each engine needs
        # its own fresh process, the slowest part of a quick run.
        if not args.no_memory and (not args.quick or case == cases[0]):
            engines = ["convlab"] + ([] if torch is None else ["torch"])
            entry["memory"] = measure_memory(case, engines, threads)
        result["cases"][case] = entry
    return result


def format_report(res):
    """The matrix as a text table: one row per network, one column per setting."""
    lines = ["ConvLab / PyTorch CPU speed (images/s ratio, median of "
             f"{res['repeats']} interleaved repeats; above 1: ConvLab faster), "
             f"{res['threads']} threads each"]
    if res["torch_skipped"]:
        lines[0] = (f"ConvLab images/s ({res['threads']} threads); PyTorch "
                    f"{res['torch_skipped']}: skipped")
    if res["openblas_coretype"]:
        lines.append(f"warning: OPENBLAS_CORETYPE={res['openblas_coretype']} is set "
                     "(slower NumPy kernels); see README")
    first = next(iter(res["cases"].values()))
    columns = list(first["cells"])
    header = (f"{'network':18s}" + "".join(f"{c:>12s}" for c in columns)
              + f"{'1-img ms':>16s}{'peak MB (256)':>22s}")
    lines.append(header)
    for case, entry in res["cases"].items():
        row = f"{case:18s}"
        for c in columns:
            cell = entry["cells"][c]
            value = cell.get("ratio")
            row += (f"{value:11.2f}x" if value is not None
                    else f"{cell['images_per_s']['convlab']:12,.0f}")
        lat = entry["latency_ms"]
        row += f"{lat['convlab']:8.3f}/{lat.get('torch', float('nan')):<7.3f}"
        mem = entry.get("memory")
        if mem:
            def mb(engine, mem=mem):
                return mem.get(engine, {}).get("rss_growth_bytes", float("nan")) / 1e6

            row += f"{mb('convlab'):10.1f}/{mb('torch'):<6.1f}"
            if "tracemalloc_peak_bytes" in mem.get("convlab", {}):
                row += f" np {mem['convlab']['tracemalloc_peak_bytes'] / 1e6:.1f}"
        lines.append(row)
    if not res["torch_skipped"]:
        lines.append("")
        lines.append("the same from the fastest repeat of each engine (closest to an "
                     "idle machine when it is shared):")
        for case, entry in res["cases"].items():
            lines.append(f"{case:18s}" + "".join(
                f"{entry['cells'][c]['ratio_best']:11.2f}x" for c in columns))
    lines.append("1-img ms: one-image eval forward, ConvLab/PyTorch median; peak MB: "
                 "RSS growth of one batch-256 training step, ConvLab/PyTorch, and "
                 "NumPy's own peak (tracemalloc)")
    return "\n".join(lines)


def main(args):
    """Run the matrix for `bench engine --matrix` (args parsed there); exit code."""
    result = run(args)
    print(json.dumps(result, indent=2) if args.json else format_report(result))
    return 0
