"""What the Training tab asks for: a TrainingRequest, and the names of its data choices.

No Qt here: the panel builds requests, the session runs them and the controller
reads the data choice, and none of them needs the others' widgets for it.
"""

from __future__ import annotations

from dataclasses import dataclass

from convlab.nn.architectures import ArchSpec

# The digits the program draws itself (convlab.data.sources.BUILTIN).
BUILTIN_SOURCE = "builtin"
# The dataset the window has loaded and handed over (TrainingSession.set_dataset).
LOADED_SOURCE = "loaded"
# Any other data choice is the path of a folder holding MNIST.


@dataclass
class TrainingRequest:
    """Everything the panel's settings say about the run the student asked for."""

    arch: ArchSpec
    optimizer: str
    lr: float
    batch_size: int
    epochs: int
    augment: bool
    data_source: str


def is_int(value) -> bool:
    """True for an int (a stored setting), not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value) -> bool:
    """True for an int or a float (a stored setting), not a bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)
