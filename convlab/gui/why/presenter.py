"""WhyPresenter: what the Why tab shows, computed off the GUI thread and throttled.

The controller calls show(x) on every redraw (a stroke, a training snapshot). Ten
saliency maps and an occlusion map cost tens of milliseconds, more than one frame,
so they are computed in a BackgroundTask on a copy of the network, at most once
every REFRESH_MS, and only while the tab is on screen: a hidden tab only notes
that it is behind and catches up when it is shown.
"""

import time

import numpy as np
from PyQt5.QtCore import QObject, QTimer, pyqtSignal

from convlab.gui.common.tasks import BackgroundTask, TaskList
from convlab.lab import why
from convlab.lab.snapshots import clone_model

REFRESH_MS = 250  # at most four explanations a second


class WhyPresenter(QObject):
    """Explains the current input with the GUI's copy of the network."""

    updated = pyqtSignal()  # a new explanation is on show

    def __init__(self, panel, parent=None, rng=None):
        super().__init__(parent)
        self.panel = panel
        self.model = None  # the GUI's copy of the network: read, copied, never written
        self._x = None  # the current input (28, 28), or None for nothing drawn
        self._shift = (0, 0)  # pixels down, right
        self._settings = (why.DEFAULT_PATCH, why.DEFAULT_STRIDE)  # last valid ones
        self._untrained = None  # the untrained twin, once the student asked for it
        self._rng = np.random.default_rng() if rng is None else rng
        self._started = 0  # counts explanations started
        self._dropped_up_to = 0  # results of explanations up to this number are old
        self._behind = False  # something changed since the last explanation started
        self._last_start = 0.0  # time.monotonic() of the last explanation started
        self._tasks = TaskList()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._on_timer_timeout)
        panel.occlusion_settings_changed.connect(
            self._on_panel_occlusion_settings_changed)
        panel.shift_requested.connect(self._on_panel_shift_requested)
        panel.shift_reset_requested.connect(self._on_panel_shift_reset_requested)
        panel.randomize_requested.connect(self._on_panel_randomize_requested)
        panel.shown.connect(self._on_panel_shown)
        panel.set_shift(0, 0, "")

    def set_model(self, model):
        """Explain with another network (the GUI's copy); a random twin of the old
        one no longer fits, so the comparison waits for a new one."""
        self.model = model
        self._dropped_up_to = self._started  # those under way used the old network
        self._untrained = None
        self.panel.hide_comparison()
        self._request()

    def show(self, x):
        """The input on show (28, 28), or None; called on every redraw."""
        self._x = None if x is None else np.array(x)
        self._request()

    def is_busy(self):
        """True while an explanation is being computed or one is waiting."""
        return self._tasks.running() or self._timer.isActive()

    def finish(self):
        """Bring the explanation up to date now, in this thread (start-up,
        screenshots): the one under way is waited for, a waiting one computed here."""
        self._timer.stop()
        for task in self._tasks:
            task.wait()
        if self._behind and self.panel.isVisible() and self.model is not None:
            self._behind = False
            self._started += 1
            self._dropped_up_to = self._started - 1  # results still queued are older
            if self._x is None:
                self.panel.set_nothing_drawn()
            else:
                self._show_result(self._explain(self.model, self._x)(), self._started)

    def shutdown(self):
        """No more explanations; the one under way is joined (window closing)."""
        self._timer.stop()
        self._behind = False
        self._tasks.cancel_all_and_wait()

    def _request(self):
        """Explain again soon: at once if the last start was REFRESH_MS ago, else
        when that time has come; a hidden tab waits until it is shown."""
        self._behind = True
        if not self.panel.isVisible() or self.model is None:
            return
        since = (time.monotonic() - self._last_start) * 1000.0
        delay = int(max(0.0, REFRESH_MS - since))
        if not self._timer.isActive() or self._timer.remainingTime() > delay:
            self._timer.start(delay)

    def _explain(self, model, x):
        """A function computing why.explain_input of x with model and the tab's
        shift, patch and twin as they are now (the task may run after they change)."""
        shift, (size, stride), untrained = self._shift, self._settings, self._untrained
        return lambda: why.explain_input(model, x, shift, size, stride, untrained)

    def _start(self):
        """Start one explanation of the current input on a copy of the network."""
        self._behind = False
        self._last_start = time.monotonic()
        self._started += 1
        number = self._started
        if self._x is None:
            self._dropped_up_to = number
            self.panel.set_nothing_drawn()
            self.updated.emit()
            return
        # Copies made here, in the GUI thread, between two snapshots: the task reads
        # them while view_model takes the next training snapshot.
        model, x = clone_model(self.model), self._x.copy()
        explain = self._explain(model, x)
        task = BackgroundTask(lambda report: explain(), parent=self)
        task.succeeded.connect(lambda result: self._show_result(result, number))
        task.failed.connect(self._on_task_failed)
        task.finished.connect(self._on_task_finished)
        self._tasks.start(task)

    def _show_result(self, result, number):
        """Show an Explanation, unless a newer one (or a new network) came first."""
        if number <= self._dropped_up_to:
            return
        self._dropped_up_to = number
        per_pixel = why.occlusion_per_pixel(result.occlusion, result.size,
                                            result.stride)
        self.panel.set_explanation(result, per_pixel, why.shared_levels(per_pixel))
        self.panel.set_shift(*result.shift, "" if result.shift == (0, 0) else
                             why.shift_change_text(result.unshifted,
                                                   result.probabilities))
        self.updated.emit()

    # Slots

    def _on_timer_timeout(self):
        if self._tasks.running():
            return  # its finished starts the next one
        self._start()

    def _on_task_failed(self, message):
        self.panel.set_unavailable(f"This network's answer cannot be explained: "
                                   f"{message}")
        self.updated.emit()

    def _on_task_finished(self):
        if self._behind:
            self._request()

    def _on_panel_occlusion_settings_changed(self, size, stride):
        problem = why.occlusion_problem(size, stride)
        self.panel.set_occlusion_message(problem or "")
        if problem is None:
            self._settings = (size, stride)
            self._request()

    def _on_panel_shift_requested(self, down, right):
        self._shift = why.clamp_shift(self._shift[0] + down, self._shift[1] + right)
        self._request()

    def _on_panel_shift_reset_requested(self):
        self._shift = (0, 0)
        self._request()

    def _on_panel_randomize_requested(self):
        if self.model is None:
            return
        try:
            self._untrained = why.untrained_twin(self.model, self._rng)
        except ValueError as exc:
            self._untrained = None
            self.panel.show_comparison(f"No random copy: {exc}.")
            return
        self.panel.show_comparison("")
        self._request()

    def _on_panel_shown(self):
        if self._behind:
            self._request()
