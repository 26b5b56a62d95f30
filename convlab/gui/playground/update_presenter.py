"""UpdatePresenter: one gradient-descent step of the open network filter.

Fed by the FilterPresenter (which filter is open, the model, the input), it feeds
an UpdateView with lab.update.filter_step for the open filter, applies the step
and undoes it through the FilterPresenter's edit path (the GUI's model and, via the
runner, the live model), and checks the gradient of a clicked weight with
lab.update.gradient_check. It computes only while the view is open: a step costs
two backward passes.
"""

import numpy as np
from PyQt5.QtCore import QObject

from convlab.lab.filter_edits import conv_filter, restore_command, sgd_step_command
from convlab.lab.update import filter_step, gradient_check, predicted_digit


class UpdatePresenter(QObject):
    """Show, apply and undo one SGD step of the open filter; check its gradients."""

    def __init__(self, view, apply, parent=None):
        """apply(command) runs an edit on the GUI's model and the live model and
        shows the open filter afresh (FilterPresenter's edit path)."""
        super().__init__(parent)
        self._view = view
        self._apply = apply
        self._model = None
        self._image = None
        self._filter = None  # (layer_index, filter_index, channel) or None
        self._step = None  # the FilterStep on show
        self._digit = None  # the target digit of that step
        # Applied steps, newest last: (layer_index, filter_index, (weight, bias)
        # before, weight after). Undo puts "before" back, bit for bit.
        self._undo = []
        view.shown_changed.connect(self._on_view_shown_changed)
        view.target_changed.connect(self._on_view_target_changed)
        view.lr_changed.connect(self._on_view_lr_changed)
        view.apply_requested.connect(self._on_view_apply_requested)
        view.undo_requested.connect(self._on_view_undo_requested)
        view.weight_clicked.connect(self.check_gradient)

    def set_model(self, model):
        """The model the GUI shows (its filter edits are this presenter's edits)."""
        self._model = model
        self._undo = []

    def set_image(self, image):
        """The current input, (28, 28), or None."""
        self._image = image
        self.refresh()

    def set_filter(self, layer_index, filter_index, channel):
        """The open filter and channel, or layer_index None when none is open."""
        opened = None if layer_index is None else (layer_index, filter_index, channel)
        if opened is None or self._filter is None or opened[:2] != self._filter[:2]:
            self._undo = []
            self._view.set_result("")
        self._filter = opened
        self._view.clear_check()
        self._view.set_undo_enabled(bool(self._undo))
        self.refresh()

    def set_learning_rate(self, lr):
        """The Training tab's learning rate (the student may change it here)."""
        self._view.set_lr(lr)
        self.refresh()

    def refresh(self):
        """Recompute the step for the filter as it is now (after an edit, training,
        a new input, target or learning rate)."""
        if not self._view.is_shown() or self._filter is None or self._model is None:
            return
        if self._image is None:
            self._step = None
            self._view.show_problem(
                "Draw a digit (or pick a test digit): the gradient is the loss's "
                "gradient for one input.")
            return
        layer_index, filter_index, channel = self._filter
        target = self._view.target()
        self._digit = (predicted_digit(self._model, self._image) if target is None
                       else target)
        try:
            self._step = filter_step(self._model, self._image, self._digit,
                                     layer_index, filter_index, self._view.lr())
        except ValueError as problem:
            self._step = None
            self._view.show_problem(f"No step: {problem}.")
            return
        self._view.show_step(self._step, channel, self._digit_text())

    def check_gradient(self, row, col):
        """Check the gradient of weight (row, col) of the open channel."""
        if (not self._view.is_shown() or self._filter is None or self._image is None
                or self._digit is None):
            return
        layer_index, filter_index, channel = self._filter
        weight, _ = conv_filter(self._model, layer_index, filter_index)
        check = gradient_check(self._model, self._image, self._digit, layer_index,
                               filter_index, channel, row, col)
        self._view.set_check(check, float(weight[channel, row, col]),
                             self._digit_text())

    def step(self):
        """The FilterStep on show, or None."""
        return self._step

    # Slots.

    def _on_view_shown_changed(self, shown):
        if shown:
            self.refresh()

    def _on_view_target_changed(self, _):
        self._view.clear_check()
        self.refresh()

    def _on_view_lr_changed(self, _):
        self.refresh()

    def _on_view_apply_requested(self):
        step = self._step
        if step is None:
            return
        layer_index, filter_index, _ = self._filter
        before = conv_filter(self._model, layer_index, filter_index)
        self._apply(sgd_step_command(layer_index, filter_index, step.weight,
                                     step.grad_weight, step.lr, step.bias,
                                     step.grad_bias))
        after, _ = conv_filter(self._model, layer_index, filter_index)
        self._undo.append((layer_index, filter_index, before, after))
        self._view.set_undo_enabled(True)
        self._view.set_result(
            f"Applied one step with lr = {step.lr:g}: the loss for "
            f"{self._digit_text(step.target)} went from {step.loss_before:.2f} to "
            f"{step.loss_after:.2f}. The grids now show the next step.")

    def _on_view_undo_requested(self):
        if not self._undo:
            return
        layer_index, filter_index, (weight, bias), after = self._undo[-1]
        now, _ = conv_filter(self._model, layer_index, filter_index)
        if not np.array_equal(now, after):
            # Training or an edit moved the filter since: putting the old values
            # back would silently throw that away.
            self._view.set_result(
                "Not undone: the filter has changed since the step (training or "
                "an edit). Reset puts back its learned values.")
            return
        self._undo.pop()
        self._apply(restore_command(layer_index, filter_index, weight, bias))
        self._view.set_undo_enabled(bool(self._undo))
        loss = "" if self._step is None else (
            f"; the loss for {self._digit_text()} is {self._step.loss_before:.2f} "
            "again")
        self._view.set_result(
            f"Undone: the filter has its weights and bias from before the step{loss}.")

    def _digit_text(self, digit=None):
        """How the loss's digit is named: "this 3" when it is the predicted digit,
        "the digit 5" when the student chose it."""
        digit = self._digit if digit is None else digit
        predicted = self._view.target() is None
        return f"this {digit}" if predicted else f"the digit {digit}"
