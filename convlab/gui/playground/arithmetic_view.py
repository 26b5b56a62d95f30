"""ArithmeticView: the numbers of one sliding-window step, as small grids side by side.

Setter slot: set_grids(grids, operators, footer). Queries: grids(), footer().
"""

from PyQt5.QtCore import QRect, QSize, Qt
from PyQt5.QtGui import QColor, QFontMetrics, QPainter
from PyQt5.QtWidgets import QWidget

GRID_GAP = 24  # pixels between two grids, room for "×" or "="


def _number(value, signed):
    """A grid entry: 3 significant digits; adding 0.0 turns -0.0 into a plain 0."""
    return f"{value + 0.0:+.3g}" if signed else f"{value + 0.0:.3g}"


class ArithmeticView(QWidget):
    """Small number grids side by side (window x kernel = products), painted directly.

    Rich-text tables were too slow to lay out on every kernel edit; painting the
    cells keeps the step-through inside one frame.
    """

    def __init__(self, parent=None):
        super().__init__(parent)
        # Cells sized from the font, so "-0.525" fits whatever the desktop's font size.
        metrics = self.fontMetrics()
        self._cell_w = metrics.horizontalAdvance("+0.0000") + 6
        self._cell_h = metrics.height() + 4
        self._caption_h = metrics.height() + 2
        self._grids = []  # (caption, values (h, w), mark (h, w) or None, signed)
        self._cell_ws = []  # each grid's cell width
        self._operators = []
        self._footer = ""
        self.setAccessibleName("Arithmetic of the current window")

    def set_grids(self, grids, operators, footer):
        """Show grids [(caption, values, mark, signed)], operators between, a footer."""
        old_size = self.sizeHint()
        self._grids, self._operators, self._footer = grids, operators, footer
        self._cell_ws = [self._cell_width(values, signed)
                         for _, values, _, signed in grids]
        if self.sizeHint() != old_size:
            self.updateGeometry()
        self.update()

    def footer(self):
        """The sentence under the grids (the sum, the max or the average)."""
        return self._footer

    def grids(self):
        """The grids on show as {caption: values (h, w)}, in drawing order."""
        return {caption: values for caption, values, _, _ in self._grids}

    def _cell_width(self, values, signed):
        """Wide enough for "+0.0000" and for the widest entry ("-3.68e-08")."""
        metrics = self.fontMetrics()
        widest = max((metrics.horizontalAdvance(_number(v, signed))
                      for v in values.flat), default=0)
        return max(self._cell_w, widest + 6)

    def _grid_width(self, index):
        """A grid is as wide as its cells, or its caption when that is longer."""
        caption, values, _, _ = self._grids[index]
        caption_width = self.fontMetrics().horizontalAdvance(caption) + 4
        return max(values.shape[1] * self._cell_ws[index], caption_width)

    def _footer_width(self):
        """The footer is painted bold: measure it so, or its end would be cut off."""
        bold = self.font()
        bold.setBold(True)
        return QFontMetrics(bold).horizontalAdvance(self._footer) + 4

    def sizeHint(self):
        width = sum(self._grid_width(i) + GRID_GAP for i in range(len(self._grids)))
        width = max(width, self._footer_width())
        rows = max((v.shape[0] for _, v, _, _ in self._grids), default=0)
        return QSize(max(width, 300), self._caption_h + rows * self._cell_h + 24)

    def minimumSizeHint(self):
        return self.sizeHint()

    def paintEvent(self, event):
        painter = QPainter(self)
        metrics = painter.fontMetrics()
        x = 0
        for index, (caption, values, mark, signed) in enumerate(self._grids):
            cell_w = self._cell_ws[index]
            painter.setPen(QColor(60, 60, 60))
            painter.drawText(x, metrics.ascent(), caption)
            for i in range(values.shape[0]):
                for j in range(values.shape[1]):
                    cell = QRect(x + j * cell_w,
                                 self._caption_h + i * self._cell_h,
                                 cell_w, self._cell_h)
                    if mark is not None and mark[i, j]:
                        painter.fillRect(cell, QColor(255, 224, 102))
                    painter.setPen(QColor(170, 170, 170))
                    painter.drawRect(cell)
                    painter.setPen(QColor(0, 0, 0))
                    painter.drawText(cell.adjusted(0, 0, -3, 0),
                                     Qt.AlignRight | Qt.AlignVCenter,
                                     _number(values[i, j], signed))
            x += self._grid_width(index)
            if index < len(self._operators):
                rows = values.shape[0]
                y = self._caption_h + rows * self._cell_h // 2 + metrics.ascent() // 2
                painter.drawText(x + 6, y, self._operators[index])
            x += GRID_GAP
        rows = max((v.shape[0] for _, v, _, _ in self._grids), default=0)
        bold = painter.font()
        bold.setBold(True)
        painter.setFont(bold)
        painter.drawText(0, self._caption_h + rows * self._cell_h + 18, self._footer)
        painter.end()
