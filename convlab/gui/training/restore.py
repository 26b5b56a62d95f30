"""After an exploded loss: offer the run's restore points and put one back.

An exploded loss (train.Alarm "exploded") pauses the run before another step. The
tab explains it and offers the restore points the Trainer kept; the training thread
puts the chosen weights back (TrainingSession.submit) while the run goes on, or they
go back at once after it ended. A smaller learning rate and Resume carry on.
"""

from __future__ import annotations

from convlab.lab.snapshots import take_snapshot
from convlab.train import Trainer

# What the buttons after an exploded loss say, and what they put back.
RESTORE_BUTTONS = {
    "before_spike": ("Restore weights from before the spike", "from before the spike"),
    "start": ("Restore weights from the start of the run",
              "from the start of the run"),
}


class RestoreOffer:
    """The restore buttons of a TrainingSession's exploded runs, on its panel."""

    def __init__(self, session):
        self._session = session
        self._panel = None

    def bind_panel(self, panel) -> None:
        self._panel = panel

    def offer(self, trainer: Trainer, report) -> None:
        """Explain the AlarmReport ``report`` and offer its restore points."""
        if self._panel is None:
            return
        self._panel.show_notice(
            "error",
            report.message + "\n\nTraining is paused. You can restore the weights, "
            "set a smaller learning rate and press Resume, or press Stop.",
            [(RESTORE_BUTTONS[point][0],
              lambda point=point: self.restore(trainer, point))
             for point in report.restore_points])

    def restore(self, trainer: Trainer, point: str) -> None:
        """Put back the weights ``trainer`` saved at ``point`` (see Trainer.restore):
        in the training thread while its run goes on, at once after it ended."""
        session = self._session
        what = RESTORE_BUTTONS[point][1]
        if trainer.model is not session.model:
            self._notify("warning", "The network of that run has been replaced, so "
                         "there is nothing to restore.")
            return
        if session.state == "stopping":
            self._notify("warning", "The run is stopping; restore the weights once "
                         "it has stopped.")
            return
        if session.is_running():
            # The worker shows the restored weights with a snapshot once done.
            session.submit(lambda model: trainer.restore(point))
        else:
            try:
                trainer.restore(point)
            except ValueError as exc:
                self._notify("error", f"Could not restore the weights: {exc}")
                return
            session.weights_updated.emit(
                take_snapshot(session.model, trainer.step, None))
        self._notify("info", f"The weights {what} were restored. Choose a smaller "
                     "learning rate and press Resume, or press Stop.")

    def _notify(self, kind: str, text: str) -> None:
        if self._panel is not None:
            self._panel.show_notice(kind, text)
