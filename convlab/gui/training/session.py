"""Training from the GUI: owns the QThread and TrainingWorker of one run at a time.

The controller hosts it (a few lines)::

    session = TrainingSession(panel, parent=controller)   # wires the TrainingPanel
    session.set_model(model)        # whenever the current model changes (a run of
                                    # the old one stops, without waiting for it)
    session.set_dataset(ds)         # a loaded convlab.data.sources.Dataset, or None
    session.set_probe(x)            # current input (28, 28) for live activations
    session.weights_updated.connect(...)   # WeightSnapshot, 12.5/s while training
    session.model_changed.connect(...)     # a new model (architecture / New weights /
                                           # a resumed run)
    session.unfinished.offer()             # at start-up: a run the app was closed in
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

An exploded loss (train.Alarm "exploded") pauses the run, and the panel offers the
run's restore points (restore.RestoreOffer). A stalled run gets a warning line and
goes on.

While a run is going, the worker thread is the only one that writes the live model
or calls its forward() (layers keep caches). The GUI draws from a copy of it
(``lab.snapshots.clone_model``) refreshed with ``snapshot.apply_to``; edits to the
live model go through ``submit(fn)``, which runs ``fn(model)`` between two steps.

With a ``checkpoint_dir``, a run started from the panel is saved there until it
finishes, and offered at the next start if the app was closed during it: see
unfinished_run.UnfinishedRun (``session.unfinished``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PyQt5.QtCore import QObject, Qt, QThread, pyqtSignal, pyqtSlot

from convlab.data import sources
from convlab.gui.training.request import LOADED_SOURCE, TrainingRequest, load_split
from convlab.gui.training.restore import RestoreOffer
from convlab.gui.training.unfinished_run import UnfinishedRun
from convlab.gui.training.worker import TrainingWorker
from convlab.nn.architectures import ArchSpec, build
from convlab.train import TrainConfig, Trainer, resume_config

VAL_FRACTION = 0.1
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
        self.unfinished = UnfinishedRun(checkpoint_dir, self)
        self.unfinished.message.connect(self.message)
        self.unfinished.warning.connect(self.warning)
        self._restore = RestoreOffer(self)
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
        self.unfinished.bind_panel(panel)
        self._restore.bind_panel(panel)

    @property
    def trainer(self) -> Trainer | None:
        """The running Trainer (None before its data is loaded or when idle)."""
        return None if self._worker is None else self._worker.trainer

    def is_running(self) -> bool:
        return self._thread is not None

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

    @property
    def dataset(self) -> sources.Dataset | None:
        """The dataset the window loaded (the "loaded" data choice), or None."""
        return self._dataset

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
            # Without augmentation every epoch is plain already.
            clean_epochs=request.clean_epochs if request.augment else 0,
            val_fraction=VAL_FRACTION,
            seed=int(self._rng.integers(2**31)),
        )
        model, source, dataset = self.model, request.data_source, self._dataset

        def prepare() -> Trainer:
            # In the training thread; self._worker is set before it starts.
            x_tr, y_tr, x_val, y_val, rng = load_split(
                source, dataset, config, self._worker.report_loading)
            return Trainer(model, (x_tr, y_tr), (x_val, y_val), config, rng=rng)

        loaded = request.data_source == LOADED_SOURCE and self._dataset is not None
        checkpoint = self.unfinished.begin(
            request.data_source, self._dataset.name if loaded else None)
        self._launch(prepare, paused, checkpoint)

    def _ensure_model(self, arch: ArchSpec) -> None:
        """Keep the current model if it already is ``arch``, else build one."""
        candidate = build(arch, self._rng)
        if self.model is None or self.model.get_config() != candidate.get_config():
            self.model = candidate
            self.model_changed.emit(self.model, "untrained weights")

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
        self._restore.offer(self.trainer, report)

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
        self.unfinished.run_ended()
        self._set_state("idle")
        pending, self._after_run = self._after_run, []
        for fn in pending:
            try:
                fn(self.model)
            except Exception as exc:  # as the worker reports a failed command
                self.failed.emit(f"A change to the live model failed: {exc}")
        self.running_changed.emit(False)
        self.finished.emit()

    def continue_run(self, checkpoint, source, path: Path | None) -> None:
        """Go on with a checkpointed run from its step, on its data choice, saving
        it to ``path`` (UnfinishedRun.resume checked that the data is there)."""
        config, dataset = resume_config(checkpoint), self._dataset

        def prepare() -> Trainer:
            # The same seed redoes the run's train/validation split; the Trainer
            # then continues with the random state saved in the checkpoint.
            x_tr, y_tr, x_val, y_val, _ = load_split(
                source, dataset, config, self._worker.report_loading)
            return Trainer.from_checkpoint(checkpoint, (x_tr, y_tr), (x_val, y_val))

        self.model = checkpoint.model
        self.model_changed.emit(self.model, "resumed unfinished run")
        self._launch(prepare, paused=False, checkpoint=path)

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.state_changed.emit(state)

