"""Python's cycle collector, run by the GUI thread between events and nowhere else.

Left automatic, the collector starts wherever Python happens to allocate: in the
training thread, or inside a pyqtgraph method that Qt calls while it walks a scene's
items or lays out a layout. If the garbage it finds holds Qt objects (a closed
window's widgets and graphics items, which reference each other in cycles), it
deletes them there: from the wrong thread, or under Qt's feet mid-walk, which
aborts the process ("pure virtual method called"). So automatic collection is
switched off while the application runs, and a timer in the GUI thread collects,
at a moment when Qt is not inside a scene or a layout.
"""

import gc

from PyQt5.QtCore import QObject, QTimer

INTERVAL_MS = 500


class GuiThreadCollector(QObject):
    """Owns the timer; gc is automatic again when the application quits."""

    def __init__(self, app):
        super().__init__(app)
        self._thresholds = gc.get_threshold()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.collect)
        app.aboutToQuit.connect(self.stop)

    def start(self):
        """Collect from the timer from now on, not automatically."""
        gc.disable()
        if not self._timer.isActive():
            self._timer.start(INTERVAL_MS)

    def collect(self):
        """Collect the young objects, and the older generations as often as the
        automatic collector would: when their counts passed their thresholds.

        The youngest every time: its count is allocations minus frees, so garbage
        made during a burst that has since been freed would otherwise wait.
        """
        counts = gc.get_count()
        generation = 0
        for g in (1, 2):
            if counts[g] <= self._thresholds[g]:
                break
            generation = g
        gc.collect(generation)

    def stop(self):
        """Automatic collection again (no event loop will run the timer)."""
        self._timer.stop()
        gc.enable()


_collector = None


def collect_in_gui_thread(app):
    """Collect only from app's GUI thread from now on; return the collector (one
    per process, as there is one application)."""
    global _collector
    if _collector is None:
        _collector = GuiThreadCollector(app)
    _collector.start()
    return _collector
