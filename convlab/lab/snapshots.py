"""Copies of a live model that the window can keep while training changes it.

One thread writes the live model's weights (the training worker while a run goes).
The window draws from its own copy: clone_model makes one, and a WeightSnapshot,
taken in the training thread by take_snapshot, carries the newest weights (and the
activations for the current input) over to it with apply_to.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np

from convlab import nn

# Milliseconds between two weight snapshots of a running training, and between two
# redraws of the views they feed: 12.5 a second looks live, yet leaves the GUI idle
# most of the time. One number for both, so no snapshot is taken only to be skipped.
SNAPSHOT_INTERVAL_MS = 80
SNAPSHOT_BATCH = 32  # images of the last training batch a snapshot carries at most


def clone_model(model):
    """An independent copy of ``model`` (same architecture and weights) for the GUI."""
    clone = nn.from_config(model.get_config())
    clone.load_state_dict(model.state_dict())
    return clone


@dataclass
class WeightSnapshot:
    """Copies of the live model's state, safe to keep while training goes on.

    params: one array per model.parameters() entry, in that order.
    buffers: BatchNorm running statistics, in model.named_buffers() order.
    activations: every layer's output for the probe, each (1, ...), or None.
    source: a weak reference to the live model copied (is_from tells).
    batch: images (n, 1, H, W) of the mini-batch trained on last (the batch-norm
    view's batch while training), or None.
    """

    step: int
    params: list
    buffers: list
    activations: list | None
    source: weakref.ref
    batch: np.ndarray | None = None

    def is_from(self, model) -> bool:
        """True when these are copies of ``model``'s weights.

        Snapshots travel through the event queue, so one may arrive after its model
        was replaced; only the model's identity tells, since a new model can have the
        same architecture (or even the same weights).
        """
        return model is not None and self.source() is model

    def apply_to(self, model) -> None:
        """Copy these weights into ``model``, which must have the same architecture."""
        for p, data in zip(model.parameters(), self.params, strict=True):
            p.data[...] = data
        for (_, target), data in zip(model.named_buffers(), self.buffers,
                                     strict=True):
            target[...] = data


def take_snapshot(model, step: int, probe: np.ndarray | None,
                  batch: np.ndarray | None = None) -> WeightSnapshot:
    """Copy the model's state and, for a probe (1, 1, H, W), its activations; and
    the first SNAPSHOT_BATCH images of a training batch (N, 1, H, W)."""
    # activations() runs in evaluation mode and caches nothing, so it leaves the
    # training state alone; its outputs are fresh arrays the GUI may keep.
    activations = None if probe is None else model.activations(probe)
    return WeightSnapshot(
        step=step,
        params=[p.data.copy() for p in model.parameters()],
        buffers=[value.copy() for _, value in model.named_buffers()],
        activations=activations,
        # Weak: a snapshot must not keep a replaced model alive.
        source=weakref.ref(model),
        batch=None if batch is None else np.array(batch[:SNAPSHOT_BATCH]),
    )
