"""The training worker: a QObject that runs a Trainer on its own QThread.

It never touches a widget. Everything the GUI shows leaves it as copies, never once
per step but on a steady beat of ``interval`` seconds (by default the window's
redraw interval while training, lab.snapshots.SNAPSHOT_INTERVAL_MS: 12.5 a second),
and at once when an epoch ends or training pauses:

Signals:
    progress(TrainingProgress)    the per-step loss/accuracy points since the last one,
                                  speed, progress and time left; after "Step one
                                  batch" also what that step changed (``update``)
    epoch_finished(EpochProgress) an epoch's training and validation metrics
    snapshot_ready(WeightSnapshot) copies of the weights, and the activations for the
                                  probe image when one is set
    loading(int, int)             (done, total) while prepare() draws generated digits
    alarm(AlarmReport)            a finite loss that looks wrong; for "exploded" the
                                  run is paused already, before another step
    warning(str)                  something went wrong that training survives (a
                                  checkpoint that could not be written)
    failed(str)                   an exception or a diverged loss, explained; the model
                                  keeps its last good weights
    finished()                    run() has returned (always emitted, also on failure)

Thread-safe controls (call them from the GUI thread; they act between two steps):
    pause(), resume(), stop(), step_once(), set_lr(lr), submit(fn), set_probe(x)

With a ``checkpoint`` path the run is saved there (Trainer.save_checkpoint, atomic)
every CHECKPOINT_INTERVAL seconds, at every epoch end and when it is stopped, all in
the training thread; a run that finishes deletes the file, as nothing is left to
resume.

``run()`` first calls ``prepare()`` (loading data can take seconds, so it happens here
and not in the GUI thread), which returns the Trainer. Controls that arrive before the
Trainer exists are kept and replayed on it in order. A slow ``prepare()`` passes
``report_loading`` as its data's progress callback: that shows how far it got and,
once stop() was asked for, cancels the load, so closing the window never waits for
thousands of digits to be drawn.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PyQt5.QtCore import QObject, pyqtSignal, pyqtSlot
from threadpoolctl import threadpool_limits

from convlab.lab.snapshots import (
    SNAPSHOT_INTERVAL_MS,
    WeightSnapshot,
    clone_model,
    take_snapshot,
)
from convlab.lab.update import BatchUpdate, batch_update
from convlab.nn._malloc import release_freed_memory
from convlab.train import Trainer, TrainingDiverged

EMIT_INTERVAL = SNAPSHOT_INTERVAL_MS / 1000  # seconds between reports to the GUI
# Seconds between checkpoints of a run: at most this much training is lost if the
# program dies, for a save that takes milliseconds.
CHECKPOINT_INTERVAL = 30.0


class LoadingCancelled(Exception):
    """Raised inside prepare()'s data loading when the run was stopped meanwhile."""


@dataclass
class TrainingProgress:
    """Per-step points since the previous report, plus where the run stands."""

    steps: np.ndarray          # (k,) step numbers, 1-based
    losses: np.ndarray         # (k,) batch losses
    accuracies: np.ndarray     # (k,) batch accuracies, 0..1
    step: int
    total_steps: int
    epoch: int
    lr: float
    images_per_s: float
    fraction: float            # of the whole run, 0..1
    seconds_left: float
    run: int = 0               # the worker's run number (TrainingWorker's run_id)
    # What the last step did to each layer and to its batch's loss, measured in the
    # training thread around a "Step one batch" step; None for other reports.
    update: BatchUpdate | None = None


@dataclass
class EpochProgress:
    """One finished epoch; ``step`` places it on the curves' step axis."""

    epoch: int
    step: int
    train_loss: float
    train_acc: float
    val_loss: float | None
    val_acc: float | None
    run: int = 0


@dataclass
class AlarmReport:
    """A train.Alarm of this run and the restore points trainer.restore accepts."""

    kind: str                  # "exploded" or "stalled"
    message: str               # what happened, with the numbers, and what to try
    step: int
    restore_points: tuple      # subset of ("before_spike", "start")
    run: int = 0


