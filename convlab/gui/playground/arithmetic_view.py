"""ArithmeticView: the numbers of one sliding-window step, as small grids in rows.

Setter slot: set_grids(grids, operators, footer). Queries: grids(), footer(),
cells(), cell_font(), footer_fits().

The grids wrap onto new rows when the width runs out, and the font shrinks (down to
MIN_POINT_SIZE) only when a single grid is wider than the view: every number is
shown whole and the step-through never needs sideways scrolling.
"""

from PyQt5.QtCore import QEvent, QRect, QSize, Qt
from PyQt5.QtGui import QColor, QFontMetrics, QPainter
from PyQt5.QtWidgets import QSizePolicy, QWidget

GRID_GAP = 24  # pixels between two grids, room for "×" or "="
ROW_GAP = 8  # pixels between two rows of grids
MIN_POINT_SIZE = 7.0  # smaller than this is hard to read on a laptop screen
CELL_PAD = 6  # pixels around a cell's number


def _number(value, signed):
    """A grid entry: 3 significant digits; adding 0.0 turns -0.0 into a plain 0."""
    return f"{value + 0.0:+.3g}" if signed else f"{value + 0.0:.3g}"


class _Layout:
    """Where each grid goes for one font and width: cell size, grid origins, height."""

    def __init__(self, view, font, width):
        metrics = QFontMetrics(font)
        self.font, self.width = font, width
        self.cell_h = metrics.height() + 4
        self.caption_h = metrics.height() + 2
        self.ascent = metrics.ascent()
        self.cell_ws, self.grid_ws = [], []
        for caption, values, _, signed in view._grids:
            widest = max((metrics.horizontalAdvance(_number(v, signed))
                          for v in values.flat), default=0)
            cell_w = max(metrics.horizontalAdvance("+0.000"), widest) + CELL_PAD
            self.cell_ws.append(cell_w)
            self.grid_ws.append(max(values.shape[1] * cell_w,
                                    metrics.horizontalAdvance(f"× {caption}") + 4))
        # A grid after the first has its operator ("×", "=") in the gap in front
        # of it, or, starting a row, in front of its caption.
        self.widest = max(self.grid_ws, default=0)
        self.origins = []  # (x, y) of each grid's caption
        self.in_gap = []  # whether the grid's operator sits in the gap before it
        x = y = row_h = 0
        for index, (_, values, _, _) in enumerate(view._grids):
            lead = GRID_GAP if index else 0
            if x and (x + lead + self.grid_ws[index] > width
                      or view._breaks_before(index)):
                x, y, row_h, lead = 0, y + row_h + ROW_GAP, 0, 0
            self.origins.append((x + lead, y))
            self.in_gap.append(lead > 0)
            x += lead + self.grid_ws[index]
            row_h = max(row_h, self.caption_h + values.shape[0] * self.cell_h)
        bold = QFontMetrics(view._bold(font))
        self.footer_top = y + row_h + 6
        self.footer = bold.boundingRect(QRect(0, 0, max(width, 1), 10_000),
                                        Qt.TextWordWrap, view._footer)
        self.height = self.footer_top + self.footer.height() + 4


