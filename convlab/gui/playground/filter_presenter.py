"""FilterPresenter: a trained conv filter opened in the Playground.

It keeps which filter is open and its learned values, sends every edit to the GUI's
model and, through the runner, to the live model, feeds the FilterToolsPanel (the
probabilities with the learned filter and now), measures test accuracy in the
background and hands the open filter to its UpdatePresenter (self.update: one
gradient-descent step, Apply, Undo and the gradient check).

Signals:
    filter_opened(str, int, int)  title, the layer's stride and padding: the host
                                  shows the filter's own setting
    filter_closed()               back to the student's own kernel
    kernel_changed(object)        the open channel's kernel (kh, kw) to show, after
                                  an open, a channel change, an edit or training
    model_edited()                an edit changed the model given in set_model
"""

import numpy as np
from PyQt5.QtCore import QObject, pyqtSignal

from convlab.evaluation import class_scores, evaluate
from convlab.gui.common.tasks import BackgroundTask, TaskList
from convlab.gui.playground.filter_tools import ACCURACY_IMAGES
from convlab.gui.playground.update_presenter import UpdatePresenter
from convlab.lab.filter_edits import (
    conv_filter,
    filter_input,
    freeze_command,
    is_frozen,
    restore_command,
    set_channel_command,
    switch_off_command,
    with_filter,
)
from convlab.nn.functional import softmax
from convlab.nn.layers import Conv2d


def _probabilities(model, image):
    """Class probabilities (K,) of `model` for one (H, W) image."""
    return softmax(class_scores(model, image[None, None]))[0]  # (1, 1, H, W) in


def _accuracies(now, learned, x, y, cancelled):
    """(accuracy now, accuracy with the learned filter, images) on x (N, 1, H, W);
    cancelled() stops it between batches."""
    return (evaluate(now, x, y, cancelled=cancelled)["accuracy"],
            evaluate(learned, x, y, cancelled=cancelled)["accuracy"], len(x))


