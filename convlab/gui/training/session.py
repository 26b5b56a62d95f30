"""Training from the GUI: owns the QThread and TrainingWorker of one run at a time.

The controller hosts it (a few lines)::

    session = TrainingSession(panel, parent=controller)   # wires the TrainingPanel
    session.set_model(model)        # whenever the current model changes (a run of
                                    # the old one stops, without waiting for it)
    session.set_dataset(ds)         # a loaded convlab.data.sources.Dataset, or None
    session.set_probe(x)            # current input (28, 28) for live activations
    session.weights_updated.connect(...)   # WeightSnapshot, <= 20/s while training
    session.model_changed.connect(...)     # a new model (architecture / New weights /
                                           # a resumed run)
    session.offer_unfinished_run()         # at start-up: a run the app was closed in
    controller.shutdown: session.shutdown()  # stop and join the worker thread

Signals:
    weights_updated(WeightSnapshot)   copies of the live weights (+ probe activations);
                                      ``snapshot.apply_to(view_model)`` shows them
    model_changed(object, str)        the session built or loaded a new nn.Sequential,
                                      and a note on its weights
    state_changed(str)                "idle" | "running" | "paused" | "stopping"
    run_started()                     a new run begins (the panel starts new curves)
    running_changed(bool)             a run started (True) or ended (False)
    progress(TrainingProgress), epoch_finished(EpochProgress)
    loading(int, int)                 (done, total) generated digits drawn before a run
    failed(str)                       the panel shows the dialog; just keep going
    message(str)                      a short note for the status bar (the Training
                                      tab shows the whole message)
    warning(str)                      a problem the run survives (the panel shows it)
    finished()                        the thread has ended; the model is the GUI's again
                                      (also after a run whose model was replaced)

An exploded loss (train.Alarm "exploded") pauses the run: the panel explains it and
offers the run's restore points, which the training thread puts back (through the
worker's submit); a smaller learning rate and Resume carry on. A stalled run gets a
warning line and goes on.

While a run is going, the worker thread is the only one that writes the live model
or calls its forward() (layers keep caches). The GUI draws from a copy of it
(``clone_model``) refreshed with ``snapshot.apply_to``; edits to the live model go
through ``submit(fn)``, which runs ``fn(model)`` between two steps.

With a ``checkpoint_dir``, a run started from the panel is saved there by its worker
(CHECKPOINT_FILE, plus RUN_FILE saying which data it trains on) until it finishes.
A run the app was closed in is offered at the next start: resumed from its step
(Trainer.from_checkpoint, on the same data and train/validation split) or discarded.
Only one unfinished run is kept: starting another replaces it.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PyQt5.QtCore import QObject, Qt, QThread, pyqtSignal, pyqtSlot

from convlab import nn
from convlab.data import sources
from convlab.data.batching import train_val_split
from convlab.fileio import write_text_atomic
from convlab.gui.training.panel import BUILTIN_SOURCE, LOADED_SOURCE, TrainingRequest
from convlab.gui.training.worker import TrainingWorker, take_snapshot
from convlab.nn.architectures import ArchSpec, build
from convlab.train import TrainConfig, Trainer, resume_config

VAL_FRACTION = 0.1
CHECKPOINT_FILE = "unfinished_run.npz"
RUN_FILE = "unfinished_run.json"  # the data choice of the run in CHECKPOINT_FILE
# What the buttons after an exploded loss say, and what they put back.
RESTORE_BUTTONS = {
    "before_spike": ("Restore weights from before the spike", "from before the spike"),
    "start": ("Restore weights from the start of the run",
              "from the start of the run"),
}


def clone_model(model):
    """An independent copy of ``model`` (same architecture and weights) for the GUI."""
    clone = nn.from_config(model.get_config())
    clone.load_state_dict(model.state_dict())
    return clone


class TrainingSession(QObject):
    """Start, pause, step, stop and join training runs; relay their reports."""

    weights_updated = pyqtSignal(object)
    model_changed = pyqtSignal(object, str)
    state_changed = pyqtSignal(str)
    run_started = pyqtSignal()
    running_changed = pyqtSignal(bool)
    progress = pyqtSignal(object)
    epoch_finished = pyqtSignal(object)
    loading = pyqtSignal(int, int)
    failed = pyqtSignal(str)
    warning = pyqtSignal(str)
    message = pyqtSignal(str)
    finished = pyqtSignal()

    def __init__(self, panel=None, parent=None, seed: int | None = None,
                 checkpoint_dir=None):
        super().__init__(parent)
        self.model = None
        self._checkpoint_dir = None if checkpoint_dir is None else Path(checkpoint_dir)
        self._unfinished = None             # (nn.Checkpoint, run info) on offer
        self._dataset: sources.Dataset | None = None
        self._probe = None
        self._rng = np.random.default_rng(seed)
        self._thread: QThread | None = None
        self._worker: TrainingWorker | None = None
        self._run_ids = itertools.count(1)
        self._run_id: int | None = None     # the current run's; None when idle
        self._panel = None
        self._after_run: list[Callable] = []  # edits sent while the run was stopping
        # Asked before New random weights replaces the model; False keeps it.
        self.confirm_replace: Callable[[], bool] = lambda: True
        self.state = "idle"
        if panel is not None:
            self.bind_panel(panel)

    def bind_panel(self, panel) -> None:
        """Connect a TrainingPanel's intents to this session and its reports back."""
        panel.start_requested.connect(self.start)
        panel.step_requested.connect(self._on_panel_step_requested)
        panel.pause_requested.connect(self.pause)
        panel.resume_requested.connect(self.resume)
        panel.stop_requested.connect(self.stop)
        panel.lr_changed.connect(self.set_lr)
        panel.reinit_requested.connect(self.new_random_weights)
        self.state_changed.connect(panel.set_state)
        self.run_started.connect(panel.new_run)
        self.progress.connect(panel.add_progress)
        self.epoch_finished.connect(panel.add_epoch)
        self.loading.connect(panel.show_loading)
        self.failed.connect(panel.show_failure)
        self.warning.connect(
            lambda text: panel.show_notice("warning", text))
        self._panel = panel

    @property
    def trainer(self) -> Trainer | None:
        """The running Trainer (None before its data is loaded or when idle)."""
        return None if self._worker is None else self._worker.trainer

    def is_running(self) -> bool:
        return self._thread is not None

    @property
    def checkpoint_path(self) -> Path | None:
        """Where a run in progress is saved (None: runs are not saved)."""
        return None if self._checkpoint_dir is None else \
            self._checkpoint_dir / CHECKPOINT_FILE

    def set_model(self, model) -> None:
        """The model the next run trains. A run of another model is stopped without
        waiting for it (see _leave_run), so the window shows the new one at once."""
        if model is not self.model:
            self._leave_run()
        self.model = model

    def _leave_run(self) -> None:
        """Stop the run before its model is replaced, returning at once.

        Its thread ends after its current step and only ever writes the old model;
        until then the state is "stopping" (no new run starts) and edits sent with
        submit wait for the thread's end, as for any stopping run, and then go to
        the new model. Edits still waiting for the old model are dropped.
        """
        if self._worker is not None:
            self._after_run.clear()
            self.stop()

    def set_dataset(self, dataset: sources.Dataset | None) -> None:
        """A dataset the window loaded; the panel offers it as a data choice."""
        self._dataset = dataset
        if self._panel is not None:
            self._panel.set_loaded_dataset(None if dataset is None else dataset.name)

    def set_probe(self, x) -> None:
        """The input whose activations snapshots carry: (28, 28) array or None."""
        self._probe = x
        if self._worker is not None:
            self._worker.set_probe(x)

    def new_random_weights(self, arch: ArchSpec) -> None:
        """Replace the model by ``arch`` with fresh random weights, unless
        ``confirm_replace()`` says no (the window offers to save trained ones)."""
        if not self.confirm_replace():
            return
        self._leave_run()
        self.model = build(arch, self._rng)
        self.model_changed.emit(self.model, "untrained weights")

    def start(self, request: TrainingRequest, paused: bool = False) -> None:
        """Begin a run in a new thread; no-op while one is going."""
        if self._thread is not None:
            return
        self._ensure_model(request.arch)
        config = TrainConfig(
            epochs=request.epochs, batch_size=request.batch_size, lr=request.lr,
            optimizer=request.optimizer, augment=request.augment,
            val_fraction=VAL_FRACTION,
            seed=int(self._rng.integers(2**31)),
        )
        model = self.model
        load = self._loader(request.data_source)

        def prepare() -> Trainer:
            x_tr, y_tr, x_val, y_val, rng = self._split(load, config)
            return Trainer(model, (x_tr, y_tr), (x_val, y_val), config, rng=rng)

        self._launch(prepare, paused, self._new_checkpoint(request.data_source))

    def _split(self, load, config: TrainConfig):
        """Load the data, hold out validation data; the rng then drives training."""
        rng = np.random.default_rng(config.seed)
        # self._worker is set before the thread starts, so it is there already.
        x, y = load(self._worker.report_loading)
        return *train_val_split(x, y, config.val_fraction, rng), rng

    def _new_checkpoint(self, data_source) -> Path | None:
        """Replace any unfinished run by the one starting now; where to save it."""
        path = self.checkpoint_path
        if path is None:
            return None
        self.discard_unfinished_run()
        info = {"data_source": data_source,
                "data_name": self._dataset.name if data_source == LOADED_SOURCE
                and self._dataset is not None else None}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_text_atomic(path.with_name(RUN_FILE), json.dumps(info))
        except OSError as exc:
            self.warning.emit(
                f"This run will not be saved ({exc}), so closing the program "
                f"loses it; check that the folder {path.parent} can be written.")
            return None
        return path

    def _ensure_model(self, arch: ArchSpec) -> None:
        """Keep the current model if it already is ``arch``, else build one."""
        candidate = build(arch, self._rng)
        if self.model is None or self.model.get_config() != candidate.get_config():
            self.model = candidate
            self.model_changed.emit(self.model, "untrained weights")

    def _loader(self, source) -> Callable:
        """A function that returns (x_train, y_train) for a data choice."""
        if source == LOADED_SOURCE and self._dataset is not None:
            dataset = self._dataset
            return lambda progress: (dataset.x_train, dataset.y_train)

        def load(progress):
            dataset = sources.load_dataset(
                sources.BUILTIN if source == BUILTIN_SOURCE else source, progress)
            return dataset.x_train, dataset.y_train

        return load

    def start_trainer(self, trainer_factory: Callable[[], Trainer]) -> None:
        """Run a Trainer the caller builds (the bench and tests use this)."""
        if self._thread is None:
            self._launch(trainer_factory, paused=False)

    def _launch(self, prepare: Callable[[], Trainer], paused: bool,
                checkpoint: Path | None = None) -> None:
        thread = QThread(self)
        self._run_id = next(self._run_ids)
        worker = TrainingWorker(self.model, prepare, run_id=self._run_id,
                                checkpoint=checkpoint)
        worker.set_probe(self._probe)
        if paused:
            worker.pause()
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        # Direct: QThread.quit is thread-safe, and a queued call would wait for the
        # GUI thread, which may itself be blocked in shutdown()'s wait().
        worker.finished.connect(thread.quit, Qt.DirectConnection)
        worker.finished.connect(worker.deleteLater)
        # thread.deleteLater comes in _end_run, after a wait(): see there why.
        thread.finished.connect(self._on_thread_finished)
        worker.progress.connect(self._on_worker_progress)
        worker.epoch_finished.connect(self._on_worker_epoch_finished)
        worker.snapshot_ready.connect(self.weights_updated)
        worker.loading.connect(self.loading)
        worker.failed.connect(self.failed)
        worker.warning.connect(self.warning)
        worker.alarm.connect(self._on_worker_alarm)
        self._thread, self._worker = thread, worker
        if self._panel is not None:
            self._panel.hide_notice()  # about the run before, or the offer it replaced
        self.run_started.emit()
        thread.start()
        self._set_state("paused" if paused else "running")
        self.running_changed.emit(True)

    def pause(self) -> None:
        if self._worker is not None and self.state == "running":
            self._worker.pause()
            self._set_state("paused")

    def resume(self) -> None:
        if self._worker is not None and self.state == "paused":
            self._worker.resume()
            self._set_state("running")

    def stop(self) -> None:
        """Ask the run to end after its current step (returns at once)."""
        if self._worker is not None and self.state != "stopping":
            self._worker.stop()
            self._set_state("stopping")

    def step_once(self) -> None:
        """Train exactly one batch, then stay paused."""
        if self._worker is not None and self.state in ("running", "paused"):
            self._worker.step_once()
            self._set_state("paused")

    def set_lr(self, lr: float) -> None:
        """A new learning rate; a running trainer uses it from its next step."""
        if self._worker is not None:
            self._worker.set_lr(lr)

    def submit(self, fn: Callable) -> None:
        """Apply ``fn(model)`` to the live model: between steps while a run is going,
        once its thread has ended while it is stopping, at once (in this thread)
        otherwise."""
        if self._worker is not None and self.state != "stopping":
            self._worker.submit(fn)
        elif self._worker is not None:
            # The worker takes no more commands, but its last step may still be
            # writing the weights: wait for the thread, so one thread writes them.
            self._after_run.append(fn)
        elif self.model is not None:
            fn(self.model)

    def shutdown(self) -> None:
        """Stop a run and wait for its thread to end (window closing)."""
        thread, worker = self._thread, self._worker
        if thread is None:
            return
        worker.stop()
        # Waiting without a limit is deliberate: a step or a data load ends in
        # seconds, and Qt aborts if a QThread object dies while its thread runs.
        thread.wait()
        self._end_run()

    def _on_panel_step_requested(self, request: TrainingRequest) -> None:
        if self._thread is None:
            self.start(request, paused=True)
        self.step_once()

    # Reports wait in the event queue. Those of a run that shutdown() has already
    # ended arrive after it, possibly once the next run has begun its curves, whose
    # steps count from 1 again: only the current run's get through.

    @pyqtSlot(object)
    def _on_worker_progress(self, progress) -> None:
        if progress.run == self._run_id:
            self.progress.emit(progress)

    @pyqtSlot(object)
    def _on_worker_epoch_finished(self, epoch) -> None:
        if epoch.run == self._run_id:
            self.epoch_finished.emit(epoch)

    @pyqtSlot(object)
    def _on_worker_alarm(self, report) -> None:
        if report.run != self._run_id:
            return
        if report.kind != "exploded":
            self.warning.emit(report.message)
            self.message.emit("Training goes on, but the network is not learning: "
                              "see the Training tab.")
            return
        if self.state == "running":
            self._set_state("paused")   # the worker has paused the trainer already
        self.message.emit(f"Training paused: the loss exploded at step {report.step} "
                          "(see the Training tab).")
        if self._panel is None:
            return
        trainer = self.trainer
        self._panel.show_notice(
            "error",
            report.message + "\n\nTraining is paused. You can restore the weights, "
            "set a smaller learning rate and press Resume, or press Stop.",
            [(RESTORE_BUTTONS[point][0],
              lambda point=point: self.restore_weights(trainer, point))
             for point in report.restore_points])

    def restore_weights(self, trainer: Trainer, point: str) -> None:
        """Put back the weights ``trainer`` saved at ``point`` (see Trainer.restore):
        in the training thread while its run goes on, at once after it ended."""
        what = RESTORE_BUTTONS[point][1]
        if trainer.model is not self.model:
            self._notify("warning", "The network of that run has been replaced, so "
                         "there is nothing to restore.")
            return
        if self.state == "stopping":
            self._notify("warning", "The run is stopping; restore the weights once "
                         "it has stopped.")
            return
        if self._worker is not None:
            # The worker shows the restored weights with a snapshot once done.
            self._worker.submit(lambda model: trainer.restore(point))
        else:
            try:
                trainer.restore(point)
            except ValueError as exc:
                self._notify("error", f"Could not restore the weights: {exc}")
                return
            self.weights_updated.emit(take_snapshot(self.model, trainer.step, None))
        self._notify("info", f"The weights {what} were restored. Choose a smaller "
                     "learning rate and press Resume, or press Stop.")

    def _notify(self, kind: str, text: str) -> None:
        if self._panel is not None:
            self._panel.show_notice(kind, text)

    @pyqtSlot()
    def _on_thread_finished(self) -> None:
        thread = self._thread
        # The "finished" of a thread that shutdown() already joined can arrive after
        # the next run has started; that run's thread is still going: ignore it.
        if thread is None or not thread.isFinished():
            return
        self._end_run()

    def _end_run(self) -> None:
        thread = self._thread
        self._thread = self._worker = self._run_id = None
        # "finished" is emitted while the thread is still winding down (it deletes
        # the worker, which needs Python's GIL). Destroying the QThread then makes Qt
        # wait inside its destructor while this thread holds the GIL: a deadlock.
        # wait() lets go of the GIL, so only after it is deleting safe.
        thread.wait()
        thread.deleteLater()
        path = self.checkpoint_path
        if path is not None and not path.exists():
            # Finished, or ended before its first save: nothing is left to resume.
            path.with_name(RUN_FILE).unlink(missing_ok=True)
        self._set_state("idle")
        pending, self._after_run = self._after_run, []
        for fn in pending:
            try:
                fn(self.model)
            except Exception as exc:  # as the worker reports a failed command
                self.failed.emit(f"A change to the live model failed: {exc}")
        self.running_changed.emit(False)
        self.finished.emit()

    def has_unfinished_run(self) -> bool:
        """True when a saved run is waiting to be resumed or discarded."""
        return self._unfinished is not None

    def offer_unfinished_run(self) -> None:
        """At start-up: offer the run the app was closed in, on the panel.

        A file that cannot be read is renamed to ``*.corrupt`` and explained, so it
        is neither lost nor offered again.
        """
        path = self.checkpoint_path
        if path is None or self._panel is None:
            return
        info_path = path.with_name(RUN_FILE)
        if not path.exists():
            info_path.unlink(missing_ok=True)
            return
        try:
            checkpoint = nn.load_model(path)
            config = resume_config(checkpoint)
            info = json.loads(info_path.read_text(encoding="utf-8"))
            if not isinstance(info, dict) or "data_source" not in info:
                raise ValueError(f"{info_path.name} does not say which data it used")
        except (OSError, ValueError) as exc:
            self._set_aside(path, info_path, exc)
            return
        self._unfinished = checkpoint, info
        data = info.get("data_name") or _data_label(info["data_source"])
        text = (f"The program was closed during a training run: it stopped after "
                f"step {checkpoint.step} of a {config.epochs}-epoch run on {data}. "
                "Resume it from there, or discard it? (Starting another run "
                "replaces it.)")
        self._panel.show_notice("info", text, [
            ("Resume the run", self.resume_unfinished_run),
            ("Discard it", self.discard_unfinished_run),
        ])
        self.message.emit("An unfinished training run can be resumed: see the "
                          "Training tab.")

    def _set_aside(self, path: Path, info_path: Path, exc: Exception) -> None:
        aside = path.with_name(path.name + ".corrupt")
        try:
            os.replace(path, aside)
        except OSError as move_error:
            where = f"it could not be moved aside either ({move_error})"
        else:
            where = f"it was set aside as {aside}"
        info_path.unlink(missing_ok=True)
        text = (f"The training run saved when the program last closed could not be "
                f"read ({exc}), so it cannot be resumed; {where}. Start a new run.")
        self._panel.show_notice("error", text)
        self.message.emit("The saved training run could not be read: see the "
                          "Training tab.")

    def resume_unfinished_run(self) -> None:
        """Continue the offered run from its step, on its data, in a new thread."""
        if self._unfinished is None or self._thread is not None:
            return
        checkpoint, info = self._unfinished
        source = info["data_source"]
        if source == LOADED_SOURCE and (
                self._dataset is None or self._dataset.name != info.get("data_name")):
            self._panel.show_notice("warning", (
                f"This run trained on {info.get('data_name')}, which is not loaded "
                "now. Open that dataset (File > Open dataset folder), then resume."), [
                ("Resume the run", self.resume_unfinished_run),
                ("Discard it", self.discard_unfinished_run),
            ])
            return
        self._unfinished = None
        config = resume_config(checkpoint)
        load = self._loader(source)

        def prepare() -> Trainer:
            # The same seed redoes the run's train/validation split; the Trainer
            # then continues with the random state saved in the checkpoint.
            x_tr, y_tr, x_val, y_val, _ = self._split(load, config)
            return Trainer.from_checkpoint(checkpoint, (x_tr, y_tr), (x_val, y_val))

        self.model = checkpoint.model
        self.model_changed.emit(self.model, "resumed unfinished run")
        self._launch(prepare, paused=False, checkpoint=self.checkpoint_path)

    def discard_unfinished_run(self) -> None:
        """Delete the saved unfinished run (declined, or replaced by a new run)."""
        self._unfinished = None
        path = self.checkpoint_path
        if path is not None:
            for name in (CHECKPOINT_FILE, RUN_FILE):
                with contextlib.suppress(OSError):
                    path.with_name(name).unlink(missing_ok=True)

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.state_changed.emit(state)


def _data_label(source) -> str:
    """How the offer names a run's data choice."""
    return "generated digits" if source == BUILTIN_SOURCE else f"MNIST from {source}"
