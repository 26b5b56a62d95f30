"""Controller: the state the rooms share, and the wiring between them.

It keeps the model, the dataset and the current input, and tells every room when
one of them changes; each room's presenter (and ModelFiles, DataFiles for the File
menu) does the rest. Two copies of the network exist: ``model`` is the live one
(trained by the TrainingSession's worker thread, saved to files) and ``view_model``
is the GUI's copy that draws feature maps and predictions. While training runs,
snapshots of the live weights are copied into ``view_model`` 12.5 times a
second.
"""

import numpy as np
from PyQt5.QtCore import QObject, QStandardPaths, QTimer, pyqtSignal

from convlab.data.preprocess import canvas_to_input
from convlab.gui.common import dialogs
from convlab.gui.common.settings import set_aside_report
from convlab.gui.data_files import DataFiles, training_data_name
from convlab.gui.evaluation.presenter import EvaluationPresenter
from convlab.gui.lessons.presenter import LessonsPresenter
from convlab.gui.model_files import ModelFiles
from convlab.gui.my_digits.presenter import MyDigitsPresenter
from convlab.gui.network.presenter import TRAINING_REFRESH_MS, NetworkPresenter
from convlab.gui.training.session import TrainingSession
from convlab.gui.why.presenter import WhyPresenter
from convlab.lab.out_of_range import note as out_of_range_note
from convlab.lab.snapshots import clone_model
from convlab.nn.architectures import arch_of

EVALUATION_WAIT_S = 60  # refresh_now waits at most this long for a running evaluation


