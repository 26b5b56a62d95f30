"""`python -m convlab bench gui`: is the window responsive while the network trains?

Runs the real main window offscreen and, in alternating rounds, trains the same
network on the same data at full speed (1) inside the app, through TrainingSession's
worker thread, once with each of the Network tab's Forward and Backward views
shown (a backward pass for every redraw) and once with the Why tab (saliency and
occlusion of the drawing, recomputed as the weights change), and (2) the way the
command line does, a plain Trainer loop in this process with no GUI work. For each
view it records during the in-app rounds:

* timer_late_ms: how late a 10 ms GUI QTimer fires (p50, p95, max), i.e. how long the
  GUI thread could not react to the student;
* refresh_hz: how often the feature maps were redrawn (the controller's
  views_refreshed signal) per second;
* throughput_ratio: median in-app images/s over median command-line images/s.

It also times the Playground's kernel edits while training runs, on the digit
(kernel_edit_ms) and on a colour picture (colour_kernel_edit_ms).
Floors, for each view: p95 < 30 ms, max < 150 ms, refresh >= 10/s, ratio >= 0.7;
and kernel edit p95 < 16 ms, on the digit and in colour, when it was measured.
``--json`` prints one JSON object instead of the table.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

import numpy as np

from convlab.nn._malloc import keep_freed_memory

# What the window shows during a round: the Network tab's Forward or Backward pass,
# or the Why tab (saliency and occlusion for the drawing, recomputed as it trains).
VIEWS = ("forward", "backward", "why")
VIEW_FLOORS = {  # judged for each view, on result["views"][view]
    "timer p95 < 30 ms": lambda v: v["timer_late_ms"]["p95"] < 30.0,
    "timer max < 150 ms": lambda v: v["timer_late_ms"]["max"] < 150.0,
    "refresh >= 10/s": lambda v: v["refresh_hz"] >= 10.0,
    "throughput ratio >= 0.7": lambda v: v["throughput_ratio"] >= 0.7,
}
# A typed kernel weight shows in every view within one 60 Hz frame. Only judged
# when kernel edits were timed (not with --kernel-repeats 0).
KERNEL_FLOOR = "kernel edit p95 < 16 ms"
COLOUR_KERNEL_FLOOR = "kernel edit in colour p95 < 16 ms"
FLOORS = [f"{view}: {name}" for view in VIEWS for name in VIEW_FLOORS] + [
    KERNEL_FLOOR, COLOUR_KERNEL_FLOOR]
TIMER_MS = 10


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python -m convlab bench gui", description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--seconds", type=float, default=5.0,
                        help="length of each in-app and each command-line round")
    parser.add_argument("--rounds", type=int, default=3,
                        help="in-app / command-line round pairs (medians are reported)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--data", metavar="DIR",
                        help="MNIST folder (default: $CONVLAB_DATA or the download "
                             "cache; generated digits when there is none)")
    parser.add_argument("--kernel-repeats", type=int, default=100,
                        help="kernel edits to time while training (0: skip)")
    return parser.parse_args(argv)


def load_training_data(folder, n_generated=2000):
    """(name, x (N, 1, 28, 28) float32, y (N,)): real MNIST if found, else generated."""
    from convlab.data import sources

    try:
        dataset = sources.load_dataset(folder)
    except FileNotFoundError:
        from convlab.data.synthetic import generate_digits

        # A couple of thousand generated digits: speed does not depend on how many.
        x, y = generate_digits(n_generated, np.random.default_rng(0))
        return ("generated digits", np.asarray(x, np.float32)[:, None],  # (N,1,28,28)
                np.asarray(y, np.int64))
    return "MNIST", dataset.x_train, dataset.y_train


class GuiProbe:
    """Records, while enabled, how late a 10 ms GUI timer fires and how many redraws
    of the feature maps happen."""

    def __init__(self, views_refreshed):
        from PyQt5.QtCore import Qt, QTimer

        self.late_ms: list[float] = []
        self.refreshes = 0
        self.enabled = False
        self._last = None
        self._timer = QTimer()
        self._timer.setTimerType(Qt.PreciseTimer)
        self._timer.setInterval(TIMER_MS)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._timer.start()
        views_refreshed.connect(self._on_views_refreshed)

    def _on_timer_timeout(self) -> None:
        now = time.perf_counter()
        if self.enabled and self._last is not None:
            self.late_ms.append(max(0.0, (now - self._last) * 1000.0 - TIMER_MS))
        self._last = now

    def _on_views_refreshed(self) -> None:
        if self.enabled:
            self.refreshes += 1

    def stop(self) -> None:
        self._timer.stop()


def spin(seconds: float) -> None:
    """Run the Qt event loop for ``seconds``: the GUI thread does only GUI work."""
    from PyQt5.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec_()


def _trainer(model, x, y, batch_size):
    from convlab.train import TrainConfig, Trainer

    # Epochs enough never to end inside a round; no validation, so every round
    # measures training steps only.
    return Trainer(model, (x, y), None,
                   TrainConfig(epochs=10_000, batch_size=batch_size, seed=0))


def cli_round(base_model, x, y, batch_size, seconds, blas_threads=1) -> float:
    """Images/s of the command line's loop (a plain Trainer) for about ``seconds``.

    blas_threads=1 is the worker's own BLAS setting, so comparing with the app
    measures what the GUI costs; None leaves NumPy's default.
    """
    from threadpoolctl import threadpool_limits

    from convlab.lab.snapshots import clone_model

    trainer = _trainer(clone_model(base_model), x, y, batch_size)
    with threadpool_limits(limits=blas_threads, user_api="blas"):
        start = time.perf_counter()
        for _ in trainer.steps():
            if time.perf_counter() - start >= seconds:
                break
        return trainer.step * batch_size / (time.perf_counter() - start)


def app_round(session, probe, start_state, x, y, batch_size, seconds):
    """Images/s of training inside the app for about ``seconds``; the GUI probe
    records meanwhile. Returns (images/s, seconds measured, timer lateness list,
    redraw count) of this round.

    The window's own live model is trained, from ``start_state`` every round: only
    snapshots of the model the window shows are drawn, so a model of the bench's
    own would leave the feature maps still.
    """
    model = session.model
    model.load_state_dict(start_state)
    started = {}

    def make_trainer():
        started["trainer"] = _trainer(model, x, y, batch_size)
        started["time"] = time.perf_counter()
        return started["trainer"]

    session.start_trainer(make_trainer)
    ticks, refreshes = len(probe.late_ms), probe.refreshes
    probe.enabled = True
    spin(seconds)
    probe.enabled = False
    session.shutdown()
    elapsed = time.perf_counter() - started["time"]
    return (started["trainer"].step * batch_size / elapsed, elapsed,
            probe.late_ms[ticks:], probe.refreshes - refreshes)


def show_view(window, view):
    """Show one of VIEWS, as the student's clicks do."""
    if view == "why":
        window.show_tab("why")
        return
    window.show_tab("network")
    bar = window.network_view.backward_bar
    button = bar.backward_button if view == "backward" else bar.forward_button
    button.click()


