"""NetworkPresenter: what the Network tab and its enlarged view show, and when.

Redraws are throttled: request_refresh() asks for one, and when its time has come
refresh_due is emitted; whoever owns the current input then calls draw(x). While
training runs, the newest snapshot's activations are drawn as they are when they
are for the input on show, which keeps that forward pass off the GUI thread.
"""

import time

import numpy as np
from PyQt5.QtCore import QObject, QTimer, pyqtSignal

from convlab import explain
from convlab.gui.common.colormaps import GREY_CMAP, PROB_CMAP, SIGNED_CMAP
from convlab.gui.network.depth_presenter import DepthPresenter
from convlab.lab.backward import (
    default_target,
    enlarged_gradient_map,
    enlarged_weight_gradient,
    gradient_text,
    legend_tip,
    loss_note,
)
from convlab.lab.batch_norm import VIEW_POINTER
from convlab.lab.conv_depth import channel_sums
from convlab.lab.network import (
    conv_weights,
    enlarged_filter,
    enlarged_map,
    field_text,
    map_explanation,
    symmetric_levels,
)
from convlab.lab.snapshots import SNAPSHOT_INTERVAL_MS
from convlab.nn.functional import softmax
from convlab.nn.layers import BatchNorm2d

REFRESH_MS = 40  # at most 25 redraws a second while the student draws
# New weights come from the worker this often, and the views redraw as often.
TRAINING_REFRESH_MS = SNAPSHOT_INTERVAL_MS
DETAIL_INTERVAL = 0.25  # seconds between live updates of the enlarged view
FIELD_CACHE = 2048  # receptive fields kept, one per unit hovered (6 kB each)


