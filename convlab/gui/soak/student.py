"""The seeded student: the widgets it uses and the actions of the other rooms."""

from __future__ import annotations

from convlab.gui.main_window import TABS
from convlab.gui.soak.record import named
from convlab.gui.soak.training_actions import TrainingActions

GALLERY_PICK = 120  # the controller shows at most this many images per cell

# Relative frequency of each action in the random phase.
WEIGHTS = {
    "draw": 10, "undo": 3, "clear": 3, "brush": 1, "test_image": 3, "tab": 4,
    "network_map": 2, "network_filter": 3, "network_pass": 3, "why_probe": 2,
    "kernel_cell": 8, "kernel_size": 3,
    "kernel_preset": 3, "kernel_action": 2, "kernel_bank": 2, "pg_stride": 2,
    "pg_padding": 2, "pg_pooling": 2, "pg_input": 1, "pg_cell": 1,
    "filter_tool": 5, "train_start": 4, "train_pause": 3, "train_step": 4,
    "train_stop": 3, "train_reinit": 2, "train_lr": 3, "train_settings": 2,
    "arch_edit": 3, "arch_preset": 2, "new_network": 1, "evaluate": 2,
    "confusion_cell": 3, "gallery": 2, "my_digit": 3, "my_digit_remove": 2,
    "fine_tune": 1, "open_model": 1, "save_model": 1, "export": 1,
    "open_data": 1, "guide": 1,
}


