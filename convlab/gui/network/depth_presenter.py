"""DepthPresenter: the Network tab's windows that go past one image and one
channel: a conv layer on a batch (BatchView) and batch normalization
(BatchNormView).

Both read the GUI's copy of the network, which the controller fills from the
training worker's snapshots on this thread, so the live model being trained is
never read mid-step. The numbers come from lab.conv_depth and lab.batch_norm,
which only read the model.

Signals:
    batch_norm_offered(bool)   the network set has batch norm (True) or not: the
                               View menu's "Batch normalization…" follows it
"""

import time

from PyQt5.QtCore import QObject, pyqtSignal

from convlab.gui.network.batch_norm_view import BatchNormView
from convlab.gui.network.batch_view import BatchView
from convlab.lab.conv_depth import example_batch, layer_on_batch
from convlab.lab.snapshots import SNAPSHOT_BATCH
from convlab.nn.layers import BatchNorm2d

BATCH_IMAGES = 4  # the batch view's N: the student's digit and three others
BATCH_NORM_IMAGES = 16  # a batch of test images for batch norm when not training
LIVE_INTERVAL = 0.5  # seconds between live updates of these windows


class DepthPresenter(QObject):
    """Opens and updates the batch view and the batch-norm view."""

    batch_norm_offered = pyqtSignal(bool)

    def __init__(self, view, detail_view, parent=None):
        super().__init__(parent)
        self.view = view
        window = detail_view.parentWidget()
        self.batch_view = BatchView(window)
        self.batch_norm_view = BatchNormView(window)
        self.model = None
        self._x = None  # the student's input (28, 28), or None
        self._test_images = None  # (N, 1, 28, 28) or None
        self._training_batch = None  # the newest training mini-batch, or None
        self._batch_column = None  # the conv column on show in the batch view
        self._last_live = 0.0
        self._source_changed = False  # training started or stopped since a refresh
        detail_view.batch_requested.connect(self._on_detail_view_batch_requested)
        detail_view.batch_norm_requested.connect(
            self._on_detail_view_batch_norm_requested)
        self.view.backward_bar.batch_norm_requested.connect(
            self._on_bar_batch_norm_requested)

    def set_model(self, model):
        """Another network: its windows close; the bar offers batch norm if it has."""
        self.model = model
        self._training_batch = None
        self.batch_view.close()
        self.batch_norm_view.close()
        offered = bool(self.batch_norm_columns())
        self.view.backward_bar.set_batch_norm_offered(offered)
        self.batch_norm_offered.emit(offered)

    def set_test_images(self, images):
        """Test images (N, 1, 28, 28) for the batches shown (None: generated ones)."""
        self._test_images = images

    def set_training_batch(self, images):
        """The images of the mini-batch training used last (None: not training)."""
        # Training started or stopped: the batch-norm view says so at its next
        # refresh, without waiting for its live interval.
        self._source_changed |= (images is None) != (self._training_batch is None)
        self._training_batch = images

    def set_input(self, x):
        """The student's input (28, 28) or None."""
        self._x = x

    def batch_norm_columns(self):
        """The columns of the model's batch-norm layers."""
        if self.model is None:
            return []
        return [i + 1 for i, layer in enumerate(self.model.layers)
                if isinstance(layer, BatchNorm2d)]

    def refresh(self, now=None):
        """Update the windows on show for new weights or a new input, at most every
        LIVE_INTERVAL seconds (now=None: at once)."""
        if (now is not None and now - self._last_live < LIVE_INTERVAL
                and not self._source_changed):
            return
        self._source_changed = False
        self._last_live = time.monotonic() if now is None else now
        if self.batch_view.isVisible() and self._batch_column is not None:
            self.show_batch(self._batch_column, bring_to_front=False)
        if self.batch_norm_view.isVisible():
            self._show_batch_norm(None, None, bring_to_front=False)

    def shutdown(self):
        self.batch_view.close()
        self.batch_norm_view.close()

    def show_batch(self, column, bring_to_front=True):
        """The conv layer of ``column`` on the student's digit and test images."""
        self._batch_column = column
        images, names = example_batch(self._x, self._test_images, BATCH_IMAGES)
        name = self.view.columns()[column].replace("\n", ", ")
        try:
            run = layer_on_batch(self.model, column - 1, images)
        except ValueError as exc:  # e.g. weights blown up to NaN
            self.batch_view.show_error(name, str(exc), bring_to_front)
            return
        self.batch_view.show_run(name, run, names, bring_to_front)

    def show_batch_norm(self):
        """The batch-norm view of its first batch-norm layer, as the bar's button
        opens it (nothing for a network without batch norm)."""
        self._show_batch_norm(None, None)

    def _show_batch_norm(self, column, channel, bring_to_front=True):
        """The batch-norm view of ``column`` (None: the one on show, or the first)
        on the training mini-batch, else on test images."""
        columns = self.batch_norm_columns()
        if not columns:
            return
        if self._training_batch is not None:
            images = self._training_batch
            # Snapshots carry at most SNAPSHOT_BATCH images of a larger batch.
            source = (f"the first {len(images)} images of the current training "
                      f"mini-batch" if len(images) >= SNAPSHOT_BATCH else
                      f"the current training mini-batch ({len(images)} images)")
        else:
            images, _ = example_batch(None, self._test_images, BATCH_NORM_IMAGES)
            what = "test" if self._test_images is not None else "generated"
            source = f"{len(images)} {what} images"
        names = {c: self.view.columns()[c].replace("\n", ", ") for c in columns}
        self.batch_norm_view.show_layer(self.model, names, images, source, self._x,
                                        column, channel, bring_to_front)

    # Slots

    def _on_detail_view_batch_requested(self, column):
        self.show_batch(column)

    def _on_detail_view_batch_norm_requested(self, column, channel):
        self._show_batch_norm(column, channel)

    def _on_bar_batch_norm_requested(self):
        self.show_batch_norm()