def kernel_edit_round(window, session, start_state, x, y, batch_size, repeats):
    """The Playground's kernel-edit latencies while training runs: on the digit and
    on a colour picture, each {"median": ms, "p95": ms}."""
    from convlab.gui.playground.bench import (
        measure_colour_kernel_edit,
        measure_kernel_edit,
    )

    model = session.model
    model.load_state_dict(start_state)
    session.start_trainer(lambda: _trainer(model, x, y, batch_size))
    spin(0.3)  # let training get going first
    try:
        return (measure_kernel_edit(window, repeats),
                measure_colour_kernel_edit(window, repeats))
    finally:
        session.shutdown()


def run_bench(args) -> dict:
    """Build the window, run the rounds and return the results as a dict."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PyQt5.QtCore import QSettings

    with tempfile.TemporaryDirectory() as settings_dir:
        # The window's settings go to a throwaway folder: a benchmark must not
        # change the student's recent models or window layout.
        QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, settings_dir)
        return _measure(args)


def _measure(args) -> dict:
    from convlab.gui.app import create_window, demo_digit, make_application
    from convlab.lab.snapshots import clone_model

    app = make_application(["convlab-bench"])
    window = create_window(restore=False)
    window.settings.remember = False
    window.resize(1280, 800)
    window.show_tab("network")
    window.show()
    demo_digit(window.input_panel.canvas)
    controller = window.controller
    controller.refresh_now()
    app.processEvents()

    session = controller.session
    # The command-line rounds train copies of this; the in-app rounds the live
    # model itself, put back to these weights each round and at the end.
    base_model = clone_model(session.model)
    start_state = base_model.state_dict()
    data_name, x, y = load_training_data(args.data)
    probe = GuiProbe(controller.views_refreshed)
    cli_rates = []
    per_view = {view: {"rates": [], "seconds": 0.0, "late": [], "refreshes": 0}
                for view in VIEWS}
    try:
        for _ in range(args.rounds):
            # Alternate, so a change in machine load hits every side alike.
            cli_rates.append(cli_round(base_model, x, y, args.batch_size, args.seconds))
            for view in VIEWS:
                show_view(window, view)
                spin(0.05)  # the timer's next tick starts from an idle GUI
                rate, elapsed, late, refreshes = app_round(
                    session, probe, start_state, x, y, args.batch_size, args.seconds)
                record = per_view[view]
                record["rates"].append(rate)
                record["seconds"] += elapsed
                record["late"] += late
                record["refreshes"] += refreshes
        show_view(window, "forward")
        cli_default_blas = cli_round(base_model, x, y, args.batch_size, args.seconds,
                                     blas_threads=None)
        kernel_edit = (kernel_edit_round(window, session, start_state, x, y,
                                         args.batch_size, args.kernel_repeats)
                       if args.kernel_repeats > 0 else None)
    finally:
        probe.stop()
        controller.shutdown()
        # The window's model leaves the bench as it came: nothing to save on close.
        controller.model.load_state_dict(start_state)
        controller.view_model.load_state_dict(start_state)
        window.close()

    cli_median = float(np.median(cli_rates))
    result = {
        "views": {view: _view_result(record, cli_median)
                  for view, record in per_view.items()},
        "images_per_s": {"cli": cli_median, "cli_rounds": cli_rates,
                         "cli_default_blas_threads": cli_default_blas},
        "setup": {"data": data_name, "batch_size": args.batch_size,
                  "seconds": args.seconds, "rounds": args.rounds,
                  "blas_threads": 1,
                  "parameters": int(sum(p.data.size for p in base_model.parameters())),
                  "cpus": os.cpu_count()},
    }
    if kernel_edit is not None:
        result["kernel_edit_ms"], result["colour_kernel_edit_ms"] = kernel_edit
    result["floors"] = _floors(result)
    return result


def _view_result(record: dict, cli_median: float) -> dict:
    """One view's figures from its rounds' raw records."""
    late = np.array(record["late"] or [0.0])
    return {
        "timer_late_ms": {
            "p50": float(np.percentile(late, 50)),
            "p95": float(np.percentile(late, 95)),
            "max": float(late.max()),
            "ticks": len(record["late"]),
        },
        "refresh_hz": (record["refreshes"] / record["seconds"]
                       if record["seconds"] else 0.0),
        "throughput_ratio": float(np.median(record["rates"]) / cli_median),
        "images_per_s": float(np.median(record["rates"])),
        "app_rounds": record["rates"],
    }


def _floors(result: dict) -> dict:
    """{floor name: met?} for every floor the run measured."""
    floors = {f"{view}: {name}": bool(check(result["views"][view]))
              for view in VIEWS for name, check in VIEW_FLOORS.items()}
    if "kernel_edit_ms" in result:
        floors[KERNEL_FLOOR] = result["kernel_edit_ms"]["p95"] < 16.0
        floors[COLOUR_KERNEL_FLOOR] = result["colour_kernel_edit_ms"]["p95"] < 16.0
    return floors


def format_table(result: dict) -> str:
    ips = result["images_per_s"]
    lines = []
    for view, figures in result["views"].items():
        late = figures["timer_late_ms"]
        lines += [
            f"{view.capitalize()} view shown:",
            f"  GUI timer lateness (10 ms timer, {late['ticks']} ticks): "
            f"p50 {late['p50']:.1f} ms, p95 {late['p95']:.1f} ms, "
            f"max {late['max']:.1f} ms",
            f"  feature-map refreshes: {figures['refresh_hz']:.1f} per second",
            f"  training: {figures['images_per_s']:.0f} images/s in the app, "
            f"{ips['cli']:.0f} images/s command line, ratio "
            f"{figures['throughput_ratio']:.2f} (both 1 BLAS thread)",
        ]
    lines.append(f"command line with NumPy's default BLAS threads: "
                 f"{ips['cli_default_blas_threads']:.0f} images/s")
    if "kernel_edit_ms" in result:
        k = result["kernel_edit_ms"]
        lines.append(f"kernel edit while training: median {k['median']:.1f} ms, "
                     f"p95 {k['p95']:.1f} ms")
        k = result["colour_kernel_edit_ms"]
        lines.append(f"kernel edit in colour while training: median "
                     f"{k['median']:.1f} ms, p95 {k['p95']:.1f} ms")
    setup = result["setup"]
    lines.append(f"({setup['data']}, batch {setup['batch_size']}, {setup['rounds']} "
                 f"x {setup['seconds']:g} s rounds each side, {setup['cpus']} CPUs)")
    lines += [f"  {'ok  ' if ok else 'MISS'} {name}"
              for name, ok in result["floors"].items()]
    return "\n".join(lines)


def main(argv=None) -> int:
    """Run the benchmark and print its report; returns the exit code."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    keep_freed_memory()  # training reuses its freed arrays (see _malloc.py)
    result = run_bench(args)
    print(json.dumps(result) if args.json else format_table(result))
    return 0