class Student(TrainingActions):
    """The actions, each done through the window's widgets as a student would
    (those of the Training and Playground tabs come from TrainingActions)."""

    def __init__(self, window, recorder):
        from PyQt5.QtWidgets import (
            QAbstractButton,
            QCheckBox,
            QComboBox,
            QPushButton,
            QSpinBox,
            QTabBar,
        )

        self.window = window
        self.recorder = recorder
        pg = window.playground_panel
        self.pg = {name: named(pg, cls, name) for cls, name in (
            (QSpinBox, "Kernel size"), (QComboBox, "Kernel preset"),
            (QSpinBox, "Stride"), (QComboBox, "Padding"), (QComboBox, "Pooling type"),
            (QSpinBox, "Pool size"), (QSpinBox, "Pool stride"),
            (QComboBox, "Input size"),
            (QCheckBox, "Show max and average pooling side by side"),
            (QTabBar, "Filter bank kernels"),
            (QPushButton, "Add a kernel to the filter bank"),
            (QPushButton, "Remove the kernel from the filter bank"),
            (QPushButton, "Switch the filter off"), (QCheckBox, "Freeze the filter"),
            (QPushButton, "Reset the filter to its learned values"),
            (QPushButton, "Close the network filter"),
            (QPushButton, "Measure test accuracy now"),
            (QSpinBox, "Input channel of the filter"),
        )}
        self.kernel_actions = [b for b in pg.findChildren(QAbstractButton)
                               if b.accessibleName().startswith("Kernel action:")]

    # Helpers

    def _tab(self, index):
        """Click a tab's title, as a student changes tabs."""
        from PyQt5.QtCore import Qt
        from PyQt5.QtTest import QTest

        bar = self.window.tabs.tabBar()
        if bar.currentIndex() != index:
            QTest.mouseClick(bar, Qt.LeftButton, pos=bar.tabRect(index).center())

    def _type(self, widget, text):
        """Select what is in a field, type text and press Enter."""
        from PyQt5.QtCore import Qt
        from PyQt5.QtTest import QTest

        widget.selectAll()
        if text:
            QTest.keyClicks(widget, text)
        else:
            QTest.keyClick(widget, Qt.Key_Backspace)
        QTest.keyClick(widget, Qt.Key_Return)

    @staticmethod
    def _click(button):
        """Click a button if a student could (enabled and on screen)."""
        if button.isEnabled() and button.isVisible():
            button.click()
            return "clicked"
        return "disabled"

    @staticmethod
    def _choose(combo, index):
        """Pick an item of a combo box as a student does (activated is emitted)."""
        if not combo.isEnabled():
            return "disabled"
        combo.setCurrentIndex(index)
        combo.activated.emit(index)
        return combo.itemText(index)

    @staticmethod
    def _set(spin, value):
        if not spin.isEnabled():
            return "disabled"
        spin.setValue(int(value))
        return str(spin.value())

    @staticmethod
    def _pick(rng, options):
        return options[int(rng.integers(len(options)))]

    def _drag(self, widget, points):
        """Press at the first point, move through the others, release at the last."""
        from PyQt5.QtCore import QEvent, QPoint, QPointF, Qt
        from PyQt5.QtGui import QMouseEvent
        from PyQt5.QtTest import QTest
        from PyQt5.QtWidgets import QApplication

        QTest.mousePress(widget, Qt.LeftButton, pos=QPoint(*points[0]))
        for x, y in points[1:]:
            # QTest's mouseMove does not deliver move events offscreen; send real ones.
            QApplication.sendEvent(widget, QMouseEvent(
                QEvent.MouseMove, QPointF(x, y), Qt.NoButton, Qt.LeftButton,
                Qt.NoModifier))
        QTest.mouseRelease(widget, Qt.LeftButton, pos=QPoint(*points[-1]))

    def _click_item(self, graphics, item, x, y):
        """Click a pyqtgraph item at its own coordinates through the real view."""
        from PyQt5.QtCore import QPointF, Qt
        from PyQt5.QtTest import QTest

        pos = graphics.mapFromScene(item.mapToScene(QPointF(x, y)))
        QTest.mouseClick(graphics.viewport(), Qt.LeftButton, pos=pos)

    def _click_cell(self, view, rect):
        from PyQt5.QtCore import Qt
        from PyQt5.QtTest import QTest

        QTest.mouseClick(view.viewport(), Qt.LeftButton, pos=rect.center())

    def _open_filter(self, rng):
        """Click a conv filter in the Network tab and open it in the Playground."""
        self._tab(0)
        view = self.window.network_view
        columns = [c for c in range(len(view.columns()))
                   if view.filter_item(c) is not None]
        if not columns:
            return "no conv filter"
        column = self._pick(rng, columns)
        item = view.filter_item(column)
        index = int(rng.integers(max(item.count, 1)))
        self._click_item(view.graphics, item, *item.tile_center(index))
        detail = self.window.detail_view
        return (f"filter {index} of column {column}, "
                + self._click(detail.edit_button))

    # Actions: each takes its own seeded generator and returns what it did.

    def draw(self, rng):
        n = int(rng.integers(2, 8))
        points = [tuple(int(v) for v in rng.integers(5, 275, 2)) for _ in range(n)]
        self._drag(self.window.input_panel.canvas, points)
        return f"stroke through {points}"

    def undo(self, rng):
        return self._click(self.window.input_panel.undo_button)

    def clear(self, rng):
        return self._click(self.window.input_panel.clear_button)

    def brush(self, rng):
        slider = self.window.input_panel.brush_slider
        slider.setValue(int(rng.integers(slider.minimum(), slider.maximum() + 1)))
        return f"brush {slider.value()}"

    def test_image(self, rng):
        panel = self.window.input_panel
        index = int(rng.integers(10_000))
        if rng.random() < 0.5:
            return "random: " + self._click(panel.random_button)
        if not panel.sample_spin.isEnabled():
            return "no test set"
        panel.sample_spin.setValue(index)
        return f"test image {panel.sample_spin.value()}: " \
            + self._click(panel.show_sample_button)

    def tab(self, rng):
        index = int(rng.integers(self.window.tabs.count()))  # every tab, new ones too
        self._tab(index)
        return f"tab {index}"

    def network_pass(self, rng):
        """Forward or Backward in the Network tab, and a target digit or the scale."""
        self._tab(0)
        bar = self.window.network_view.backward_bar
        button = bar.backward_button if rng.random() < 0.6 else bar.forward_button
        done = f"{button.text()}: " + self._click(button)
        if rng.random() < 0.5:
            combo = bar.target_combo
            return done + ", target " + self._choose(
                combo, int(rng.integers(combo.count())))
        combo = bar.scale_combo
        return done + ", scale " + self._choose(combo, int(rng.integers(combo.count())))

    def why_probe(self, rng):
        """In the Why tab: shift the input, reset it, randomize, or a patch size."""
        panel = self.window.why_panel
        self._tab(TABS.index("why"))
        choice = rng.random()
        if choice < 0.5:
            where = self._pick(rng, sorted(panel.shift_buttons))
            return f"shift {where}: " + self._click(panel.shift_buttons[where])
        if choice < 0.65:
            return "reset shift: " + self._click(panel.reset_button)
        if choice < 0.8:
            return "randomize: " + self._click(panel.randomize_button)
        box = panel.size_box if rng.random() < 0.5 else panel.stride_box
        return f"{box.accessibleName() or 'occlusion'} " + self._set(
            box, rng.integers(box.minimum(), box.maximum() + 1))

    def network_map(self, rng):
        self._tab(0)
        view = self.window.network_view
        column = int(rng.integers(len(view.columns())))
        item = view.column_item(column)
        index = int(rng.integers(max(item.count, 1)))
        self._click_item(view.graphics, item, *item.tile_center(index))
        close = rng.random() < 0.5
        if close:
            self._click(self.window.detail_view.close_button)
        return f"map {index} of column {column}" + (", closed" if close else "")

    def network_filter(self, rng):
        return self._open_filter(rng)

    def new_network(self, rng):
        self.window.new_action.trigger()
        return "File > New network"

    def evaluate(self, rng):
        self._tab(3)
        return self._click(self.window.evaluation_panel.evaluate_button)

    def confusion_cell(self, rng):
        self._tab(3)
        table = self.window.evaluation_panel.confusion
        row, col = (int(v) for v in rng.integers(0, 10, 2))
        if rng.random() < 0.5:
            row = col  # the diagonal holds most images
        self._click_cell(table, table.visualItemRect(table.item(row, col)))
        return f"cell ({row}, {col})"

    def gallery(self, rng):
        self._tab(3)
        panel = self.window.evaluation_panel
        gallery = panel.gallery if rng.random() < 0.5 else panel.mistakes
        index = int(rng.integers(GALLERY_PICK))
        if gallery.count() == 0:
            return "empty gallery"
        item = gallery.item(index % gallery.count())
        self._click_cell(gallery, gallery.visualItemRect(item))
        return f"{gallery.accessibleName()} item {index % gallery.count()}"

    def my_digit(self, rng):
        """Draw, then press a digit key (or click its button) to keep the drawing."""
        from PyQt5.QtCore import Qt
        from PyQt5.QtTest import QTest

        digit = int(rng.integers(10))
        stroke = self.draw(rng)
        if rng.random() < 0.7:
            QTest.keyClick(self.window, Qt.Key_0 + digit)
            return f"{stroke}, key {digit}"
        self._tab(2)
        button = self.window.my_digits_panel.label_buttons[digit]
        return f"{stroke}, button {digit}: {self._click(button)}"

    def my_digit_remove(self, rng):
        from PyQt5.QtCore import Qt
        from PyQt5.QtTest import QTest

        self._tab(2)
        panel = self.window.my_digits_panel
        gallery = panel.gallery
        picks = [int(v) for v in rng.integers(0, 50, int(rng.integers(1, 4)))]
        with_key = rng.random() < 0.5
        if gallery.count() == 0:
            return "nothing to remove"
        rows = sorted({index % gallery.count() for index in picks})
        gallery.clearSelection()
        for row in rows:
            gallery.item(row).setSelected(True)
        if with_key:
            QTest.keyClick(gallery, Qt.Key_Delete)
            return f"Delete on {rows}"
        return f"remove {rows}: {self._click(panel.remove_button)}"

    def fine_tune(self, rng):
        self._tab(2)
        return self._click(self.window.my_digits_panel.fine_tune_button)

    def open_model(self, rng):
        self.window.open_action.trigger()
        return "File > Open model"

    def save_model(self, rng):
        self.window.save_as_action.trigger()
        return "File > Save model as"

    def export(self, rng):
        self.window.export_action.trigger()
        return "File > Export to PyTorch"

    def open_data(self, rng):
        self.window.open_data_action.trigger()
        return "File > Open dataset folder"

    def guide(self, rng):
        """Open the guide from the Help menu, then close it again."""
        from PyQt5.QtWidgets import QAction, QDialog

        action = next(a for a in self.window.findChildren(QAction)
                      if a.text() == "How a CNN sees your digit")
        action.trigger()
        for dialog in self.window.findChildren(QDialog):
            if dialog.windowTitle() == "How a CNN sees your digit":
                dialog.close()
        return "Help > guide, closed"
