"""The Training tab: architecture editor, training settings, controls and live curves.

Its parts are widgets of their own (ArchEditor, TrainingSettings, LearningCurves,
Notice, StepSummaryView: what a "Step one batch" changed); the panel lays them out
with the run's buttons and speaks for all of them.
The panel is a view. It never touches the model or the worker; it emits intent signals
and shows what it is given through setter slots (TrainingSession.bind_panel wires both).

Signals (intent):
    start_requested(TrainingRequest)   Start pressed with a valid architecture
    step_requested(TrainingRequest)    Step one batch pressed
    pause_requested(), resume_requested(), stop_requested()
    lr_changed(float)                  learning rate edited (also mid-run)
    reinit_requested(ArchSpec)         New random weights pressed
    download_requested()               Download MNIST pressed (the window downloads)

Slots (setters):
    set_state(str)                     "idle" | "running" | "paused" | "stopping"
    add_progress(TrainingProgress)     per-step points and throughput from the worker
                                       (and, after Step one batch, its update sizes)
    add_epoch(EpochProgress)           per-epoch training and validation metrics
    new_run()                          the curves so far become the faded previous
                                       run; a run's points start on empty curves
    reset_curves()                     empty every curve, the previous run's too
    set_arch(ArchSpec)                 show an architecture (e.g. of a loaded model)
    set_loaded_dataset(name)           offer the window's loaded dataset (None: remove)
    show_failure(str)                  a training failure, shown as a dialog (through
                                       dialogs.show_message, like every dialog)
    show_notice(kind, text, buttons)   a non-modal message on the tab ("error",
                                       "warning" or "info") with (label, callback)
                                       buttons and Dismiss; hide_notice()
    saved_state() / restore_state(d)   the settings as JSON-able values, for QSettings
"""

from __future__ import annotations

import numpy as np
from PyQt5.QtCore import pyqtSignal
from PyQt5.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from convlab.gui.common import dialogs
from convlab.gui.common.widgets import teach
from convlab.gui.training.arch_editor import ArchEditor
from convlab.gui.training.curves import LearningCurves
from convlab.gui.training.notice import Notice
from convlab.gui.training.request import TrainingRequest
from convlab.gui.training.settings import TrainingSettings
from convlab.gui.training.step_summary import StepSummaryView
from convlab.gui.training.worker import EpochProgress, TrainingProgress
from convlab.nn.architectures import ArchSpec


