"""MyDigitsGalleryView: thumbnails of the student's digits, marked right or wrong."""

from PyQt5.QtCore import QEvent, QSize, Qt, pyqtSignal
from PyQt5.QtGui import QColor, QIcon
from PyQt5.QtWidgets import QAbstractItemView, QListView, QListWidget, QListWidgetItem

from convlab.gui.common.qimage import array_to_pixmap

THUMB = 56  # 28x28 digits at twice their size
RIGHT_COLOUR = QColor("#1b7a3a")
WRONG_COLOUR = QColor("#b3261e")
WRONG_BACKGROUND = QColor("#fbe9e7")
_REMOVE_KEYS = (Qt.Key_Delete, Qt.Key_Backspace)


class MyDigitsGalleryView(QListWidget):
    """One thumbnail per digit: its label and, when a model is set, what it reads."""

    remove_requested = pyqtSignal()  # Delete or Backspace on a selection

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setAccessibleName("My digits gallery")
        self.setToolTip(
            "Your labelled drawings, as the network sees them (28 x 28 pixels). "
            "Each shows the digit you said it is and the digit the network reads; red "
            "ones it gets wrong. Select one and press Delete to remove it."
        )
        self.setViewMode(QListView.IconMode)
        self.setIconSize(QSize(THUMB, THUMB))
        self.setGridSize(QSize(THUMB + 34, THUMB + 26))
        self.setResizeMode(QListView.Adjust)
        self.setMovement(QListView.Static)
        self.setUniformItemSizes(True)
        self.setWordWrap(True)
        self.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.setMinimumHeight(2 * (THUMB + 26) + 8)

    def set_digits(self, images, labels, predictions=None):
        """Show images (N, 28, 28) with labels (N,); predictions (N,) or None."""
        self.clear()
        for i, (image, label) in enumerate(zip(images, labels, strict=True)):
            item = QListWidgetItem(QIcon(array_to_pixmap(image, THUMB)), "")
            if predictions is None:
                item.setText(f"{label}")
                item.setToolTip(f"You labelled this drawing {label}.")
            else:
                read = int(predictions[i])
                right = read == label
                item.setText(f"{label} → {read} {'✓' if right else '✗'}")
                item.setForeground(RIGHT_COLOUR if right else WRONG_COLOUR)
                if not right:
                    item.setBackground(WRONG_BACKGROUND)
                item.setToolTip(
                    f"You labelled this drawing {label}; the network reads {read} "
                    f"({'right' if right else 'wrong'})."
                )
            self.addItem(item)

    def selected_indices(self):
        """Row numbers of the selected thumbnails, in increasing order."""
        return sorted(self.row(item) for item in self.selectedItems())

    def event(self, event):
        # Delete is also the window's "Clear canvas" shortcut; claim it while
        # thumbnails are selected, so it removes them instead of wiping the drawing.
        if (event.type() == QEvent.ShortcutOverride and event.key() in _REMOVE_KEYS
                and self.selectedItems()):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event):
        if event.key() in _REMOVE_KEYS and self.selectedItems():
            self.remove_requested.emit()
            return
        if Qt.Key_0 <= event.key() <= Qt.Key_9:
            # A list view would use the key to jump to an item; pass it on instead,
            # so the window turns it into "add my drawing as this digit".
            event.ignore()
            return
        super().keyPressEvent(event)
