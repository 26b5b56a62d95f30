"""The Why tab's pictures: ten small saliency maps, and occlusion over the digit."""

import numpy as np
import pyqtgraph as pg
from PyQt5.QtWidgets import QSizePolicy, QVBoxLayout, QWidget

from convlab.gui.common.colormaps import GREY_CMAP, SIGNED_CMAP
from convlab.gui.playground.views import ColorLegendView

GRID_COLUMNS = 5  # ten maps in two rows of five
# The overlay's opacity grows with |value|: near zero the digit shows through.
MIN_ALPHA, MAX_ALPHA = 30, 210
_SIGNED_LUT = SIGNED_CMAP.getLookupTable(nPts=256)  # (256, 3) uint8


def signed_rgba(values, levels):
    """(H, W, 4) uint8 colours of values on the scale levels (-m, m), more opaque
    the larger |value|; NaN (no patch covered the pixel) is fully transparent."""
    m = levels[1]
    finite = np.isfinite(values)
    t = np.clip(np.where(finite, values, 0.0) / m, -1.0, 1.0)  # (H, W) in -1..1
    rgba = np.zeros((*values.shape, 4), np.uint8)
    rgba[..., :3] = _SIGNED_LUT[np.round((t + 1.0) * 127.5).astype(int)]
    alpha = MIN_ALPHA + (MAX_ALPHA - MIN_ALPHA) * np.abs(t)
    rgba[..., 3] = np.where(finite, alpha, 0).astype(np.uint8)
    return rgba


def _image_box(graphics, row, col):
    """A locked, unscrollable square view box with one row-major ImageItem."""
    box = graphics.addViewBox(row=row, col=col, lockAspect=True, invertY=True)
    box.setMouseEnabled(False, False)
    box.setMenuEnabled(False)
    image = pg.ImageItem(axisOrder="row-major")
    box.addItem(image)
    box.setRange(xRange=(0, 28), yRange=(0, 28), padding=0.02)
    return box, image


class SaliencyGridView(QWidget):
    """The ten digits' saliency maps on one shared signed scale, with its legend."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._maps = None
        self._levels = None
        self._graphics = pg.GraphicsLayoutWidget()
        self._graphics.setBackground("w")
        self._graphics.setMinimumSize(300, 190)
        self._graphics.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self._graphics.setAccessibleName("Saliency of each digit")
        self._graphics.setToolTip(
            "d score / d pixel for each digit 0-9: red pixels would raise that "
            "digit's score with more ink, blue would lower it.")
        self._titles, self._images = [], []
        for digit in range(10):
            row, col = divmod(digit, GRID_COLUMNS)
            title = self._graphics.addLabel(str(digit), row=2 * row, col=col,
                                            size="9pt")
            _, image = _image_box(self._graphics, 2 * row + 1, col)
            image.setLookupTable(_SIGNED_LUT)
            self._titles.append(title)
            self._images.append(image)
        for col in range(GRID_COLUMNS):
            # Equal columns, whatever the titles' lengths.
            self._graphics.ci.layout.setColumnStretchFactor(col, 1)
            self._graphics.ci.layout.setColumnPreferredWidth(col, 10)
        self.legend = ColorLegendView()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._graphics)
        layout.addWidget(self.legend)

    def set_maps(self, maps, levels, best, runner_up):
        """Show maps (10, 28, 28) on levels (-m, m); best and runner_up get titles."""
        self._maps, self._levels = np.array(maps), tuple(levels)
        for digit, (title, image) in enumerate(zip(self._titles, self._images,
                                                   strict=True)):
            image.setImage(self._maps[digit], levels=self._levels, autoLevels=False)
            mark = " (1st)" if digit == best else " (2nd)" if digit == runner_up \
                else ""
            title.setText(f"{digit}{mark}", bold=bool(mark))
        self.legend.set_levels(*self._levels)

    def clear(self):
        """Show no maps (nothing drawn)."""
        self._maps = self._levels = None
        for digit, (title, image) in enumerate(zip(self._titles, self._images,
                                                   strict=True)):
            image.clear()
            title.setText(str(digit))

    def maps(self):
        """The (10, 28, 28) maps on show, or None."""
        return None if self._maps is None else self._maps.copy()

    def levels(self):
        """The shared (low, high) colour scale, or None."""
        return self._levels

    def title(self, digit):
        """The text above one digit's map."""
        return self._titles[digit].text


class OcclusionView(QWidget):
    """The input in grey with the occlusion map laid over it, and the legend."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._occlusion = self._per_pixel = self._levels = None
        self._graphics = pg.GraphicsLayoutWidget()
        self._graphics.setBackground("w")
        self._graphics.setMinimumSize(200, 200)
        self._graphics.setMaximumHeight(260)
        self._graphics.setAccessibleName("Occlusion map over the input")
        self._graphics.setToolTip(
            "How much the predicted digit's probability drops when a patch here is "
            "blacked out: red, it dropped (the network used this part); blue, it "
            "rose.")
        box, self._digit = _image_box(self._graphics, 0, 0)
        self._digit.setLookupTable(GREY_CMAP.getLookupTable(nPts=256))
        self._overlay = pg.ImageItem(axisOrder="row-major")
        self._overlay.setZValue(1)  # over the digit
        box.addItem(self._overlay)
        self.legend = ColorLegendView()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._graphics)
        layout.addWidget(self.legend)

    def set_occlusion(self, x, occlusion, per_pixel, levels):
        """Show input x (28, 28) under per_pixel (28, 28), the spread of occlusion
        (n, n), coloured on levels (-m, m)."""
        self._occlusion, self._per_pixel = np.array(occlusion), np.array(per_pixel)
        self._levels = tuple(levels)
        self._digit.setImage(np.asarray(x), levels=(0.0, 1.0), autoLevels=False)
        self._overlay.setImage(signed_rgba(self._per_pixel, self._levels),
                               levels=(0, 255), autoLevels=False)
        self.legend.set_levels(*self._levels)

    def clear(self):
        """Show nothing (nothing drawn)."""
        self._occlusion = self._per_pixel = self._levels = None
        self._digit.clear()
        self._overlay.clear()

    def input_image(self):
        """The (28, 28) input under the overlay, or None."""
        image = self._digit.image
        return None if image is None else np.array(image)

    def occlusion(self):
        """The (n, n) occlusion map on show, or None."""
        return None if self._occlusion is None else self._occlusion.copy()

    def per_pixel(self):
        """The (28, 28) overlay values (NaN where no patch covered), or None."""
        return None if self._per_pixel is None else self._per_pixel.copy()

    def levels(self):
        """The overlay's (low, high) colour scale, or None."""
        return self._levels
