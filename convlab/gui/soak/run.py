"""`python -m convlab bench soak`: a seeded random student pokes the real window.

Builds the window, warms it up with every action once, lets the student act at
random until the time is up, closes the window while a run trains and reports
every floor (see convlab.gui.soak).
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import suppress
from pathlib import Path

import numpy as np

from convlab.gui.soak.record import (
    FLOORS,
    DialogAnswers,
    Recorder,
    SoakFrozen,
    Watchdog,
    recording,
    rss_mb,
    spin,
)
from convlab.gui.soak.student import WEIGHTS, Student

STALL_LISTED_MS = 150.0  # stalls this long are listed with their action
RUN_WAIT_S = 30.0  # how long the closing run may take to report its first weights
DATA_TRAIN, DATA_TEST = 2000, 500  # generated digits when there is no MNIST


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python -m convlab bench soak", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=480.0,
                        help="length of the soak, warm-up included (default 480)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the action sequence (the same seed replays it)")
    parser.add_argument("--data", metavar="DIR",
                        help="MNIST folder (default: $CONVLAB_DATA or the download "
                             "cache; a few generated digits when there is none)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    return parser.parse_args(argv)


def load_soak_data(folder):
    """(dataset, folder or None): MNIST if found, else a few generated digits."""
    from convlab.data import sources

    try:
        found = sources.find_mnist(folder)
    except sources.DataNotFoundError:
        if folder is not None:
            raise
    else:
        return sources.load_dataset(found), found
    from convlab.data.synthetic import generate_digits

    # Drawing digits is slow; a couple of thousand are plenty to train on and test.
    x, y = generate_digits(DATA_TRAIN + DATA_TEST, np.random.default_rng(0))
    x = np.asarray(x, np.float32)[:, None]  # (N, 28, 28) -> (N, 1, 28, 28)
    y = np.asarray(y, np.int64)
    dataset = sources.Dataset(
        f"generated digits ({DATA_TRAIN} train, {DATA_TEST} test)",
        x[:DATA_TRAIN], y[:DATA_TRAIN], x[DATA_TRAIN:], y[DATA_TRAIN:])
    return dataset, None


def check_invariants(window, recorder):
    """Promises the window makes whatever was done to it."""
    controller = window.controller
    probs = window.prediction_panel.probabilities()
    if probs is not None and not (np.all(np.isfinite(probs))
                                  and math.isclose(float(np.sum(probs)), 1.0,
                                                   abs_tol=1e-3)):
        recorder.violation("the probabilities on show are not finite or do not sum "
                           "to 1", repr(probs))
    curves = window.training_panel.curves
    for plot in (curves.loss_plot, curves.acc_plot):
        for curve in plot.getPlotItem().listDataItems():
            x = curve.xData
            back = np.flatnonzero(np.diff(x) <= 0) if x is not None else []
            if len(back):
                i = int(back[0])
                recorder.violation(
                    "a learning curve's steps go backwards (x not increasing)",
                    f"{curve.name()}: {len(x)} points, step {x[i]:g} then "
                    f"{x[i + 1]:g} at point {i + 1}")
    if controller.session.state == "idle" and controller.model is not None:
        live = controller.model.parameters()
        shown = controller.view_model.parameters()
        same = len(live) == len(shown) and all(
            p.data.shape == q.data.shape and np.array_equal(p.data, q.data)
            for p, q in zip(live, shown, strict=False))
        if not same:
            recorder.violation(
                "with no run going, the GUI's copy of the network differs from the "
                "live network (the window shows other weights than it trains/saves)")


def plan(seed, count, names, weights):
    """The seeded sequence of count action names, drawn with the given weights."""
    rng = np.random.default_rng(seed)
    p = np.array(weights, float) / sum(weights)
    return [str(name) for name in rng.choice(names, size=count, p=p)]


def run_soak(seconds=480.0, seed=0, data=None):
    """Build the window, soak it for about `seconds` and return the results."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PyQt5.QtCore import QSettings

    with tempfile.TemporaryDirectory() as folder:
        # Settings and My digits go to a throwaway folder: the soak must not change
        # the student's recent models, window layout or handwriting collection.
        QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, folder)
        old_data_home = os.environ.get("XDG_DATA_HOME")
        os.environ["XDG_DATA_HOME"] = str(Path(folder) / "data")
        try:
            return _soak(seconds, seed, data, Path(folder))
        finally:
            if old_data_home is None:
                os.environ.pop("XDG_DATA_HOME", None)
            else:
                os.environ["XDG_DATA_HOME"] = old_data_home


