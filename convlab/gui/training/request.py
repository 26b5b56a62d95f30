"""What the Training tab asks for: a TrainingRequest, and the names of its data choices.

No Qt here: the panel builds requests, the session runs them (load_split turns a
data choice into training and validation digits) and the controller reads the data
choice, and none of them needs the others' widgets for it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from convlab.data import sources
from convlab.data.batching import train_val_split
from convlab.nn.architectures import ArchSpec
from convlab.train import TrainConfig

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
    clean_epochs: int   # with augment: the last epochs train on plain digits
    data_source: str


def load_split(source: str, dataset: sources.Dataset | None, config: TrainConfig,
               progress=None):
    """(x_train, y_train, x_val, y_val, rng) for a data choice, ``dataset`` being
    the window's loaded one (or None); progress(done, total) follows a slow load.

    The rng, seeded with config.seed, first holds out the validation digits and
    then drives training, so the same seed gives a resumed run the same split.
    """
    if source == LOADED_SOURCE and dataset is not None:
        x, y = dataset.x_train, dataset.y_train
    else:
        loaded = sources.load_dataset(
            sources.BUILTIN if source == BUILTIN_SOURCE else source, progress)
        x, y = loaded.x_train, loaded.y_train
    rng = np.random.default_rng(config.seed)
    return *train_val_split(x, y, config.val_fraction, rng), rng


def is_int(value) -> bool:
    """True for an int (a stored setting), not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value) -> bool:
    """True for an int or a float (a stored setting), not a bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)