class ArithmeticView(QWidget):
    """Small number grids (window x kernel = products) and a footer, painted directly.

    Rich-text tables were too slow to lay out on every kernel edit; painting the
    cells keeps the step-through inside one frame.
    """

    def __init__(self, parent=None):
        super().__init__(parent)
        self._grids = []  # (caption, values (h, w), mark (h, w) or None, signed)
        self._operators = []
        self._footer = ""
        self._layout = None  # the _Layout for the current width, made when needed
        # As wide as the host gives, as tall as the wrapped rows need.
        self.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Fixed)
        self.setAccessibleName("Arithmetic of the current window")

    def set_grids(self, grids, operators, footer):
        """Show grids [(caption, values, mark, signed)], operators between (None:
        no operator, the next grid starts a row), a footer."""
        self._grids, self._operators, self._footer = grids, operators, footer
        self._relayout()

    def _breaks_before(self, index):
        """Whether grid `index` starts a new row: its operator is None."""
        return 0 < index <= len(self._operators) and self._operators[index - 1] is None

    def footer(self):
        """The sentence under the grids (the sum, the max or the average)."""
        return self._footer

    def grids(self):
        """The grids on show as {caption: values (h, w)}, in drawing order."""
        return {caption: values for caption, values, _, _ in self._grids}

    def cell_font(self):
        """The font the numbers are painted in (smaller when space is short)."""
        return self._current().font

    def cells(self):
        """Every painted cell as (QRect in this widget, its text), in drawing order."""
        layout, found = self._current(), []
        for index, (_, values, _, signed) in enumerate(self._grids):
            x, y = layout.origins[index]
            cell_w = layout.cell_ws[index]
            for i in range(values.shape[0]):
                for j in range(values.shape[1]):
                    found.append((QRect(x + j * cell_w, y + layout.caption_h
                                        + i * layout.cell_h, cell_w, layout.cell_h),
                                  _number(values[i, j], signed)))
        return found

    def footer_fits(self):
        """Whether the wrapped footer lies within the widget."""
        layout = self._current()
        return (layout.footer.width() <= self.width()
                and layout.footer_top + layout.footer.height() <= self.height())

    def _bold(self, font):
        bold = type(font)(font)
        bold.setBold(True)
        return bold

    def _layout_for(self, width):
        """The layout for `width`: the widget's font, or smaller until a grid fits."""
        font = type(self.font())(self.font())
        layout = _Layout(self, font, width)
        while layout.widest > width and font.pointSizeF() - 0.5 >= MIN_POINT_SIZE:
            font.setPointSizeF(font.pointSizeF() - 0.5)
            layout = _Layout(self, font, width)
        return layout

    def _current(self):
        # A hidden view gets its resize event only when shown: follow the width.
        if self._layout is None or self._layout.width != self.width():
            self._layout = self._layout_for(self.width())
        return self._layout

    def _relayout(self):
        """Lay out for the current width; the height follows the wrapped rows."""
        self._layout = self._layout_for(self.width())
        if self.minimumHeight() != self._layout.height:
            self.setFixedHeight(self._layout.height)
            # A QTabWidget does not pass a page's new minimum on by itself: tell
            # every ancestor, or the rows below the first would be cut off.
            widget = self
            while widget is not None:
                widget.updateGeometry()
                widget = widget.parentWidget()
        self.update()

    def changeEvent(self, event):
        super().changeEvent(event)
        # The application's style sheet sets the font only once the view is shown.
        if event.type() == QEvent.FontChange:
            self._relayout()

    def resizeEvent(self, event):
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self._relayout()

    def sizeHint(self):
        layout = self._current()
        one_row = sum(layout.grid_ws) + GRID_GAP * max(len(layout.grid_ws) - 1, 0)
        return QSize(max(one_row, 300), layout.height)

    def minimumSizeHint(self):
        # At the smallest font, the widest grid must still fit: never clip a number.
        small = type(self.font())(self.font())
        small.setPointSizeF(MIN_POINT_SIZE)
        return QSize(_Layout(self, small, 0).widest, self._current().height)

    def paintEvent(self, event):
        layout = self._current()
        painter = QPainter(self)
        painter.setFont(layout.font)
        for index, (caption, values, _, _) in enumerate(self._grids):
            x, y = layout.origins[index]
            painter.setPen(QColor(60, 60, 60))
            operator = (self._operators[index - 1]
                        if 0 < index <= len(self._operators) else "") or ""
            if operator and layout.in_gap[index]:
                middle = y + layout.caption_h + values.shape[0] * layout.cell_h // 2
                painter.drawText(x - GRID_GAP + 6, middle + layout.ascent // 2,
                                 operator)
            elif operator:
                caption = f"{operator} {caption}"
            painter.drawText(x, y + layout.ascent, caption)
        cells = iter(self.cells())
        for _, values, mark, _ in self._grids:
            for i in range(values.shape[0]):
                for j in range(values.shape[1]):
                    cell, text = next(cells)
                    if mark is not None and mark[i, j]:
                        painter.fillRect(cell, QColor(255, 224, 102))
                    painter.setPen(QColor(170, 170, 170))
                    painter.drawRect(cell)
                    painter.setPen(QColor(0, 0, 0))
                    painter.drawText(cell.adjusted(0, 0, -CELL_PAD // 2, 0),
                                     Qt.AlignRight | Qt.AlignVCenter, text)
        painter.setFont(self._bold(layout.font))
        painter.drawText(QRect(0, layout.footer_top, self.width(),
                               layout.footer.height()), Qt.TextWordWrap, self._footer)
        painter.end()