def _soak(seconds, seed, data, folder):
    from convlab.gui.app import create_window, make_application
    from convlab.gui.bench import GuiProbe

    start = time.monotonic()
    recorder = Recorder()
    dataset, data_folder = load_soak_data(data)
    answers = DialogAnswers(recorder, folder, data_folder, seed)
    # Kept in a name: a QApplication nobody refers to is destroyed at once.
    app = make_application(["convlab-soak"])
    watchdog = Watchdog(recorder)
    threads_before = set(threading.enumerate())
    with recording(recorder, answers) as started:
        window = create_window(restore=False)
        window.remember_state = False
        window.resize(1280, 800)
        window.show()
        window.controller.set_dataset(dataset)
        student = Student(window, recorder)
        probe = GuiProbe(window.controller.views_refreshed)
        names = list(WEIGHTS)
        warm_up = [str(n) for n in np.random.default_rng(seed).permutation(names)]
        random_phase = plan(seed, 100_000, names, list(WEIGHTS.values()))
        stalls, rss_by_action = [], Counter()
        memory = {"start_mb": rss_mb()}
        actions = Counter()
        deadline = start + seconds
        index = 0
        objects_after_warm_up = census(window)
        probe.enabled = True
        for name in warm_up + random_phase:
            if index == len(warm_up):
                probe.enabled = False
                gc.collect()
                memory["after_warm_up_mb"] = rss_mb()
                memory["warm_up_actions"] = index
                objects_after_warm_up = census(window)
                probe.enabled = True
            elif (index > len(warm_up) and time.monotonic() >= deadline) \
                    or watchdog.freeze is not None:
                break
            before_ticks, before_rss = len(probe.late_ms), rss_mb()
            # After a freeze the Watchdog has the stack; the soak stops and reports.
            with suppress(SoakFrozen):
                act(student, name, index, seed)
            actions[name] += 1
            rss_by_action[name] += rss_mb() - before_rss
            late = probe.late_ms[before_ticks:]
            if late and max(late) >= STALL_LISTED_MS:
                stalls.append({"ms": round(max(late), 1), "action": recorder.log[-1]})
            index += 1
        memory["peak_mb"] = max(memory["start_mb"], rss_mb())
        # Qt objects that piled up: a finished task or a closed view nobody deletes.
        memory["qobjects_added"] = dict(
            (census(window) - objects_after_warm_up).most_common(8))
        close = close_while_training(window, student, recorder, started,
                                     threads_before)
        probe.stop()
        probe.enabled = False
        watchdog.stop()
        gc.collect()
        app.processEvents()
        memory["end_mb"] = rss_mb()
    late = np.array(probe.late_ms or [0.0])
    memory["growth_mb"] = memory["end_mb"] - memory.get("after_warm_up_mb",
                                                        memory["start_mb"])
    # Background work (evaluation, training) lands on whichever action was going.
    memory["growth_by_action_mb"] = {
        str(k): round(v, 1) for k, v in rss_by_action.most_common(5)}
    result = {
        "seed": seed,
        "seconds": round(time.monotonic() - start, 1),
        "data": dataset.name.split(" from ")[0],
        "actions": {"count": index, "by_name": dict(actions), "log": recorder.log},
        "exceptions": {"count": sum(e["count"] for e in recorder.exceptions.values()),
                       "distinct": recorder.exceptions},
        "violations": recorder.violations,
        "qt_warnings": {"count": sum(recorder.qt_messages.values()),
                        "messages": dict(recorder.qt_messages)},
        "dialogs": {"count": sum(recorder.dialogs.values()),
                    "by_kind": {" | ".join(k): n for k, n in recorder.dialogs.items()},
                    "texts": recorder.dialog_texts},
        "stalls": {"max_ms": float(late.max()),
                   "p95_ms": float(np.percentile(late, 95)),
                   "ticks": len(probe.late_ms),
                   "worst": sorted(stalls, key=lambda s: -s["ms"])[:10]},
        "memory": {k: round(v, 1) if isinstance(v, float) else v
                   for k, v in memory.items()},
        "close": close,
        "freeze": watchdog.freeze,
        "python_warnings": dict(recorder.warnings),
    }
    result["floors"] = {name: bool(check(result)) for name, check in FLOORS.items()}
    return result


def census(window):
    """How many QObjects of each class the window holds, as a Counter."""
    from PyQt5.QtCore import QObject

    return Counter(type(o).__name__ for o in window.findChildren(QObject))


def act(student, name, index, seed):
    """Do action number index, let the student think, then check the invariants."""
    recorder = student.recorder
    rng = np.random.default_rng([seed, index])  # this action's own numbers
    recorder.log.append(f"{index} {name}")
    try:
        what = getattr(student, name)(rng)
    except SoakFrozen:
        raise
    except Exception:
        recorder.exception(*sys.exc_info(), "the action itself")
        what = "raised"
    # The run's state after the action tells what a click could do.
    state = student.window.controller.session.state
    recorder.log[-1] = f"{index} {name} [{state}]: {what}"
    spin(float(np.clip(rng.exponential(0.12), 0.02, 0.6)))  # thinking
    check_invariants(student.window, recorder)


