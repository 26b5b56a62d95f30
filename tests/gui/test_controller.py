"""Tests for the controller's helpers that need no window."""

import numpy as np

from convlab import nn
from convlab.gui.controller import arch_of
from convlab.nn.architectures import NAMED_ARCHS, build


def test_arch_of_recovers_the_spec_of_built_networks():
    """arch_of gives back the ArchSpec a network was built from, None for others."""
    rng = np.random.default_rng(0)
    for name, spec in NAMED_ARCHS.items():
        assert arch_of(build(spec, rng)) == spec, name
    odd = nn.Sequential(nn.Flatten(), nn.Linear(784, 10, rng=rng))
    assert arch_of(odd) is None
