"""Python's cycle collector, run by the GUI thread between events and nowhere else.

Left automatic, the collector starts wherever Python happens to allocate: in the
training thread, or inside a pyqtgraph method that Qt calls while it walks a scene's
items or lays out a layout. If the garbage it finds holds Qt objects (a closed
window's widgets and graphics items, which reference each other in cycles), it
deletes them there: from the wrong thread, or under Qt's feet mid-walk, which
aborts the process ("pure virtual method called"). So automatic collection is
switched off while the application runs, and a timer in the GUI thread collects,
at a moment when Qt is not inside a scene or a layout.

Even there, the collector takes a cycle apart by emptying its objects one by one,
and a Qt object destroyed that way runs its C++ destructor after its Python half
has lost its attributes: a layout asks a half-emptied pyqtgraph item for its size.
So each collection first only finds the garbage, has Qt delete every garbage Qt
object that nothing else owns (whole, with its children, as deleteLater would),
and then frees the rest.
"""

import gc

from PyQt5 import sip
from PyQt5.QtCore import QObject, QThread, QTimer
from PyQt5.QtWidgets import QGraphicsItem

INTERVAL_MS = 200  # often enough that one pass has few young objects to look at


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
        debug = gc.get_debug()
        gc.set_debug(debug | gc.DEBUG_SAVEALL)  # find the garbage, free nothing yet
        try:
            gc.collect(generation)
        finally:
            gc.set_debug(debug)
        garbage = gc.garbage[:]
        gc.garbage.clear()
        if not garbage:
            return
        for obj in garbage:
            if _unowned_qt_root(obj):
                sip.delete(obj)
        garbage = obj = None
        # The garbage kept in gc.garbage has moved up a generation: free it there.
        gc.collect(min(generation + 1, 2))

    def stop(self):
        """Automatic collection again (no event loop will run the timer)."""
        self._timer.stop()
        gc.enable()


def _unowned_qt_root(obj):
    """True for a live Qt object that Python owns and no parent or scene holds:
    deleting it is what Qt would do with a closed window, children included."""
    if not isinstance(obj, (QObject, QGraphicsItem)) or sip.isdeleted(obj):
        return False
    if not sip.ispyowned(obj):
        return False
    if isinstance(obj, QObject) and (
            obj.parent() is not None or obj.thread() is not QThread.currentThread()):
        return False  # another thread's objects are left to the collector
    if isinstance(obj, QGraphicsItem):
        return obj.parentItem() is None and obj.scene() is None
    return True


_collector = None


def collect_in_gui_thread(app):
    """Collect only from app's GUI thread from now on; return the collector (one
    per process, as there is one application)."""
    global _collector
    if _collector is None:
        _collector = GuiThreadCollector(app)
    _collector.start()
    return _collector