def close_while_training(window, student, recorder, started, threads_before):
    """Make sure a run trains, then close the window; return how that went."""
    recorder.log.append("close: start a run, then window.close()")
    session = window.controller.session
    panel = window.training_panel
    got_weights = []
    session.weights_updated.connect(lambda _: got_weights.append(True))
    # Earlier actions may have left a learning rate or weights that make the loss
    # explode and the run pause itself. Start afresh, as a student would: stop,
    # new random weights (the changes discarded), a calm learning rate, Start.
    student._tab(1)
    if session.is_running():
        panel.stop.click()
        deadline = time.monotonic() + RUN_WAIT_S
        while session.is_running() and time.monotonic() < deadline:
            spin(0.05)
    preset = panel.arch_editor.preset
    student._choose(preset, preset.findData("sample"))
    from convlab.gui.common import dialogs

    ask = dialogs.ask_save_changes
    dialogs.ask_save_changes = lambda *_: "discard"
    try:
        panel.reinit.click()
    finally:
        dialogs.ask_save_changes = ask
    student._type(panel.settings.lr, "0.001")
    panel.settings.epochs.setValue(panel.settings.epochs.maximum())
    panel.start.click()
    deadline = time.monotonic() + RUN_WAIT_S
    while not got_weights and time.monotonic() < deadline:
        spin(0.05)
    training = session.state == "running" and bool(got_weights)
    # Closing asks about the weights the run changed; the student discards them.
    dialogs.ask_save_changes = lambda *_: "discard"
    t0 = time.perf_counter()
    try:
        window.close()
    except Exception:
        recorder.exception(*sys.exc_info(), "window.close()")
    finally:
        dialogs.ask_save_changes = ask
    close_s = time.perf_counter() - t0
    running = []
    for ref in started:
        thread = ref()
        try:
            if thread is not None and thread.isRunning():
                running.append(thread)
        except RuntimeError:  # the C++ object is gone, so its thread has ended
            pass
    leftover = [t for t in set(threading.enumerate()) - threads_before
                if not isinstance(t, threading._DummyThread) and t.is_alive()]
    for thread in running:
        thread.wait(5000)  # join before reporting, so the process does not abort
    return {
        "seconds": round(close_s, 3),
        "was_training": training,
        "qthreads_running": len(running),
        "threads_left": [t.name for t in leftover],
        "clean": training and not running and not leftover,
    }


def format_table(result):
    """A readable report: floors first, then every incident with its actions."""
    lines = [f"soak: seed {result['seed']}, {result['seconds']:g} s, "
             f"{result['actions']['count']} actions on {result['data']}"]
    lines += [f"  {'ok  ' if ok else 'MISS'} {name}"
              for name, ok in result["floors"].items()]
    s, m, c = result["stalls"], result["memory"], result["close"]
    lines.append(f"GUI timer lateness: max {s['max_ms']:.0f} ms, p95 "
                 f"{s['p95_ms']:.1f} ms ({s['ticks']} ticks)")
    lines.append(f"RSS: {m['start_mb']:.0f} MB at start, "
                 f"{m.get('after_warm_up_mb', 0):.0f} after warm-up, {m['end_mb']:.0f} "
                 f"at the end (growth {m['growth_mb']:+.0f} MB; by action "
                 f"{m['growth_by_action_mb']})")
    lines.append(f"Qt objects added after the warm-up: {m['qobjects_added']}")
    lines.append(f"close while training: {c['seconds']:.2f} s, was training "
                 f"{c['was_training']}, QThreads left {c['qthreads_running']}, "
                 f"threads left {c['threads_left']}")
    lines.append(f"Qt warnings: {result['qt_warnings']['count']}; dialogs: "
                 f"{result['dialogs']['count']}")
    for text, n in result["qt_warnings"]["messages"].items():
        lines.append(f"  {n} x {text}")
    for what, n in result["dialogs"]["by_kind"].items():
        lines.append(f"  {n} x {what}")
    for title, incidents in (("exceptions", result["exceptions"]["distinct"]),
                             ("broken invariants", result["violations"])):
        lines.append(f"{title}: {len(incidents)} distinct")
        for key, incident in incidents.items():
            lines.append(f"--- {incident['count']} x {key}")
            lines.append(f"    during: {incident['action']}")
            if incident.get("message"):
                lines.append(f"    message: {incident['message']}")
            if incident.get("details"):
                lines.append(f"    details: {incident['details']}")
            lines.append("    actions before: "
                         + " | ".join(incident["recent_actions"][:-1]))
            if incident.get("stack"):
                lines.append("    " + incident["stack"].rstrip().replace(
                    "\n", "\n    "))
    if result["freeze"] is not None:
        f = result["freeze"]
        lines.append(f"FROZEN: the GUI thread did not answer for {f['seconds']} s "
                     f"during {f['action']}")
        lines.append("    actions before: " + " | ".join(f["recent_actions"][:-1]))
        lines.append("    GUI thread stack:\n    "
                     + f["stack"].rstrip().replace("\n", "\n    "))
    lines.append(f"Python warnings: {sum(result['python_warnings'].values())}")
    for text, n in result["python_warnings"].items():
        lines.append(f"  {n} x {text}")
    for stall in s["worst"]:
        lines.append(f"stall {stall['ms']:.0f} ms after: {stall['action']}")
    return "\n".join(lines)


def main(argv=None):
    """Run the soak and print its report; returns 0 when every floor is met."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    result = run_soak(args.seconds, args.seed, args.data)
    print(json.dumps(result) if args.json else format_table(result))
    return 0 if all(result["floors"].values()) else 1
