"""The convolution playground: kernels, stride, padding, pooling, trained filters."""

from convlab.gui.playground.kernel_editor import KernelEditor
from convlab.gui.playground.panel import PlaygroundPanel

__all__ = ["KernelEditor", "PlaygroundPanel"]
