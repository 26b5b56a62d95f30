"""Tests for the controller's helpers and background tasks that need no window."""

import numpy as np
import pytest

from convlab import nn
from convlab.gui.common.tasks import BackgroundTask
from convlab.gui.controller import arch_of
from convlab.nn.architectures import NAMED_ARCHS, build


def test_arch_of_recovers_the_spec_of_built_networks():
    """arch_of gives back the ArchSpec a network was built from, None for others."""
    rng = np.random.default_rng(0)
    for name, spec in NAMED_ARCHS.items():
        assert arch_of(build(spec, rng)) == spec, name
    odd = nn.Sequential(nn.Flatten(), nn.Linear(784, 10, rng=rng))
    assert arch_of(odd) is None


@pytest.mark.parametrize("error, traceback_printed", [
    (OSError("no network"), False), (ValueError("bad file"), False),
    (KeyError("bug"), True),
])
def test_background_task_prints_a_traceback_only_for_bugs(qtbot, capfd, error,
                                                          traceback_printed):
    """Every failure becomes failed(message); only unexpected ones print a traceback."""

    def fail(report):
        raise error

    task = BackgroundTask(fail)
    with qtbot.waitSignal(task.failed) as failed, qtbot.waitSignal(task.finished):
        task.start()
    task.wait()
    assert failed.args == [str(error)]
    assert ("Traceback" in capfd.readouterr().err) == traceback_printed
