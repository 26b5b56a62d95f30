"""MainWindow: input on the left, the tabs in the middle, the answer on the right."""

import json

from PyQt5.QtCore import QByteArray, Qt, pyqtSignal
from PyQt5.QtGui import QKeySequence
from PyQt5.QtWidgets import (
    QAction,
    QApplication,
    QDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QScrollArea,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from convlab import __version__
from convlab.gui.common import dialogs, figures
from convlab.gui.common.settings import Settings
from convlab.gui.controller import Controller
from convlab.gui.evaluation.panel import EvaluationPanel
from convlab.gui.input.panel import InputPanel
from convlab.gui.input.prediction_panel import PredictionPanel
from convlab.gui.lessons.panel import LessonsPanel
from convlab.gui.my_digits.panel import MyDigitsPanel
from convlab.gui.network.detail_view import DetailView
from convlab.gui.network.view import NetworkView
from convlab.gui.playground import PlaygroundPanel
from convlab.gui.training.panel import TrainingPanel
from convlab.gui.why.panel import WhyPanel

# The input column's width (the 280 px canvas and its frame) and the prediction
# column's. Below NARROW_WIDTH window pixels the prediction moves under the canvas,
# so the tabs keep the width their pages need (about 700 px).
INPUT_WIDTH = 316
PREDICTION_WIDTH = 200
NARROW_WIDTH = 1240

# What the status bar says about a run in each of the session's states.
TRAINING_NOTES = {"running": "training…", "paused": "training paused",
                  "stopping": "stopping training…"}

TABS = ("network", "training", "my_digits", "evaluation", "playground", "why",
        "lessons")

GUIDE = """
<h2>How a CNN sees your digit</h2>
<p><b>1. The input.</b> Your drawing is cropped, shrunk so its longer side is 20 pixels
and centred in a 28&times;28 frame, like the MNIST digits the network learned from.
The network sees 784 numbers between 0 (black) and 1 (white ink).</p>
<p><b>2. Convolution.</b> A conv layer slides small filters (3&times;3 numbers) over
the image. At each position it multiplies the filter with the pixels under it and adds
up: a big result means &ldquo;this patch looks like my filter&rdquo;. Each filter makes
one <i>feature map</i>. Early filters find edges and strokes in one direction.</p>
<p><b>3. ReLU.</b> Negative results are set to zero: a feature is either there
(positive) or not. In the Network tab, ReLU columns have no blue.</p>
<p><b>4. Pooling.</b> Max pooling keeps the strongest response in each 2&times;2 block.
The maps get smaller, and a stroke moved by a pixel gives almost the same result.</p>
<p><b>5. Deeper layers.</b> The second conv layer combines the first layer's maps, so
its filters respond to corners, loops and line endings rather than plain edges.</p>
<p><b>6. Dense layers and softmax.</b> The last maps are flattened into one long list
of numbers; dense layers weigh them into ten scores, and softmax turns the scores into
probabilities that add up to 100%.</p>
<h3>Training the network</h3>
<p>In the Training tab pick an architecture (the shapes beside it show every
layer's output), a learning rate and the digits to learn from, then press
<b>Start</b>. Each step shows the network one batch of digits, measures its
<i>loss</i> (how wrong it was), works out with backpropagation which way each weight
should move, and moves it a little (the learning rate says how far). One
<i>epoch</i> is one pass over all training digits. The thin line is every step's
loss; the dots are epoch averages and the held-out validation digits. When
validation stops improving while training still does, the network is learning the
training digits by heart (overfitting). <b>Pause</b> and <b>Step one batch</b> show
one update at a time; the Network tab's filters change as it learns.</p>
<p><b>Try it:</b> draw a 7, then add a bar across it and watch which feature maps
change. Click any map or filter to see its numbers. Train a fresh network in the
Training tab and watch the filters turn from noise into stroke detectors.</p>
"""


class _PageLayout(QVBoxLayout):
    """A tab page's layout that takes the height it is given.

    Word-wrapped labels make a layout report a height-for-width computed from
    preferred sizes, and QScrollArea would then scroll pages that fit perfectly.
    """

    def hasHeightForWidth(self):
        return False


def _page(content):
    page = QWidget()
    layout = _PageLayout(page)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(content)
    return page


def _scrolled(widget):
    """widget inside a scroll area, so a tall or wide tab never forces the window
    beyond a small laptop screen."""
    area = QScrollArea()
    area.setWidget(_page(widget))
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.NoFrame)
    return area