class Controller(QObject):
    """Keeps model, dataset and current input, and connects the rooms."""

    views_refreshed = pyqtSignal()  # feature maps and prediction were redrawn

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.settings = window.settings
        self.model = None
        self.view_model = None
        self.dataset = None
        self.current_input = None  # (28, 28) float32 in [0, 1], or None
        self.current_label = None  # true digit when the input is a test image
        self._pending_canvas = None  # the drawing, until the next redraw reads it
        self._weights_trained = False  # training changed weights the Playground shows
        self._training_data = None  # the Training tab's data, when not self.dataset
        self._trained_model = None  # the model of the last training run started
        self._rng = np.random.default_rng()

        data_folder = QStandardPaths.writableLocation(QStandardPaths.AppDataLocation)
        # A run in progress is saved in the user's data folder, to resume after a
        # close.
        self.session = TrainingSession(window.training_panel, parent=self,
                                       checkpoint_dir=data_folder or None)
        self.model_files = ModelFiles(window, self.settings, self.session.is_running,
                                      parent=self)
        # New random weights replace trained ones: ask about saving them first.
        self.session.confirm_replace = lambda: self.model_files.confirm_discard(
            "replacing them by new random weights")
        self.data_files = DataFiles(window, self.settings,
                                    lambda: self.dataset is not None, parent=self)
        self.network = NetworkPresenter(window.network_view, window.detail_view,
                                        parent=self)
        self.evaluation = EvaluationPresenter(window.evaluation_panel,
                                              self.session.is_running, parent=self)
        self.my_digits = MyDigitsPresenter(window.my_digits_panel, parent=self)
        self.my_digits.set_storage_folder(data_folder)
        self.why = WhyPresenter(window.why_panel, parent=self)
        self.lessons = LessonsPresenter(window.lessons_panel, window, self, parent=self)
        self._wire()

    def _wire(self):
        w = self.window
        w.input_panel.image_changed.connect(self._on_input_panel_image_changed)
        w.input_panel.sample_requested.connect(self.show_test_image)
        w.input_panel.random_sample_requested.connect(
            self._on_input_panel_random_sample_requested)
        w.clear_action.triggered.connect(w.input_panel.canvas.clear)
        w.undo_action.triggered.connect(w.input_panel.canvas.undo_stroke)
        w.evaluation_panel.example_selected.connect(self.show_test_image)
        w.training_panel.download_requested.connect(self.data_files.download_mnist)
        w.training_panel.start_requested.connect(self._on_training_panel_run_requested)
        w.training_panel.step_requested.connect(self._on_training_panel_run_requested)
        w.playground_panel.set_command_runner(self.session.submit)
        w.playground_panel.model_edited.connect(self._on_playground_model_edited)
        # The Playground's one-step view starts from the Training tab's learning rate.
        w.playground_panel.set_learning_rate(w.training_panel.settings.values()["lr"])
        w.training_panel.lr_changed.connect(w.playground_panel.set_learning_rate)

        f = self.model_files
        f.model_opened.connect(self._use_model)
        f.status_changed.connect(self._status)
        self.data_files.dataset_loaded.connect(self.set_dataset)
        self.data_files.status_changed.connect(self._status)
        n = self.network
        n.refresh_due.connect(self._on_network_refresh_due)
        n.weights_redrawn.connect(f.update_modified)
        n.edit_filter_requested.connect(self._on_network_edit_filter_requested)
        n.depth.batch_norm_offered.connect(w.batch_norm_action.setEnabled)
        w.batch_norm_action.triggered.connect(self._on_batch_norm_action_triggered)
        self.evaluation.status_changed.connect(self._status)

        s = self.session
        s.weights_updated.connect(self._on_session_weights_updated)
        s.model_changed.connect(self._on_session_model_changed)
        s.running_changed.connect(self._on_session_running_changed)
        s.finished.connect(self._on_session_finished)
        s.message.connect(self._status)
        # The Training tab shows the failure dialog; the status bar keeps the gist.
        s.failed.connect(lambda message: self._status(
            "Training stopped: " + message.splitlines()[0]))

        m = self.my_digits
        w.digit_key_pressed.connect(m.add_current_input)
        m.fine_tune_requested.connect(self._on_my_digits_fine_tune_requested)
        m.status_changed.connect(self._status)
        s.running_changed.connect(m.set_training_running)
        s.progress.connect(m.set_training_progress)

    # Start-up and shutdown

    def load_startup(self, model_path=None, data_dir=None, restore=True):
        """Load the model and data the app starts with.

        model_path: --model; otherwise the last model (when restore) or the bundled
        one, or fresh random weights if neither loads. data_dir: --data; otherwise
        the last folder, $CONVLAB_DATA or the download cache, quietly when absent.
        restore=False (screenshots) neither reads nor writes the saved state.
        """
        remember = self.settings.remember
        self.settings.remember = remember and restore
        try:
            self.model_files.open_at_start(model_path, restore)
            self.data_files.open_at_start(data_dir, restore)
            if restore:
                # After the model and data: they reset the architecture and data.
                self.window.restore_training_settings()
                self.session.unfinished.offer()
        finally:
            self.settings.remember = remember
        self.refresh_now()
        self._report_set_aside(restore)

    def _report_set_aside(self, restore):
        """Say once, after the window shows, which stored settings were not used."""
        set_aside = self.settings.take_set_aside(forget=restore)
        if not set_aside:
            return
        text = set_aside_report(set_aside)
        # After show(): a message box before the window would appear on its own.
        QTimer.singleShot(0, lambda: self._message(
            "warning", "Some remembered settings were set aside", text))
        self._status(f"Remembered settings set aside: {len(set_aside)}")

    def shutdown(self):
        """Stop training and every room's background work and join their threads
        (the window is closing)."""
        self.network.shutdown()
        self.evaluation.shutdown()
        self.data_files.shutdown()
        self.session.shutdown()
        self.window.playground_panel.shutdown()
        self.my_digits.shutdown()
        self.why.shutdown()
        self.lessons.shutdown()

    # The model, the data and the input every room shares

    def _use_model(self, model, path, note):
        """Show model everywhere; path is its file (None: in none), note its weights."""
        self.model = model
        self.view_model = clone_model(model)
        self.view_model.eval()
        self.session.set_model(model)
        self.network.set_model(self.view_model)
        self.window.playground_panel.set_model(self.view_model)
        self.my_digits.set_model(self.view_model)
        self.model_files.track(self.view_model, path, note)
        self.evaluation.set_model(self.view_model)
        self.why.set_model(self.view_model)
        spec = arch_of(model)
        if spec is not None:  # the Training tab starts from this architecture
            self.window.training_panel.set_arch(spec)

    def set_dataset(self, dataset):
        """Use a loaded Dataset (or None) for test images, evaluation and training."""
        self.dataset = dataset
        self.session.set_dataset(dataset)
        count = 0 if dataset is None else len(dataset.x_test)
        self.window.input_panel.set_sample_count(count)
        if dataset is not None:
            self.window.playground_panel.set_test_data(dataset.x_test, dataset.y_test)
        self.network.set_test_images(None if dataset is None else dataset.x_test)
        self.my_digits.set_base_dataset(dataset)
        self._update_data_note()
        self.evaluation.set_dataset(dataset)

    def show_test_image(self, index):
        """Make test image number index the input."""
        if self.dataset is None or not 0 <= index < len(self.dataset.x_test):
            return
        image = self.dataset.x_test[index, 0]  # (28, 28)
        self.current_label = int(self.dataset.y_test[index])
        panel = self.window.input_panel
        panel.canvas.set_background(image)
        panel.show_sample_index(index)
        self._pending_canvas = None
        self._set_input(image.copy(),
                        f"Test image {index}\ntrue digit: {self.current_label}")

    def _set_input(self, image, text):
        self.current_input = image
        self.window.input_panel.set_source_text(text)
        self.session.set_probe(image)
        self.window.playground_panel.set_input_image(image)
        self.my_digits.set_current_input(image)
        self.window.prediction_panel.set_input_note(out_of_range_note(image))
        self.network.input_changed(self.current_label)

    def refresh_now(self):
        """Bring every view up to date at once (start-up, screenshots, tests).

        An evaluation under way is finished first (waiting at most
        EVALUATION_WAIT_S), so a screenshot taken next shows its confusion matrix.
        """
        self.evaluation.finish(EVALUATION_WAIT_S)
        self._on_network_refresh_due()
        self.why.finish()

    # Slots

    def _on_network_refresh_due(self):
        if self._pending_canvas is not None:
            canvas, self._pending_canvas = self._pending_canvas, None
            self.current_label = None
            image = canvas_to_input(canvas)
            self._set_input(image, "Your drawing" if image is not None
                            else "Nothing drawn yet")
        if self.view_model is None:
            return
        if self._weights_trained:
            # Training moved the weights under the Playground's open filter.
            self._weights_trained = False
            self.window.playground_panel.refresh_model()
        x = self.current_input
        probs = self.network.draw(x)
        self.window.input_panel.set_preview(x)
        self.window.prediction_panel.set_probabilities(None if x is None else probs[0])
        self.why.show(x)
        self.views_refreshed.emit()

    def _on_input_panel_image_changed(self, canvas_image):
        # Preprocessing waits for the next redraw, so a fast stroke costs one
        # preprocessing per redraw rather than one per mouse event.
        self._pending_canvas = canvas_image
        self.network.request_refresh()

    def _on_input_panel_random_sample_requested(self):
        if self.dataset is not None:
            self.show_test_image(int(self._rng.integers(len(self.dataset.x_test))))

    def _on_network_edit_filter_requested(self, layer, index):
        self.window.playground_panel.open_filter(layer, index)
        self.window.show_tab("playground")

    def _on_batch_norm_action_triggered(self):
        self.window.show_tab("network")
        self.network.depth.show_batch_norm()

    def _on_playground_model_edited(self):
        self.network.weights_changed()
        self.my_digits.refresh_predictions()

    def _on_training_panel_run_requested(self, request):
        self._training_data = training_data_name(request.data_source)
        self._update_data_note()

    def _on_my_digits_fine_tune_requested(self, request):
        self._training_data = None  # fine-tuning mixes in the loaded dataset
        self._update_data_note()
        self.window.training_panel.reset_curves()  # a fresh run on the curves
        self.session.start_trainer(lambda: request.build_trainer(self.session.model))

    def _on_session_weights_updated(self, snapshot):
        if not snapshot.is_from(self.model):
            # Queued before the model was replaced: old weights, maybe another shape.
            return
        snapshot.apply_to(self.view_model)
        self._weights_trained = True
        # The snapshot's activations (None without a probe) spare a forward pass.
        self.network.weights_changed(snapshot.activations, TRAINING_REFRESH_MS,
                                     snapshot.batch)

    def _on_session_model_changed(self, model, note):
        # A resumed run's network may differ from the editor's: _use_model shows it.
        self._use_model(model, None, note)

    def _on_session_running_changed(self, running):
        if running:
            self._trained_model = self.model
            self.model_files.training_started()

    def _on_session_finished(self):
        if self._trained_model is not self.model:
            # The run's network was replaced meanwhile: the one shown is unchanged.
            self.evaluation.evaluate_if_needed()
            return
        # The run is over, so reading the live model is safe again.
        self.view_model.load_state_dict(self.model.state_dict())
        self.model_files.training_finished()
        self._weights_trained = True
        self.network.weights_changed()
        self.evaluation.evaluate_if_needed()

    # Helpers

    def _message(self, kind, title, text):
        dialogs.show_message(self.window, kind, title, text)
        self._status(title)

    def _update_data_note(self):
        self.window.set_dataset_note(
            None if self.dataset is None else self.dataset.name, self._training_data)

    def _status(self, text):
        self.window.statusBar().showMessage(text, 8000)
