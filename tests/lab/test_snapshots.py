"""convlab.lab.snapshots: copies of a live model that training cannot change."""

import gc

import numpy as np
import pytest

from convlab.lab.snapshots import clone_model, take_snapshot
from convlab.nn.architectures import ArchSpec, ConvBlock, build

TINY = ArchSpec(blocks=[ConvBlock(4, 3, pool="max", pool_size=2)], dense=16,
                batch_norm=True)


@pytest.fixture
def model():
    return build(TINY, np.random.default_rng(0))


def test_clone_is_an_independent_copy(model):
    """A clone has the same architecture and weights, and changing it leaves the
    original alone."""
    clone = clone_model(model)
    assert clone is not model
    assert clone.get_config() == model.get_config()
    before = [p.data.copy() for p in model.parameters()]
    for p, q in zip(model.parameters(), clone.parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data)
        q.data += 1.0
    for p, old in zip(model.parameters(), before, strict=True):
        np.testing.assert_array_equal(p.data, old)


def test_snapshot_is_a_copy_and_applies_to_a_clone(model):
    """A snapshot keeps its values when the model changes, and apply_to restores
    them, BatchNorm statistics included."""
    snapshot = take_snapshot(model, step=3, probe=None)
    clone = clone_model(model)
    for p in model.parameters():
        p.data += 1.0
    model.layers[1].running_mean += 5.0
    assert snapshot.step == 3
    assert not np.allclose(snapshot.params[0], model.parameters()[0].data)
    snapshot.apply_to(model)
    for p, q in zip(model.parameters(), clone.parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data)
    np.testing.assert_array_equal(model.layers[1].running_mean,
                                  clone.layers[1].running_mean)


def test_snapshot_with_probe_has_every_activation(model):
    """A probe image gives one activation per layer, the last the 10 class scores."""
    snapshot = take_snapshot(model, 0, np.ones((1, 1, 28, 28), np.float32))
    assert [a.shape[1:] for a in snapshot.activations][:1] == [(4, 26, 26)]
    assert len(snapshot.activations) == len(model.layers)
    assert snapshot.activations[-1].shape == (1, 10)


def test_snapshot_without_probe_has_no_activations(model):
    """Without a probe image a snapshot carries only the weights."""
    assert take_snapshot(model, 0, None).activations is None


def test_snapshot_knows_the_model_it_came_from(model):
    """A snapshot tells its own live model from any other, even an exact copy."""
    snapshot = take_snapshot(model, 0, None)
    assert snapshot.is_from(model)
    assert not snapshot.is_from(clone_model(model))
    assert not snapshot.is_from(None)


def test_snapshot_does_not_keep_a_replaced_model_alive():
    """Once the model is gone, its snapshot no longer claims to come from it."""
    model = build(TINY, np.random.default_rng(0))  # not a fixture: none keeps it
    snapshot = take_snapshot(model, 0, None)
    del model
    gc.collect()
    assert snapshot.source() is None
