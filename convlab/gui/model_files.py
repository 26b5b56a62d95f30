"""ModelFiles: the File menu's model actions and whether the weights are saved.

Open, New, Save, Save as, Export to PyTorch and Open recent; the window's title
(the file's name, and "*" while the weights differ from those last opened or saved);
and the "Save changes?" question before anything replaces changed weights. A model
that opens is handed over with model_opened; the app then calls track() with the
copy it shows.
"""

import os
from pathlib import Path

import numpy as np
from PyQt5.QtCore import QObject, pyqtSignal

from convlab import nn
from convlab.export import ExportError, export_pytorch
from convlab.fileio import write_text_atomic
from convlab.gui.common import dialogs
from convlab.nn.architectures import NAMED_ARCHS, build, check_fits_mnist
from convlab.resources import BUNDLED_MODEL, resource_path

DEFAULT_MODEL = resource_path(BUNDLED_MODEL)
MAX_RECENT = 6
# What reading a damaged, hostile or huge file may raise: it is reported, never fatal.
LOAD_ERRORS = (OSError, ValueError, EOFError, MemoryError)


class ModelFiles(QObject):
    """Opens, saves and exports the model, and knows whether its weights are saved."""

    model_opened = pyqtSignal(object, object, str)  # model, its file or None, a note
    status_changed = pyqtSignal(str)  # a short note for the status bar

    def __init__(self, window, settings, is_training, parent=None):
        """is_training() says whether a run is changing the live weights."""
        super().__init__(parent)
        self.window = window
        self.settings = settings
        self.path = None  # the file the weights were opened from or saved to
        self.note = ""  # what the status bar says about the weights
        self.last_failure = ""  # why the last model did not open
        self._model = None  # the GUI's copy of the network: what is saved
        self._saved_state = None  # its weights as last opened or saved
        self._training_it = False  # the run under way trains this model
        self._is_training = is_training
        self._rng = np.random.default_rng()
        window.new_action.triggered.connect(self._on_new_action_triggered)
        window.open_action.triggered.connect(self._on_open_action_triggered)
        window.save_action.triggered.connect(self.save_model)
        window.save_as_action.triggered.connect(self._on_save_as_action_triggered)
        window.recent_model_chosen.connect(self._on_recent_model_chosen)
        window.export_action.triggered.connect(self._on_export_action_triggered)

    def track(self, model, path, note):
        """The window now shows model (the GUI's copy), as saved in path (None: in no
        file); note says what its weights are."""
        self._model = model
        self._saved_state = model.state_dict()
        self._training_it = False
        self.path, self.note = path, note
        self.update_title()

    def training_started(self):
        """A run on the tracked model began: its weights are changing."""
        self._training_it = True
        if self.note.startswith("untrained"):
            # Its answers are no longer the guesses of random weights.
            self.note = "training in this session"
            self.update_title()

    def training_finished(self):
        """The run is over: weights trained from no file are named as such."""
        if self.path is None:
            self.note = "trained in this session"
        self.update_title()

    def open_at_start(self, model_path, restore):
        """Open the model the app starts with: model_path (--model), else the last
        one (when restore) or the bundled one, else fresh random weights."""
        last = self.settings.read("lastModel", "", str) if restore else ""
        for path in [p for p in (model_path, last, str(DEFAULT_MODEL)) if p]:
            loud = path == model_path  # only an explicit choice deserves a dialog
            if Path(path).is_file() and self.open_model(path, report=loud):
                return
            if loud and not Path(path).is_file():
                self._message("error", "Model not found",
                              f"There is no model file at\n{path}\n\nStarting with "
                              "the bundled model instead.")
            elif path == last:
                why = self.last_failure if Path(path).is_file() else "no such file"
                self.settings.set_aside.append(("lastModel", f"{path}: {why}"))
        self.new_model(note="untrained weights: the bundled model was not found")

    def open_model(self, path, report=True):
        """Load a model file; on any problem show why and keep the current model."""
        try:
            model = nn.load_model(path).model
            check_fits_mnist(model)
        except (*LOAD_ERRORS, nn.ModelFileError) as exc:
            self.last_failure = str(exc) or type(exc).__name__
            if report:
                self._message("error", "Could not open the model",
                              f"{path}\n\n{exc}\n\nThe current model is unchanged.")
            return False
        bundled = Path(path).resolve() == DEFAULT_MODEL.resolve()
        note = "bundled trained model" if bundled else Path(path).name
        self.model_opened.emit(model, None if bundled else str(path), note)
        if not bundled:
            self._remember(str(path))
        self.status_changed.emit(f"Opened {path}")
        return True

    def new_model(self, checked=False, note="untrained weights"):
        """Replace the model by the sample architecture with fresh random weights."""
        self.model_opened.emit(build(NAMED_ARCHS["sample"], self._rng), None, note)
        self.status_changed.emit(
            "New network with random weights: train it in the Training tab.")

    def save_model(self, checked=False, path=None):
        """Save the model's current weights (to its own file unless a path is given)."""
        path = path or self.path
        if not path:
            return self._on_save_as_action_triggered()
        try:
            # The GUI copy holds the latest weights, and reading it cannot race with
            # the training thread writing the live model.
            nn.save_model(path, self._model)
        except (OSError, ValueError) as exc:
            self._message("error", "Could not save the model", f"{path}\n\n{exc}")
            return False
        self.path = str(path)
        self.note = Path(path).name
        self._saved_state = self._model.state_dict()
        self._remember(self.path)
        self.update_title()
        self.status_changed.emit(f"Saved {path}")
        return True

    def export_pytorch(self, path):
        """Write the model as a self-contained PyTorch .py file."""
        try:
            text = export_pytorch(self._model, module=Path(path).stem,
                                  source=self.note)
            write_text_atomic(path, text)
        except (OSError, ExportError) as exc:
            self._message("error", "Could not export", f"{path}\n\n{exc}")
            return False
        self.status_changed.emit(
            f"Exported to {path}: `from {Path(path).stem} import build`")
        return True

    def has_unsaved_changes(self):
        """True when the weights differ from those last opened or saved.

        Training or a filter edit changes them; a run under way is still changing
        them, even if the GUI's copy has not caught up yet.
        """
        if self._training_it and self._is_training():
            return True
        if self._saved_state is None:
            return False
        state = self._model.state_dict()
        return any(not np.array_equal(state[name], saved, equal_nan=True)
                   for name, saved in self._saved_state.items())

    def confirm_discard(self, doing):
        """Offer to save changed weights before doing something that replaces them.

        doing completes "Save them before ..." (e.g. "opening another model").
        Returns True to go ahead: nothing to save, saved, or discarded on purpose.
        """
        if not self.has_unsaved_changes():
            return True
        answer = dialogs.ask_save_changes(
            self.window, "Save the trained weights?",
            "The network's weights have changed since they were last saved (by "
            f"training or by editing filters). Save them before {doing}?\n\n"
            "Discard throws the changes away; Cancel keeps everything as it is.")
        if answer == "save":
            return bool(self.save_model())  # False when saving failed or was cancelled
        return answer == "discard"

    def update_title(self):
        """The window's title, "*" and the status bar say which weights are shown."""
        w = self.window
        name = Path(self.path).name if self.path else "unsaved network"
        # [*] is where Qt writes the "*" of a window with unsaved changes.
        w.setWindowTitle(f"ConvLab — {name}[*]")
        self.update_modified()
        w.set_model_note(self.note)
        untrained = self.note.startswith("untrained")
        w.prediction_panel.set_note(
            "Untrained weights: these answers are guesses. Train the network in the "
            "Training tab or open a trained model." if untrained else "")

    def update_modified(self):
        """Show "*" in the title while the weights are not saved."""
        self.window.setWindowModified(self.has_unsaved_changes())

    def _remember(self, path):
        path = os.path.abspath(path)  # still found when started from another folder
        stored = self.settings.peek("recentModels", [], list)
        recent = [path] + [p for p in stored if p != path][: MAX_RECENT - 1]
        self.settings.save("recentModels", recent)
        self.settings.save("lastModel", path)
        self.window.set_recent_models(recent)

    def _last_folder(self):
        return str(Path(self.path).parent) if self.path else ""

    def _message(self, kind, title, text):
        dialogs.show_message(self.window, kind, title, text)
        self.status_changed.emit(title)

    # Slots

    def _on_new_action_triggered(self):
        if self.confirm_discard("starting a new network"):
            self.new_model()

    def _on_open_action_triggered(self):
        if not self.confirm_discard("opening another model"):
            return
        path = dialogs.ask_open_file(self.window, "Open model", self._last_folder(),
                                     "ConvLab models (*.npz)")
        if path:
            self.open_model(path)

    def _on_recent_model_chosen(self, path):
        if self.confirm_discard("opening another model"):
            self.open_model(path)

    def _on_save_as_action_triggered(self):
        path = dialogs.ask_save_file(self.window, "Save model as", self._last_folder(),
                                     "ConvLab models (*.npz)")
        if not path:
            return False
        if not path.endswith(".npz"):
            path += ".npz"
        return self.save_model(path=path)

    def _on_export_action_triggered(self):
        path = dialogs.ask_save_file(self.window, "Export to PyTorch",
                                     self._last_folder(), "Python files (*.py)")
        if path:
            self.export_pytorch(path if path.endswith(".py") else path + ".py")