class TrainingWorker(QObject):
    """Runs ``prepare()``'s Trainer to the end, reporting throttled copies."""

    progress = pyqtSignal(object)
    epoch_finished = pyqtSignal(object)
    snapshot_ready = pyqtSignal(object)
    loading = pyqtSignal(int, int)
    alarm = pyqtSignal(object)
    warning = pyqtSignal(str)
    failed = pyqtSignal(str)
    finished = pyqtSignal()

    def __init__(self, model, prepare: Callable[[], Trainer],
                 interval: float = EMIT_INTERVAL, run_id: int = 0,
                 checkpoint: Path | None = None):
        super().__init__()
        self.model = model
        self._checkpoint = checkpoint
        self.run_id = run_id                # stamped on progress and epoch reports
        self._prepare = prepare
        self._interval = interval
        self._lock = threading.Lock()
        self._trainer: Trainer | None = None
        self._pending: list = []            # controls sent before the Trainer existed
        self._probe: np.ndarray | None = None
        self._points: list = []             # (step, loss, accuracy) not yet reported
        self._last = None                   # latest StepResult
        # (steps done, copy of the model) taken just before a single step, and
        # what that step changed, until it is reported.
        self._before: tuple[int, object] | None = None
        self._update: BatchUpdate | None = None
        self._stop_requested = threading.Event()  # also seen while still loading
        self._last_loading = 0.0

    @property
    def trainer(self) -> Trainer | None:
        return self._trainer

    def _control(self, name: str, *args) -> None:
        with self._lock:
            if self._trainer is None:
                self._pending.append((name, args))
                return
            trainer = self._trainer
        getattr(trainer, name)(*args)

    def pause(self) -> None:
        self._control("pause")

    def resume(self) -> None:
        self._control("resume")

    def stop(self) -> None:
        self._stop_requested.set()
        self._control("stop")

    def report_loading(self, done: int, total: int) -> None:
        """Progress callback for prepare()'s data: throttled report, or cancel."""
        if self._stop_requested.is_set():
            raise LoadingCancelled
        now = time.perf_counter()
        if done == total or now - self._last_loading >= self._interval:
            self._last_loading = now
            self.loading.emit(done, total)

    def step_once(self) -> None:
        """One more step, then pause; its progress report says what it changed."""
        # As a command, so the copy of the weights is taken in the training thread
        # right before the step it is compared with.
        self._control("submit", self._step_once_measured)

    def _step_once_measured(self) -> None:
        trainer = self._trainer
        trainer.step_once()
        self._before = (trainer.step, clone_model(self.model))

    def set_lr(self, lr: float) -> None:
        self._control("set_lr", lr)

    def submit(self, fn: Callable) -> None:
        """Run ``fn(model)`` between steps in the training thread, then show the result.

        An exception in ``fn`` becomes ``failed``; training goes on.
        """
        self._control("submit", lambda: self._run_command(fn))

    def set_probe(self, x: np.ndarray | None) -> None:
        """The image whose activations snapshots carry: (H, W), (1, H, W) or None."""
        # Replacing one reference is atomic, so no lock is needed; the worker reads
        # whichever image is current when it next takes a snapshot.
        self._probe = None if x is None else np.asarray(
            x, dtype=np.float32).reshape(1, 1, *np.shape(x)[-2:]).copy()

    def _run_command(self, fn: Callable) -> None:
        try:
            fn(self.model)
        except Exception as exc:
            self.failed.emit(f"A change to the live model failed: {exc}")
            return
        # While paused no step will follow, so show the edit now.
        self.snapshot_ready.emit(self._snapshot())

    def _snapshot(self) -> WeightSnapshot:
        step = self._last.step if self._last is not None else 0
        # Read here, in the training thread, between two steps.
        last = None if self._trainer is None else self._trainer.last_batch
        return take_snapshot(self.model, step, self._probe,
                             None if last is None else last[0])

    @pyqtSlot()
    def run(self) -> None:
        """Prepare the Trainer and train until done, stopped, diverged or failed."""
        # One BLAS thread: with more, BLAS threads spin on every core between calls
        # and starve the GUI thread (and, on a busy machine, training itself).
        # Measured with `bench gui` and rejected: a shorter sys.setswitchinterval or
        # a sleep(0) per step change nothing measurable (the GIL is not what slows
        # the GUI; sharing a CPU core with this thread is), and a raised nice value
        # for this thread speeds up edits but lets any other busy program starve
        # training (throughput ratio 0.34 at nice 5 next to one busy process).
        with threadpool_limits(limits=1, user_api="blas"):
            self._train()

    def _train(self) -> None:
        try:
            trainer = self._prepare()
            with self._lock:
                self._trainer = trainer
                pending, self._pending = self._pending, []
            for name, args in pending:
                getattr(trainer, name)(*args)
            last_save = time.perf_counter()
            due = last_save + self._interval    # when the next report is due
            for result in trainer.steps():
                self._last = result
                self._measure_step(trainer, result)
                self._points.append((result.step, result.loss, result.accuracy))
                if result.alarm is not None and result.alarm.kind == "exploded":
                    # Not one more step on weights thrown far away: the student
                    # decides (restore, a smaller learning rate, resume or stop).
                    trainer.pause()
                now = time.perf_counter()
                # Saved before the report, so a reported epoch end is on disk.
                if self._checkpoint is not None and (
                        result.epoch_result is not None
                        or now - last_save >= CHECKPOINT_INTERVAL):
                    self._save_checkpoint(trainer)
                    last_save = now
                # Report once per interval, but at once when an epoch ends or
                # training is about to wait (pause, step one batch), so the student
                # sees the state the network is stopped in.
                if (result.epoch_result is not None or trainer.paused
                        or now >= due):
                    self._emit(result)
                    # On the beat, not "interval after this step": else each
                    # report comes late by part of a step, and fewer arrive than
                    # the window redraws.
                    due += self._interval
                    if due <= now:  # behind (a slow step, a pause): beat anew
                        due = now + self._interval
                if result.alarm is not None:
                    self.alarm.emit(AlarmReport(
                        result.alarm.kind, result.alarm.message, result.alarm.step,
                        trainer.restore_points(), run=self.run_id))
        except LoadingCancelled:
            pass  # stopped before training began: nothing to report
        except TrainingDiverged as exc:
            # Show the restored weights; the epoch, if any, was reported already.
            self._emit(self._last, with_epoch=False)
            self.failed.emit(str(exc))
        except Exception as exc:
            self.failed.emit(
                f"Training failed: {type(exc).__name__}: {exc}\n\n"
                + "".join(traceback.format_exception(exc)[-3:])
            )
        else:
            if self._checkpoint is not None:
                if trainer.state == "finished":
                    self._checkpoint.unlink(missing_ok=True)
                elif trainer.step:
                    self._save_checkpoint(trainer)    # stopped: keep where it ended
            if self._points:
                self._emit(self._last, with_epoch=False)
        finally:
            release_freed_memory()  # the run's reserve of freed step buffers
            self.finished.emit()

    def _measure_step(self, trainer: Trainer, result) -> None:
        """After a single step: compare the weights and the batch's loss with the
        copy taken before it (see step_once)."""
        if self._before is None:
            return
        step, before = self._before
        self._before = None
        if result.step != step + 1:
            return  # a restore or a stop came between: nothing to compare
        x, y = trainer.last_batch
        self._update = batch_update(before, self.model, x, y, result.lr, result.step)

    def _save_checkpoint(self, trainer: Trainer) -> None:
        try:
            trainer.save_checkpoint(self._checkpoint)
        except (OSError, ValueError) as exc:
            self.warning.emit(
                f"Could not save this run to {self._checkpoint}: {exc}. Training "
                "goes on, but if the program closes now the run cannot be resumed; "
                "free some disk space or check the folder's permissions."
            )

    def _emit(self, result, with_epoch: bool = True) -> None:
        if result is None:
            return
        if self._points:
            steps, losses, accs = (np.array(c) for c in zip(*self._points, strict=True))
            self._points = []
            self.progress.emit(TrainingProgress(
                steps=steps, losses=losses, accuracies=accs,
                step=result.step, total_steps=self._trainer.total_steps,
                epoch=result.epoch, lr=result.lr,
                images_per_s=result.images_per_sec, fraction=result.progress,
                seconds_left=result.eta_seconds, run=self.run_id,
                update=self._update,
            ))
            self._update = None
        if with_epoch and result.epoch_result is not None:
            e = result.epoch_result
            self.epoch_finished.emit(EpochProgress(
                epoch=e.epoch, step=result.step, train_loss=e.train_loss,
                train_acc=e.train_acc, val_loss=e.val_loss, val_acc=e.val_acc,
                run=self.run_id,
            ))
        self.snapshot_ready.emit(self._snapshot())