class TrainingPanel(QWidget):
    """The Training tab: edit the network, set up a run, drive it and watch it learn."""

    start_requested = pyqtSignal(object)
    step_requested = pyqtSignal(object)
    pause_requested = pyqtSignal()
    resume_requested = pyqtSignal()
    stop_requested = pyqtSignal()
    lr_changed = pyqtSignal(float)
    reinit_requested = pyqtSignal(object)
    download_requested = pyqtSignal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self._state = "idle"
        self.notice = Notice()
        self.arch_editor = ArchEditor()
        self.settings = TrainingSettings()
        self._build_controls()
        self.curves = LearningCurves()
        self.step_summary = StepSummaryView()
        # In the Run box, so the plots keep all the curves' height; on a row of its
        # own, since beside the speed ("1,234 images/s") the box grew too wide for
        # the tab at 1024 px.
        self.controls_group.layout().addWidget(self.curves.clear_previous, 5, 0, 1, 3)

        # Stacked so the tab fits beside the window's input and prediction columns
        # (about 725 px wide).
        middle = QHBoxLayout()
        middle.addWidget(self.settings, 1)
        middle.addWidget(self.controls_group, 1)
        layout = QVBoxLayout(self)
        # The scroll area around the tab has its own margin: every pixel of width
        # counts on a 1024 px screen.
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.notice)
        layout.addWidget(self.arch_editor)
        layout.addLayout(middle)
        layout.addWidget(self.step_summary)
        layout.addWidget(self.curves, 1)

        self.arch_editor.edited.connect(self._update_buttons)
        self.settings.lr_changed.connect(self.lr_changed)
        self.settings.download_requested.connect(self.download_requested)
        self._update_buttons()

    def _build_controls(self) -> None:
        self.controls_group = QGroupBox("Run")
        self.start = teach(
            QPushButton("Start"), "Start training",
            "Train the network in the background; the feature maps and curves "
            "update while it learns, and you can keep drawing.",
        )
        self.pause = teach(
            QPushButton("Pause"), "Pause or resume training",
            "Hold training between two steps, to look closely or to step one "
            "batch at a time; press again to resume.",
        )
        self.stop = teach(
            QPushButton("Stop"), "Stop training",
            "End the run after the current step; the weights learned so far stay.",
        )
        self.step = teach(
            QPushButton("Step one batch"), "Step one batch",
            "Do exactly one forward pass, backward pass and weight update on one "
            "batch, then wait. Watch how one update changes the filters; the table "
            "above the curves says how far it moved each layer's weights.",
        )
        self.reinit = teach(
            QPushButton("New random weights"), "New random weights",
            "Throw away what was learned: build this architecture with fresh random "
            "weights, so you can watch it learn from scratch.",
        )
        self.progress = teach(
            QProgressBar(), "Training progress",
            "How far through all epochs the run is, and an estimate of the time left.",
        )
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setFormat("not started")
        self.speed_label = teach(
            QLabel("- images/s"), "Training speed",
            "Training images processed per second (forward, backward and update).",
        )
        grid = QGridLayout(self.controls_group)
        grid.addWidget(self.start, 0, 0)
        grid.addWidget(self.pause, 0, 1)
        grid.addWidget(self.stop, 0, 2)
        grid.addWidget(self.step, 1, 0, 1, 3)
        grid.addWidget(self.reinit, 2, 0, 1, 3)
        grid.addWidget(self.progress, 3, 0, 1, 3)
        grid.addWidget(self.speed_label, 4, 0, 1, 3)

        self.start.clicked.connect(self._on_start_clicked)
        self.pause.clicked.connect(self._on_pause_clicked)
        self.stop.clicked.connect(self.stop_requested)
        self.step.clicked.connect(self._on_step_clicked)
        self.reinit.clicked.connect(self._on_reinit_clicked)

    def request(self) -> TrainingRequest:
        """The run the settings describe (the architecture must be valid)."""
        return TrainingRequest(arch=self.arch_editor.spec, **self.settings.values())

    def saved_state(self) -> dict:
        """The settings as JSON-able values, to remember them between sessions."""
        return {"arch": self.arch_editor.spec.to_dict(), **self.settings.values()}

    def restore_state(self, state) -> None:
        """Show settings remembered by saved_state.

        Stored values may be old or hand-edited: each one that is missing or not
        valid keeps the control's current value, and nothing raises.
        """
        if not isinstance(state, dict):
            return
        spec = self.arch_editor.editable_arch(state.get("arch"))
        if spec is not None:
            self.set_arch(spec)
        self.settings.restore(state)

    def set_arch(self, spec: ArchSpec) -> None:
        """Show an architecture in the editor (a preset or a loaded model's)."""
        self.arch_editor.set_arch(spec)

    def set_loaded_dataset(self, name: str | None) -> None:
        """Offer (and select) the window's loaded dataset, or withdraw it (None)."""
        self.settings.set_loaded_dataset(name)

    def set_state(self, state: str) -> None:
        """Reflect the session's state ("idle", "running", "paused", "stopping")."""
        self._state = state
        self._update_buttons()

    def new_run(self) -> None:
        """The curves so far become the faded previous run; a new run's start empty."""
        self.curves.new_run()
        self.step_summary.clear()
        self._reset_progress()

    def reset_curves(self) -> None:
        """Empty every curve, the previous run's too, for a fresh start."""
        self.curves.reset()
        self._reset_progress()

    def _reset_progress(self) -> None:
        self.progress.setValue(0)
        self.progress.setFormat("not started")

    def show_loading(self, done: int, total: int) -> None:
        """Say how far the drawing of generated digits got, before training starts."""
        self.progress.setValue(round(1000 * done / max(total, 1)))
        self.progress.setFormat(f"drawing digits {done:,} of {total:,}")

    def add_progress(self, progress: TrainingProgress) -> None:
        """Append a batch of per-step points and show speed and progress."""
        self.curves.add_steps(progress)
        if progress.update is not None:
            self.step_summary.show_update(progress.update)
        self.speed_label.setText(f"{progress.images_per_s:,.0f} images/s")
        self.progress.setValue(round(1000 * progress.fraction))
        self.progress.setFormat(
            f"%p%  step {progress.step}/{progress.total_steps}  "
            f"{_format_duration(progress.seconds_left)} left"
        )

    def add_epoch(self, epoch: EpochProgress) -> None:
        """Append one epoch's training and validation points."""
        self.curves.add_epoch(epoch)

    def show_failure(self, message: str) -> None:
        """Tell the student a run failed; the app and the last good weights stay."""
        dialogs.show_message(self, "error", "Training stopped", message)

    def show_notice(self, kind: str, text: str, buttons=()) -> None:
        """Show a message on the tab, replacing the last one; ``buttons`` are
        (label, callback) pairs, each press also hides the message."""
        self.notice.show_text(kind, text, buttons)

    def hide_notice(self) -> None:
        self.notice.hide()

    def _on_start_clicked(self) -> None:
        if self.arch_editor.architecture() is not None:
            self.start_requested.emit(self.request())

    def _on_pause_clicked(self) -> None:
        if self._state == "paused":
            self.resume_requested.emit()
        else:
            self.pause_requested.emit()

    def _on_step_clicked(self) -> None:
        if self.arch_editor.architecture() is not None or self._state != "idle":
            self.step_requested.emit(self.request())

    def _on_reinit_clicked(self) -> None:
        arch = self.arch_editor.architecture()
        if arch is not None:
            self.reset_curves()
            self.reinit_requested.emit(arch)

    def _update_buttons(self) -> None:
        idle = self._state == "idle"
        valid = self.arch_editor.architecture() is not None
        active = self._state in ("running", "paused")
        self.start.setEnabled(idle and valid)
        self.step.setEnabled((idle and valid) or self._state == "paused")
        self.pause.setEnabled(active)
        self.pause.setText("Resume" if self._state == "paused" else "Pause")
        self.stop.setEnabled(active)
        self.reinit.setEnabled(idle and valid)
        # The network's shape cannot change under a running trainer.
        self.arch_editor.setEnabled(idle)
        self.settings.set_idle(idle)
        if not valid and idle:
            self.start.setToolTip(
                "Start is disabled: the architecture cannot be built (the "
                "Architecture box says why, in place of the layer shapes)."
            )
        else:
            self.start.setToolTip(
                "Train the network in the background; the feature maps and curves "
                "update while it learns, and you can keep drawing."
            )



def _format_duration(seconds: float | None) -> str:
    if seconds is None or not np.isfinite(seconds):
        return "?"
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"