class FilterPresenter(QObject):
    """Open, edit, switch off, freeze, reset and measure one trained conv filter."""

    filter_opened = pyqtSignal(str, int, int)
    filter_closed = pyqtSignal()
    kernel_changed = pyqtSignal(object)
    model_edited = pyqtSignal()

    def __init__(self, tools, parent=None):
        super().__init__(parent)
        self._tools = tools
        self._image = None
        self._model = None
        self._runner = None
        self._test_data = None
        self._filter = None  # (layer_index, filter_index, channel) when one is open
        self._learned = {}  # (layer_index, filter_index) -> (weight, bias) first seen
        # (layer_index, filter_index) -> (weight, bias) just before "Switch off".
        self._before_off = {}
        self._measuring = TaskList()  # running accuracy measurements
        # Counts set_model calls: a measurement started on an earlier model is stale.
        self._model_version = 0
        # Both depend on the input and on other layers only, not on the open filter:
        # cached so that typing into a deep filter stays fast.
        self._below = None  # the open filter's input channel, (H, W)
        self._learned_probs = None  # probabilities with the open filter as learned
        tools.switch_off_requested.connect(self._on_tools_switch_off_requested)
        tools.switch_on_requested.connect(self._on_tools_switch_on_requested)
        tools.freeze_toggled.connect(self._on_tools_freeze_toggled)
        tools.reset_requested.connect(self._on_tools_reset_requested)
        tools.accuracy_requested.connect(self._on_tools_accuracy_requested)
        tools.channel_changed.connect(self._on_tools_channel_changed)
        tools.close_requested.connect(self.close)
        self.update = UpdatePresenter(tools.update_view, self._apply_and_show, self)

    def is_open(self):
        """Whether a network filter is open."""
        return self._filter is not None

    def set_image(self, image):
        """The current input, float64 (28, 28), or None (blank)."""
        self._image = image
        self._forget_cached()
        self._update_probabilities()
        self.update.set_image(image)

    def set_model(self, model):
        """The model the GUI shows; a new one forgets open filters and saved values."""
        if model is self._model:
            return
        self._model = model
        self.update.set_model(model)
        self._model_version += 1
        self._learned = {}
        self._before_off = {}
        self._forget_cached()
        if self._filter is not None:
            self.close()

    def set_command_runner(self, runner):
        """runner(fn) applies fn(model) to the live model (TrainingSession.submit)."""
        self._runner = runner

    def set_test_data(self, x, y):
        """Test images x (N, 1, 28, 28) and labels y (N,) for measuring accuracy."""
        self._test_data = (x[:ACCURACY_IMAGES], y[:ACCURACY_IMAGES])

    def open_filter(self, layer_index, filter_index):
        """Open filter `filter_index` of the conv layer model.layers[layer_index]."""
        if self._model is None or not isinstance(self._model.layers[layer_index],
                                                 Conv2d):
            return
        self._forget_cached()
        key = (layer_index, filter_index)
        if key not in self._learned:
            self._learned[key] = conv_filter(self._model, layer_index, filter_index)
        self._filter = (layer_index, filter_index, 0)
        layer = self._model.layers[layer_index]
        convs = [i for i, lay in enumerate(self._model.layers)
                 if isinstance(lay, Conv2d)]
        # Layers, filters and channels count from 0, as in Python and the Network tab.
        title = (f"Conv layer {convs.index(layer_index)} (model layer "
                 f"{layer_index}), filter {filter_index} of "
                 f"0..{layer.out_channels - 1}")
        self._tools.show_filter(title, layer.in_channels, 0,
                                is_frozen(self._model, layer_index, filter_index))
        self.filter_opened.emit(title, layer.stride[0], layer.padding[0])
        self._show_open_channel()
        self._update_probabilities()
        self.update.set_filter(layer_index, filter_index, 0)

    def close(self):
        """Stop editing the network's filter."""
        self._filter = None
        self.update.set_filter(None, None, None)
        self._tools.show_no_filter()
        self.filter_closed.emit()

    def follow_model(self):
        """The model's weights changed (training): show the open filter as it is now."""
        self._forget_cached()
        self._show_open_channel()
        self._update_probabilities()
        self.update.refresh()

    def check_gradient(self, row, col):
        """The student clicked weight (row, col) of the open channel: check it."""
        if self._filter is not None:
            self.update.check_gradient(row, col)

    def set_learning_rate(self, lr):
        """The Training tab's learning rate, for the one-step view."""
        self.update.set_learning_rate(lr)

    def edit_kernel(self, kernel):
        """The student typed a new kernel (kh, kw) into the open channel."""
        layer_index, filter_index, channel = self._filter
        self._apply(set_channel_command(layer_index, filter_index, channel, kernel))

    def view_input(self, image):
        """(the (H, W) map the open channel slides over, its filter's bias, a title)."""
        layer_index, filter_index, channel = self._filter
        _, bias = conv_filter(self._model, layer_index, filter_index)
        bias = 0.0 if bias is None else float(bias)
        if layer_index == 0:
            return image, bias, "Padded input"
        if self._below is None:
            self._below = filter_input(self._model, image, layer_index, channel)
        return (self._below, bias, f"Input: channel {channel} of layer "
                f"{layer_index - 1}")

    def conv_title(self):
        """A deep filter reads many channels; the view shows one channel's share."""
        layer_index, _, channel = self._filter
        if self._model.layers[layer_index].in_channels > 1:
            return f"Channel {channel}'s share (+ bias)"
        return "Convolution output"

    def shutdown(self):
        """Stop a running accuracy measurement and join it (the window is closing)."""
        self._measuring.cancel_all_and_wait()

    def is_measuring(self):
        """True while a "Measure test accuracy now" measurement runs."""
        return self._measuring.running()

    # Slots.

    def _on_tools_switch_off_requested(self):
        layer_index, filter_index, _ = self._filter
        self._before_off[(layer_index, filter_index)] = conv_filter(
            self._model, layer_index, filter_index)
        self._apply(switch_off_command(layer_index, filter_index))
        self._show_open_channel()

    def _on_tools_switch_on_requested(self):
        layer_index, filter_index, _ = self._filter
        key = (layer_index, filter_index)
        weight, bias = self._before_off.pop(key, None) or self._learned[key]
        self._apply(restore_command(layer_index, filter_index, weight, bias))
        self._show_open_channel()

    def _on_tools_freeze_toggled(self, frozen):
        layer_index, filter_index, _ = self._filter
        self._apply(freeze_command(layer_index, filter_index, frozen))

    def _on_tools_reset_requested(self):
        layer_index, filter_index, _ = self._filter
        weight, bias = self._learned[(layer_index, filter_index)]
        self._apply(restore_command(layer_index, filter_index, weight, bias))
        self._show_open_channel()

    def _on_tools_channel_changed(self, channel):
        layer_index, filter_index, _ = self._filter
        self._filter = (layer_index, filter_index, channel)
        self._forget_cached()
        self._show_open_channel()
        self.update.set_filter(layer_index, filter_index, channel)

    def _on_tools_accuracy_requested(self):
        if self._test_data is None:
            self._tools.set_accuracy_text(
                "No test set loaded yet: open an MNIST folder first.")
            return
        layer_index, filter_index, _ = self._filter
        weight, bias = self._learned[(layer_index, filter_index)]
        # Private copies: the measurement never reads weights the worker is writing.
        now = with_filter(self._model, layer_index, filter_index,
                          *conv_filter(self._model, layer_index, filter_index))
        learned = with_filter(self._model, layer_index, filter_index, weight, bias)
        x, y = self._test_data
        self._tools.set_busy(True)
        self._tools.set_accuracy_text(f"Measuring on {len(x):,} test images…")
        # What the result is about: it is shown only if this is still on screen.
        key = (self._model_version, layer_index, filter_index)
        task = BackgroundTask(lambda report: _accuracies(
            now, learned, x, y, task.is_cancelled), self)
        task.succeeded.connect(
            lambda result: self._on_measurer_succeeded(key, result))
        task.failed.connect(lambda message: self._on_measurer_failed(key, message))
        self._measuring.start(task)
        # Connected after start(): by then the list no longer counts this task.
        task.finished.connect(self._on_measurer_finished)

    def _measured_key(self):
        """(model version, layer, filter) of the filter on show, or None."""
        if self._filter is None:
            return None
        return (self._model_version, *self._filter[:2])

    def _on_measurer_succeeded(self, key, result):
        # A new model (or another filter) came in meanwhile: the figures are about
        # something no longer on screen.
        if key != self._measured_key():
            return
        now, learned, count = result
        self._tools.set_accuracy_text(
            f"Test accuracy on {count:,} images: <b>{now:.1%}</b> now, {learned:.1%} "
            f"with the learned filter (now − learned = {100 * (now - learned):+.1f} "
            "points)."
        )

    def _on_measurer_failed(self, key, message):
        if key == self._measured_key():
            self._tools.set_accuracy_text(f"Could not measure: {message}")

    def _on_measurer_finished(self):
        self._tools.set_busy(self.is_measuring())

    # Work.

    def _apply(self, command):
        """Run an edit on the GUI model now and on the live model through the runner."""
        command(self._model)
        if self._runner is not None:
            self._runner(command)
        self._show_switch_state()
        self._update_probabilities()
        self.update.refresh()
        self.model_edited.emit()

    def _apply_and_show(self, command):
        """An edit that rewrites the whole filter: apply it and show the new kernel."""
        self._apply(command)
        self._show_open_channel()

    def _show_open_channel(self):
        layer_index, filter_index, channel = self._filter
        weight, _ = conv_filter(self._model, layer_index, filter_index)
        self.kernel_changed.emit(weight[channel])
        self._show_switch_state()

    def _show_switch_state(self):
        """The switch reads "Turn back on" exactly while the whole filter is 0."""
        weight, bias = conv_filter(self._model, *self._filter[:2])
        self._tools.set_switched_off(not np.any(weight) and not np.any(bias))

    def _forget_cached(self):
        self._below = None
        self._learned_probs = None

    def _update_probabilities(self):
        if self._filter is None or self._image is None or self._model is None:
            return
        if self._learned_probs is None:
            layer_index, filter_index, _ = self._filter
            weight, bias = self._learned[(layer_index, filter_index)]
            learned = with_filter(self._model, layer_index, filter_index, weight, bias)
            self._learned_probs = _probabilities(learned, self._image)
        self._tools.set_probabilities(self._learned_probs,
                                      _probabilities(self._model, self._image))