class NetworkPresenter(QObject):
    """Draws a model's feature maps and filters for an input, and the enlarged view."""

    refresh_due = pyqtSignal()  # a requested redraw's time has come: call draw()
    weights_redrawn = pyqtSignal()  # draw() showed weights that had changed
    edit_filter_requested = pyqtSignal(int, int)  # conv layer index, filter index

    def __init__(self, view, detail_view, parent=None):
        super().__init__(parent)
        self.view = view
        self.detail_view = detail_view
        self.model = None  # the GUI's copy of the network, always in eval mode
        self._weights_changed = False  # filters need redrawing
        self._snapshot_outputs = None  # the newest training snapshot's activations
        self._detail = None  # (show function, column, index) of the enlarged view
        self._last_detail = 0.0  # time.monotonic() of its last live update
        self._input_changed = False  # since the last redraw
        self._last_refresh = 0.0  # time.monotonic() of the last redraw
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.refresh_due)
        self._label = None  # the input's true digit, when it is a test image
        self._weights_version = 0  # counts weight changes: a trace's weights
        self._trace = None  # the backward pass on show
        self._trace_key = None  # (weights version, input, target) it was made for
        self._last_target = 0  # the digit of the last backward pass
        self._x = np.zeros((28, 28))  # the input last drawn
        self._fields = {}  # (weights version, unit) -> (box, d(unit)/dx, text)
        self._hovered = None  # (column, map, row, col) under the mouse, if any
        bar = view.backward_bar
        bar.mode_changed.connect(self._on_bar_mode_changed)
        bar.target_changed.connect(self._on_bar_target_changed)
        bar.per_map_changed.connect(self._on_bar_per_map_changed)
        view.map_clicked.connect(self._on_view_map_clicked)
        view.filter_clicked.connect(self._on_view_filter_clicked)
        view.unit_hovered.connect(self._on_view_unit_hovered)
        detail_view.edit_filter_requested.connect(
            self._on_detail_view_edit_filter_requested)
        # The batch view and the batch-norm view.
        self.depth = DepthPresenter(view, detail_view, self)

    def set_model(self, model):
        """Show another network (the GUI's copy): new columns, no enlarged view."""
        self.model = model
        self._snapshot_outputs = None
        self._trace = None
        self._detail = None  # its column may not exist in the new network
        self.detail_view.close()
        self._hovered = None
        self._fields.clear()
        self.view.clear_field()
        probe = np.zeros((1, 1, 28, 28), np.float32)
        shapes = [a.shape for a in model.activations(probe)]
        self.view.set_layers(model.layers, shapes)
        self.depth.set_model(model)
        self.weights_changed()

    def set_test_images(self, images):
        """Test images (N, 1, 28, 28) for the batch views (None: generated ones)."""
        self.depth.set_test_images(images)

    def weights_changed(self, activations=None, interval_ms=REFRESH_MS,
                        training_batch=None):
        """The model's weights changed: redraw them within interval_ms.

        activations: a training snapshot's outputs, computed with these weights for
        the input the worker saw (None: compute them here); training_batch: the
        snapshot's images of the mini-batch trained on last (None: not training).
        """
        self._snapshot_outputs = activations
        self.depth.set_training_batch(training_batch)
        self._weights_changed = True
        self._weights_version += 1
        self.request_refresh(interval_ms)

    def input_changed(self, label=None):
        """A new input: redraw soon, and the enlarged view follows it at once.

        label: its true digit when it is a test image (None: unknown). A test image
        gives the backward pass its own digit as target again ("auto").
        """
        self._label = label
        if label is not None:
            self.view.backward_bar.set_target(None)
        self._input_changed = True
        self.request_refresh()

    def request_refresh(self, interval_ms=REFRESH_MS):
        """Redraw as soon as interval_ms have passed since the last redraw.

        All requests until then become one redraw, so the views never redraw more
        often than 1000 / interval_ms times a second, and never wait longer.
        """
        since = (time.monotonic() - self._last_refresh) * 1000.0
        delay = int(max(0.0, interval_ms - since))
        if not self._timer.isActive() or self._timer.remainingTime() > delay:
            self._timer.start(delay)

    def draw(self, x):
        """Draw every layer's output for input x (28, 28) (None: a blank input) and
        return the (1, 10) probabilities. A redraw still waiting is then not needed."""
        self._timer.stop()
        self._last_refresh = now = time.monotonic()
        if self._weights_changed:
            self._weights_changed = False
            self.view.set_filters(conv_weights(self.model))
            self.weights_redrawn.emit()
        probe = np.zeros((1, 1, 28, 28), np.float32) if x is None else \
            x[None, None].astype(np.float32)  # (1, 1, 28, 28)
        if not np.array_equal(probe[0, 0], self._x):
            self._x = probe[0, 0].astype(np.float64)
            self._fields.clear()  # effective fields are for one image
        probs = self._draw_backward(probe[0, 0]) if \
            self.view.backward_bar.is_backward() else None
        if probs is None:
            outputs = self._outputs_for(probe)
            probs = softmax(outputs[-1].astype(np.float64))  # (1, 10)
            self.view.set_activations(probe, outputs, probs)
        input_changed, self._input_changed = self._input_changed, False
        if (self._detail is not None and self.detail_view.isVisible()
                and (input_changed or now - self._last_detail >= DETAIL_INTERVAL)):
            # The enlarged map or filter follows a new input at once, and training
            # at a pace at which its numbers can still be read.
            self._last_detail = now
            show, column, index = self._detail
            show(column, index, bring_to_front=False)
        if self._hovered is not None:
            self._show_field(*self._hovered)  # for the new input or weights
        self.depth.set_input(x)
        self.depth.refresh(None if input_changed else now)
        return probs

    def shutdown(self):
        """No more redraws; the enlarged view closes (the window is closing)."""
        self._timer.stop()
        self.detail_view.close()
        self.depth.shutdown()
        self.view.release()

    def _draw_backward(self, x):
        """Draw the backward pass for x (28, 28) and the target; return the (1, 10)
        probabilities, or None when the model cannot be traced (the note says why).

        The trace is computed again only when the weights, the input or the target
        changed: a new scale or a switch back from Forward redraws the same one.
        """
        self._snapshot_outputs = None  # the forward pass comes with the trace
        bar = self.view.backward_bar
        target = bar.target()
        # The automatic target may depend on the prediction, which the trace
        # gives: guess the last target, and trace again only if the guess was off.
        guess = self._last_target if target is None else target
        try:
            trace = self._trace_for(x, guess)
            auto = default_target(trace.probabilities, self._label)
            if target is None and auto != guess:
                trace = self._trace_for(x, auto)
        except ValueError as exc:
            bar.set_note(f"The backward pass cannot be shown: {exc}")
            return None
        target = auto if target is None else target
        self._last_target = target
        bar.set_auto_target(auto, "prediction" if self._label is None
                            else "true digit")
        note = loss_note(trace.loss, trace.probabilities, target)
        blank = "" if x.any() else "Nothing drawn: these are the gradients for a " \
            "blank image. "
        bar.set_note(blank + note.text, note.offer)
        self.view.set_gradients(trace, target, bar.per_map())
        return trace.probabilities[None]  # (1, 10)

    def _trace_for(self, x, target):
        """explain.backprop(model, x, target), or the last trace if it is for the
        same weights, input and target (it costs about a millisecond)."""
        key = (self._weights_version, target)
        if (self._trace is None or self._trace_key[0] != key
                or not np.array_equal(self._trace_key[1], x)):
            self._trace = explain.backprop(self.model, x, target)
            self._trace_key = (key, x.copy())
        return self._trace

    def _outputs_for(self, probe):
        """Every layer's output of the model for probe (1, 1, 28, 28).

        The newest snapshot's count only if the worker saw this input: the student
        may have drawn since it took the snapshot.
        """
        outputs, self._snapshot_outputs = self._snapshot_outputs, None
        if outputs is not None:
            # Every later layer follows from the first one's output and the same
            # weights, so one cheap layer tells whether the snapshot is for probe.
            # (The model is always in evaluation mode, like activations().)
            first = self.model.layers[0].forward(probe)
            if first.shape == outputs[0].shape and np.allclose(
                    first, outputs[0], rtol=1e-4, atol=1e-6):
                return outputs
        return self.model.activations(probe)

    def _show_map(self, column, index, bring_to_front=True):
        titles = self.view.columns()
        last = len(titles) - 1
        name = titles[column].replace("\n", ", ")
        if self.view.is_backward() and column != last:
            self._show_gradient_map(name, column, index, bring_to_front)
            return
        a = self.view.activation(column)
        if self.view.is_backward():  # the probabilities the backward pass used
            a = self.view.gradient(column)[None]
        if a is None:
            return
        explanation = self._explanation(column, index)
        norm = 0 < column < last and isinstance(self.model.layers[column - 1],
                                                BatchNorm2d)
        if norm:
            explanation += " " + VIEW_POINTER
        shown = enlarged_map(name, a, index, explanation)
        # Pixels and probabilities have a fixed [0, 1] scale; the rest is signed.
        levels = (0.0, 1.0) if column in (0, last) else None
        cmap = GREY_CMAP if column == 0 else PROB_CMAP if column == last \
            else SIGNED_CMAP
        self.detail_view.show_array(shown.heading, shown.explanation, shown.values,
                                    levels, cmap, bring_to_front=bring_to_front,
                                    gaps=shown.gaps,
                                    batch_norm_ref=(column, max(index, 0)) if norm
                                    else None)

    def _explanation(self, column, index):
        """What the numbers of map index (-1: the vector) of a column mean."""
        last = len(self.view.columns()) - 1
        if column in (0, last):
            return map_explanation(None, index,
                                   "input" if column == 0 else "probabilities")
        # The last layer gives the ten class scores (a model must end in them).
        return map_explanation(self.model.layers[column - 1], index,
                               "scores" if column == last - 1 else "layer")

    def _show_gradient_map(self, name, column, index, bring_to_front):
        """The enlarged view of one map's dL/d(output) (dL/dx for the input)."""
        trace, target = self._trace, self._last_target
        grad = self.view.gradient(column)
        if column == 0:
            grad = grad[None]  # (1, 28, 28): the input is one map
        shown = enlarged_gradient_map(name, grad, index, trace.loss,
                                      trace.probabilities, target,
                                      is_input=column == 0)
        values = shown.values if shown.gaps is None else shown.values[~shown.gaps]
        levels = symmetric_levels(values, round_up=False)
        where = name if index < 0 else f"map {index} of {name}"
        tip = legend_tip(where, values, levels, False, trace.loss,
                         trace.probabilities, target,
                         "x" if column == 0 else "(output)",
                         "map" if index >= 0 else "vector")
        self.detail_view.show_array(shown.heading, shown.explanation, shown.values,
                                    levels, bring_to_front=bring_to_front,
                                    gaps=shown.gaps, legend_tip=tip,
                                    text_of=gradient_text)

    def _show_filter(self, column, index, bring_to_front=True):
        weights = self.view.filter_weights(column)
        if weights is None:
            return
        name = self.view.columns()[column].replace("\n", ", ")
        channel = self.view.filter_channels(column)[index]
        if self.view.is_backward():
            trace = self._trace
            shown = enlarged_weight_gradient(
                name, self.view.weight_gradient(column), index, channel, trace.loss,
                trace.probabilities, self._last_target)
            values = shown.values if shown.gaps is None else \
                shown.values[~shown.gaps]
            levels = symmetric_levels(values, round_up=False)
            tip = legend_tip(f"filter {index} of {name}", values, levels, False,
                             trace.loss, trace.probabilities, self._last_target, "W",
                             "filter")
            # No editing from here: the numbers on show are dW, not the filter.
            self.detail_view.show_array(shown.heading, shown.explanation,
                                        shown.values, levels,
                                        bring_to_front=bring_to_front,
                                        gaps=shown.gaps, legend_tip=tip,
                                        text_of=gradient_text)
            return
        layer = self.model.layers[column - 1]
        shown = enlarged_filter(name, weights, index, channel,
                                None if layer.bias is None else layer.bias.data)
        self.detail_view.show_array(shown.heading, shown.explanation, shown.values,
                                    filter_ref=(column, index),
                                    bring_to_front=bring_to_front, gaps=shown.gaps,
                                    channel_sums=self._channel_sums(column, index))

    def _channel_sums(self, column, index):
        """A deeper filter's partial maps for the input on show (None for a filter
        of one channel, or before anything was drawn)."""
        layer_input, output = (self.view.activation(c) for c in (column - 1, column))
        if layer_input is None or layer_input.shape[1] == 1:
            return None
        try:
            return channel_sums(self.model.layers[column - 1], layer_input, output,
                                index)
        except ValueError:  # NaN maps: the weights' own note says what happened
            return None

    def field(self, column, index, row, col):
        """(box, d(unit)/dx (28, 28), text) of a unit of a column's output, from
        the cache when the same unit was asked for the same input and weights.

        index is the map (row, col inside it) or, for a vector, the entry.
        """
        key = (self._weights_version, column, index, row, col)
        found = self._fields.get(key)
        if found is None:
            layer_index = column - 1  # column 0 is the input
            vector = self.view.column_kind(column) == "vector"
            name = self.view.columns()[column].replace("\n", ", ")
            if vector:
                box = explain.receptive_field(self.model, layer_index, 0, index)
                grad = explain.unit_gradient(self.model, self._x, layer_index,
                                             index, 0, 0)
                unit = f"Number {index} of {name}"
            else:
                box = explain.receptive_field(self.model, layer_index, row, col)
                grad = explain.unit_gradient(self.model, self._x, layer_index,
                                             index, row, col)
                unit = f"Map {index}, row {row}, column {col} of {name}"
            if len(self._fields) >= FIELD_CACHE:
                self._fields.clear()
            found = self._fields[key] = (box, grad, field_text(
                self.model, layer_index, unit, box))
        return found

    def _show_field(self, column, index, row, col):
        last = len(self.view.columns()) - 1
        if index < 0 or column in (0, last):  # the input and the probabilities
            self._hovered = None
            self.view.clear_field()
            return
        self._hovered = (column, index, row, col)
        try:
            self.view.show_field(*self.field(column, index, row, col))
        except ValueError as exc:  # a layer explain cannot follow
            self.view.clear_field()
            self.view.field_label.setText(f"No receptive field to show: {exc}")

    # Slots

    def _on_view_unit_hovered(self, column, index, row, col):
        self._show_field(column, index, row, col)

    def _on_bar_mode_changed(self, backward):
        # The enlarged view switches between the map and its gradient at once.
        self._input_changed = True
        self.request_refresh()

    def _on_bar_target_changed(self, target):
        self._input_changed = True
        self.request_refresh()

    def _on_bar_per_map_changed(self, per_map):
        self.request_refresh()

    def _on_view_map_clicked(self, column, index):
        self._detail = (self._show_map, column, index)
        self._show_map(column, index)

    def _on_view_filter_clicked(self, column, index):
        self._detail = (self._show_filter, column, index)
        self._show_filter(column, index)

    def _on_detail_view_edit_filter_requested(self, column, index):
        # Column 0 is the input, so the layer of column c is layer c - 1.
        self.edit_filter_requested.emit(column - 1, index)
