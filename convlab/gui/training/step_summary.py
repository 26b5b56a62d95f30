"""StepSummaryView: what one "Step one batch" changed, layer by layer.

Shows a lab.update.BatchUpdate (measured by the training worker, in the thread that
writes the weights, around the step): the batch's loss before and after the update
and, per layer with weights, |W|, |dW|, lr * |dW| / |W| and the measured
|ΔW| / |W|. Setter slots: show_update(update), clear(). Query: shown().
"""

import math

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QLabel

from convlab.gui.common.widgets import teach

SUMMARY_TIP = (
    "How big was this step? For each layer with weights (biases not counted): |W| "
    "is the size of its weights (the square root of the sum of their squares), |dW| "
    "the size of the loss's gradient on this batch, lr × |dW| / |W| how far a plain "
    "SGD step w − lr × dW would move them relative to their size, and |ΔW| / |W| "
    "how far the optimizer really moved them, measured before and after the step. "
    "A step of about 0.001 (0.1%) of the weights is typical; much larger and "
    "training jumps around, much smaller and it crawls. Adam divides each weight's "
    "step by its recent gradient size, so its |ΔW| / |W| can differ a lot from "
    "lr × |dW| / |W|. The losses are on this step's batch, in evaluation mode "
    "(no dropout, batch norm's running statistics), before and after the update."
)


def _ratio(value):
    """A ratio as a percentage with three significant digits, or a dash for NaN."""
    return "–" if math.isnan(value) else f"{100 * value:.3g}%"


class StepSummaryView(QLabel):
    """A small table of one step's update sizes, with the batch loss before/after."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._update = None
        teach(self, "What the last step changed", SUMMARY_TIP)
        self.setTextFormat(Qt.RichText)
        self.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.clear()

    def show_update(self, update):
        """Show a BatchUpdate."""
        self._update = update
        change = update.loss_after - update.loss_before
        rows = "".join(
            f"<tr><td>{layer.layer_index} {layer.kind}</td>"
            f"<td align='right'>{layer.weight_norm:.4g}</td>"
            f"<td align='right'>{layer.grad_norm:.3g}</td>"
            f"<td align='right'>{_ratio(layer.sgd_ratio)}</td>"
            f"<td align='right'><b>{_ratio(layer.change_ratio)}</b></td></tr>"
            for layer in update.layers)
        # Two short lines and a narrow table: on one line the sentence widened the
        # whole Training tab beyond a 1024 or 1280 px window.
        self.setText(
            f"<b>Step {update.step}</b> on {update.batch_size} images, lr = "
            f"{update.lr:g}:<br>the loss on this batch went from "
            f"<b>{update.loss_before:.4f}</b> to <b>{update.loss_after:.4f}</b> "
            f"({change:+.4f})."
            "<table cellspacing='0' cellpadding='3'>"
            "<tr><th align='left'>model layer</th><th>|W|</th><th>|dW|</th>"
            "<th>lr × |dW| / |W|</th><th>|ΔW| / |W|<br>measured</th></tr>"
            f"{rows}</table>")
        self.setVisible(True)

    def clear(self):
        """Nothing measured yet (or a new run): hide."""
        self._update = None
        self.setText("")
        self.setVisible(False)

    def shown(self):
        """The BatchUpdate on show, or None."""
        return self._update