class MainWindow(QMainWindow):
    """The ConvLab window: it holds the widgets, its Controller does the work."""

    recent_model_chosen = pyqtSignal(str)
    digit_key_pressed = pyqtSignal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("MainWindow")
        self.setWindowTitle("ConvLab")
        # Stored values that cannot be used are set aside (settings.set_aside); the
        # controller reports them once the start-up is done.
        self.settings = Settings()

        self.input_panel = InputPanel()
        self.input_panel.setFixedWidth(INPUT_WIDTH)
        self.prediction_panel = PredictionPanel()
        self.network_view = NetworkView()
        self.training_panel = TrainingPanel()
        self.my_digits_panel = MyDigitsPanel()
        self.evaluation_panel = EvaluationPanel()
        self.playground_panel = PlaygroundPanel()
        self.why_panel = WhyPanel()
        self.lessons_panel = LessonsPanel()
        self.detail_view = DetailView(self)

        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Views")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.network_view, "Network")
        self.tabs.addTab(_scrolled(self.training_panel), "Training")
        self.tabs.addTab(_scrolled(self.my_digits_panel), "My digits")
        self.tabs.addTab(_scrolled(self.evaluation_panel), "Evaluation")
        self.tabs.addTab(_scrolled(self.playground_panel), "Playground")
        self.tabs.addTab(_scrolled(self.why_panel), "Why")
        self.tabs.addTab(_scrolled(self.lessons_panel), "Lessons")
        tips = (
            "Every layer's output for the current input, left to right.",
            "Design a network and train it; watch the curves and the feature maps.",
            "Teach the network your handwriting: label your own drawings (press a "
            "digit key) and fine-tune on them.",
            "How good is the network on digits it never saw, and where does it fail?",
            "Try your own kernels, stride, padding and pooling on your digit.",
            "Why did it say that? Which pixels raised or lowered each digit's score.",
            "Guided exercises: predict an answer, then see the app compute it.",
        )
        for i, tip in enumerate(tips):
            self.tabs.setTabToolTip(i, tip)

        # The input column scrolls on short screens, so nothing in it is cut off.
        self._input_column = QScrollArea()
        self._input_column.setObjectName("InputColumn")
        self._input_column.setWidget(self.input_panel)
        self._input_column.setWidgetResizable(True)
        self._input_column.setFrameShape(QScrollArea.NoFrame)
        self._input_column.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        scroll_bar = self._input_column.verticalScrollBar().sizeHint().width()
        self._input_column.setFixedWidth(INPUT_WIDTH + scroll_bar)
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(8, 8, 8, 4)
        layout.setSpacing(10)
        layout.addWidget(self._input_column)
        layout.addWidget(self.tabs, 1)
        self._side = QVBoxLayout()
        self._side.addStretch(1)
        layout.addLayout(self._side)
        self.setCentralWidget(central)
        self._narrow = None
        self._arrange_columns(self.width())

        self._model_label = QLabel()
        self._model_label.setAccessibleName("Current model")
        self._model_label.setToolTip("Which weights the network uses right now.")
        self._data_label = QLabel()
        self._data_label.setAccessibleName("Current dataset")
        self._data_label.setToolTip("The digits used for test images and training.")
        self._training_label = QLabel()
        for label in (self._training_label, self._data_label, self._model_label):
            self.statusBar().addPermanentWidget(label)

        self._make_menus()
        self.set_recent_models(self.settings.read("recentModels", [], list))
        self.resize(1280, 800)
        self._restore_state()
        self.fit_to_screen()
        self.controller = Controller(self)
        self.controller.session.state_changed.connect(self._on_session_state_changed)

    def _action(self, menu, text, tip, shortcut=None):
        action = QAction(text, self)
        action.setStatusTip(tip)
        action.setToolTip(tip)
        if shortcut is not None:
            action.setShortcut(shortcut)
        menu.addAction(action)
        return action

    def _make_menus(self):
        bar = self.menuBar()
        file = bar.addMenu("&File")
        self.new_action = self._action(
            file, "&New network", "Start again from random weights (an untrained "
            "network guesses about 10% right).", QKeySequence.New)
        self.open_action = self._action(
            file, "&Open model…", "Load a saved network (.npz).", QKeySequence.Open)
        self.recent_menu = file.addMenu("Open &recent")
        self.save_action = self._action(
            file, "&Save model", "Save the current weights to the model's file.",
            QKeySequence.Save)
        self.save_as_action = self._action(
            file, "Save model &as…", "Save the current weights to a new file.",
            QKeySequence.SaveAs)
        file.addSeparator()
        self.open_data_action = self._action(
            file, "Open &dataset folder…", "Use the MNIST files in a folder of your "
            "choice for test images, evaluation and training.")
        self.download_action = self._action(
            file, "Down&load MNIST…", "Download the 70,000 MNIST digits (about 11 MB) "
            "into your cache folder.")
        self.open_lessons_action = self._action(
            file, "Open l&essons folder…", "Load the lessons (*.json) of a folder, "
            "e.g. ones your teacher wrote, into the Lessons tab.")
        self.export_figure_action = self._action(
            file, "Export &figure of this tab…", "Save the tab on show as a PNG "
            "picture, as it is now, for notes or a report.")
        self.export_figure_action.triggered.connect(self.export_figure)
        self.export_action = self._action(
            file, "&Export to PyTorch…", "Write the network as a PyTorch file, to keep "
            "going with a full deep-learning library.")
        file.addSeparator()
        self.quit_action = self._action(file, "&Quit", "Close ConvLab.",
                                        QKeySequence.Quit)
        self.quit_action.triggered.connect(self.close)

        edit = bar.addMenu("&Edit")
        self.undo_action = self._action(
            edit, "&Undo stroke", "Take back the last stroke.", QKeySequence.Undo)
        self.clear_action = self._action(
            edit, "&Clear canvas", "Wipe the drawing.", QKeySequence.Delete)

        view = bar.addMenu("&View")
        names = ("Network", "Training", "My digits", "Evaluation", "Playground",
                 "Why", "Lessons")
        for i, name in enumerate(names):
            action = self._action(view, f"&{name}", f"Show the {name} tab.",
                                  f"Ctrl+{i + 1}")
            action.triggered.connect(lambda _=False, i=i: self.tabs.setCurrentIndex(i))
        view.addSeparator()
        # Enabled for a network with batch norm; the controller wires it.
        self.batch_norm_action = self._action(
            view, "&Batch normalization…", "Open the batch normalization view of "
            "the network: each channel's batch mean and variance, γ and β, the "
            "running statistics and your digit in training versus eval (only for a "
            "network with batch norm).")
        self.batch_norm_action.setEnabled(False)

        help_menu = bar.addMenu("&Help")
        guide = self._action(help_menu, "How a CNN sees your digit",
                             "A two-minute tour of what each column shows.",
                             QKeySequence.HelpContents)
        guide.triggered.connect(self.show_guide)
        about = self._action(help_menu, "&About ConvLab", "Version and credits.")
        about.triggered.connect(self._on_about_action_triggered)

    def set_recent_models(self, paths):
        """List the recently used model files in File > Open recent."""
        self.recent_menu.clear()
        for path in paths:
            action = self.recent_menu.addAction(path)
            action.triggered.connect(
                lambda _=False, p=path: self.recent_model_chosen.emit(p))
        self.recent_menu.setEnabled(bool(paths))

    def set_model_note(self, text):
        """Say in the status bar which weights are in use."""
        self._model_label.setText(f"Model: {text}")

    def set_dataset_note(self, text, training=None):
        """Say in the status bar which dataset is loaded (text: its name or None).

        training names the data the Training tab trains on when that is not the
        loaded dataset (e.g. the generated digits), so the window always says it.
        """
        loaded = text.split(" from ")[0] if text else None
        if training and loaded:
            label = f"Data: {loaded}; training on {training.split(' from ')[0]}"
        elif training:
            label = f"Data: {training.split(' from ')[0]} (training only)"
        else:
            label = f"Data: {loaded or 'none loaded'}"
        self._data_label.setText(label)
        tip = text or ("No dataset loaded for test images and evaluation: File > "
                       "Open dataset folder or Download MNIST to load digits.")
        if training:
            tip += f"\nTraining uses {training}."
        self._data_label.setToolTip(tip)

    def dataset_note(self):
        """The status bar's text about the data."""
        return self._data_label.text()

    def set_training_note(self, text):
        """Say in the status bar whether training runs."""
        self._training_label.setText(text)

    def training_note(self):
        """The status bar's text about training ("" when no run is going)."""
        return self._training_label.text()

    def _on_session_state_changed(self, state):
        self.set_training_note(TRAINING_NOTES.get(state, ""))

    def export_figure(self):
        """File > Export figure: the current tab's whole page as a PNG."""
        page = self.tabs.currentWidget()
        if isinstance(page, QScrollArea):
            page = page.widget()  # the whole page, also the part scrolled away
        name = f"convlab-{TABS[self.tabs.currentIndex()]}"
        return figures.export_widget(self, page, name)

    def show_tab(self, name):
        """Switch to a tab by name, one of TABS."""
        self.tabs.setCurrentIndex(TABS.index(name))

    def show_guide(self):
        """Open the short guide in a non-modal window."""
        dialog = QDialog(self)
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.setWindowTitle("How a CNN sees your digit")
        text = QTextBrowser()
        text.setHtml(GUIDE)
        QVBoxLayout(dialog).addWidget(text)
        dialog.resize(560, 560)
        dialog.show()
        return dialog

    def _on_about_action_triggered(self):
        dialogs.show_message(
            self, "info", "About ConvLab",
            f"ConvLab {__version__}\n\nA teaching lab for convolutional networks. "
            "The network, its training and its gradients are written from scratch in "
            "NumPy, so every number you see can be traced back to a few lines of "
            "readable code.")

    def fit_to_screen(self):
        """Shrink and move the window so all of it lies on the screen it is on.

        A size saved on a big monitor must not open a window half off a laptop's
        screen, with its buttons out of reach.
        """
        screen = (QApplication.screenAt(self.frameGeometry().center())
                  or QApplication.primaryScreen())
        if screen is None:
            return
        room = screen.availableGeometry()
        if self.isMaximized() or self.isFullScreen():
            return  # the window manager fits those
        # The frame (title bar, borders) around the window needs room too.
        frame_w = self.frameGeometry().width() - self.geometry().width()
        frame_h = self.frameGeometry().height() - self.geometry().height()
        width = min(self.width(), room.width() - frame_w)
        height = min(self.height(), room.height() - frame_h)
        if (width, height) != (self.width(), self.height()):
            self.resize(width, height)
        frame = self.frameGeometry()
        x = min(max(frame.left(), room.left()), room.right() + 1 - frame.width())
        y = min(max(frame.top(), room.top()), room.bottom() + 1 - frame.height())
        if (x, y) != (frame.left(), frame.top()):
            self.move(x, y)

    def _restore_state(self):
        read = self.settings.read
        geometry = read("window/geometry", QByteArray(), QByteArray)
        if not geometry.isEmpty() and not self.restoreGeometry(geometry):
            self.settings.set_aside.append(("window/geometry",
                                            "not a saved window layout"))
        self.tabs.setCurrentIndex(
            read("window/tab", 0, int, lambda i: 0 <= i < self.tabs.count()))
        slider = self.input_panel.brush_slider
        brush = read("input/brush", 0, int,
                     lambda b: slider.minimum() <= b <= slider.maximum())
        if brush:
            slider.setValue(brush)

    def restore_training_settings(self):
        """Show the Training tab's last settings (bad stored values: defaults)."""
        text = self.settings.read("training/settings", "", str)
        if not text:
            return
        try:
            state = json.loads(text)
        except ValueError:
            state = None
        if not isinstance(state, dict):
            self.settings.set_aside.append(("training/settings",
                                            "not a saved set of choices"))
            return
        self.training_panel.restore_state(state)

    def _arrange_columns(self, width):
        """The prediction beside the tabs on wide windows, under the canvas on
        narrow ones."""
        narrow = width < NARROW_WIDTH
        if narrow == self._narrow:
            return
        self._narrow = narrow
        if narrow:
            self.prediction_panel.setFixedWidth(INPUT_WIDTH)
            self.input_panel.place_below_canvas(self.prediction_panel)
        else:
            self.prediction_panel.setFixedWidth(PREDICTION_WIDTH)
            self._side.insertWidget(0, self.prediction_panel)
        self.prediction_panel.show()

    def resizeEvent(self, event):
        self._arrange_columns(event.size().width())
        super().resizeEvent(event)

    def keyPressEvent(self, event):
        # Digit keys that no focused field used label the drawing for My digits.
        # Not QShortcuts: those would steal digits from spin boxes and kernel cells.
        key, modifiers = event.key(), event.modifiers() & ~Qt.KeypadModifier
        if Qt.Key_0 <= key <= Qt.Key_9 and modifiers == Qt.NoModifier:
            self.digit_key_pressed.emit(key - Qt.Key_0)
            event.accept()
            return
        super().keyPressEvent(event)

    def closeEvent(self, event):
        if not self.controller.model_files.confirm_discard("closing ConvLab"):
            event.ignore()  # Cancel, or a save that failed: keep everything open
            return
        save = self.settings.save  # nothing is stored for screenshots
        save("window/geometry", self.saveGeometry())
        save("window/tab", self.tabs.currentIndex())
        save("input/brush", self.input_panel.brush_slider.value())
        save("training/settings", json.dumps(self.training_panel.saved_state()))
        # The one way out: the controller stops training and every room's background
        # work and joins their threads before the window (and the QThread objects it
        # owns) can go away.
        self.controller.shutdown()
        super().closeEvent(event)
