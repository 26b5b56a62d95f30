"""A run the app was closed in: saved while it goes, offered at the next start.

With a folder, a run started from the Training tab is saved there by its worker
(CHECKPOINT_FILE, plus RUN_FILE saying which data it trains on) until it finishes.
At the next start offer() shows it on the tab: Resume goes on from its step
(TrainingSession.continue_run, on the same data and train/validation split),
Discard deletes it. Only one unfinished run is kept: starting another replaces it.
A file that cannot be read is renamed to ``*.corrupt`` and explained, so it is
neither lost nor offered again.

Signals:
    message(str)    a short note for the status bar (the tab shows the whole text)
    warning(str)    a problem the run survives (it will not be saved)
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from PyQt5.QtCore import QObject, pyqtSignal

from convlab import nn
from convlab.fileio import write_text_atomic
from convlab.gui.training.request import BUILTIN_SOURCE, LOADED_SOURCE
from convlab.train import resume_config

CHECKPOINT_FILE = "unfinished_run.npz"
RUN_FILE = "unfinished_run.json"  # the data choice of the run in CHECKPOINT_FILE


class UnfinishedRun(QObject):
    """Save, offer, resume or discard the one unfinished run of a TrainingSession."""

    message = pyqtSignal(str)
    warning = pyqtSignal(str)

    def __init__(self, folder, session):
        super().__init__(session)
        # Where a run in progress is saved (None: runs are not saved).
        self.path = None if folder is None else Path(folder) / CHECKPOINT_FILE
        self._session = session
        self._panel = None
        self._offered = None                # (nn.Checkpoint, run info) on offer

    def bind_panel(self, panel) -> None:
        """The TrainingPanel that shows the offer and what became of it."""
        self._panel = panel

    def is_offered(self) -> bool:
        """True when a saved run is waiting to be resumed or discarded."""
        return self._offered is not None

    def begin(self, data_source, data_name: str | None) -> Path | None:
        """Replace any unfinished run by the one starting now; where to save it
        (None: it cannot be saved, and ``warning`` said why)."""
        if self.path is None:
            return None
        self.discard()
        info = {"data_source": data_source, "data_name": data_name}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_text_atomic(self.path.with_name(RUN_FILE), json.dumps(info))
        except OSError as exc:
            self.warning.emit(
                f"This run will not be saved ({exc}), so closing the program "
                f"loses it; check that the folder {self.path.parent} can be written.")
            return None
        return self.path

    def run_ended(self) -> None:
        """After a run: a run that finished (or never saved a step) leaves nothing."""
        if self.path is not None and not self.path.exists():
            self.path.with_name(RUN_FILE).unlink(missing_ok=True)

    def offer(self) -> None:
        """At start-up: offer the run the app was closed in, on the panel."""
        if self.path is None or self._panel is None:
            return
        info_path = self.path.with_name(RUN_FILE)
        if not self.path.exists():
            info_path.unlink(missing_ok=True)
            return
        try:
            checkpoint = nn.load_model(self.path)
            config = resume_config(checkpoint)
            info = json.loads(info_path.read_text(encoding="utf-8"))
            if not isinstance(info, dict) or "data_source" not in info:
                raise ValueError(f"{info_path.name} does not say which data it used")
        except (OSError, ValueError) as exc:
            self._set_aside(exc)
            return
        self._offered = checkpoint, info
        data = info.get("data_name") or _data_label(info["data_source"])
        self._panel.show_notice("info", (
            f"The program was closed during a training run: it stopped after "
            f"step {checkpoint.step} of a {config.epochs}-epoch run on {data}. "
            "Resume it from there, or discard it? (Starting another run "
            "replaces it.)"), self._choices())
        self.message.emit("An unfinished training run can be resumed: see the "
                          "Training tab.")

    def _choices(self):
        return [("Resume the run", self.resume), ("Discard it", self.discard)]

    def _set_aside(self, exc: Exception) -> None:
        aside = self.path.with_name(self.path.name + ".corrupt")
        try:
            os.replace(self.path, aside)
        except OSError as move_error:
            where = f"it could not be moved aside either ({move_error})"
        else:
            where = f"it was set aside as {aside}"
        self.path.with_name(RUN_FILE).unlink(missing_ok=True)
        self._panel.show_notice("error", (
            f"The training run saved when the program last closed could not be "
            f"read ({exc}), so it cannot be resumed; {where}. Start a new run."))
        self.message.emit("The saved training run could not be read: see the "
                          "Training tab.")

    def resume(self) -> None:
        """Continue the offered run from its step, on its data, in a new thread."""
        if self._offered is None or self._session.is_running():
            return
        checkpoint, info = self._offered
        source = info["data_source"]
        dataset = self._session.dataset
        if source == LOADED_SOURCE and (
                dataset is None or dataset.name != info.get("data_name")):
            self._panel.show_notice("warning", (
                f"This run trained on {info.get('data_name')}, which is not loaded "
                "now. Open that dataset (File > Open dataset folder), then resume."),
                self._choices())
            return
        self._offered = None
        self._session.continue_run(checkpoint, source, self.path)

    def discard(self) -> None:
        """Delete the saved unfinished run (declined, or replaced by a new run)."""
        self._offered = None
        if self.path is not None:
            for name in (CHECKPOINT_FILE, RUN_FILE):
                with contextlib.suppress(OSError):
                    self.path.with_name(name).unlink(missing_ok=True)


def _data_label(source) -> str:
    """How the offer names a run's data choice."""
    return "generated digits" if source == BUILTIN_SOURCE else f"MNIST from {source}"
