"""The Training tab's plain epochs at the end of an augmented run: the box, its
bounds, its stored value and the TrainConfig a run from the panel gets."""

import numpy as np
import pytest

from convlab.data.sources import Dataset
from convlab.gui.training import session as session_module
from convlab.gui.training.panel import TrainingPanel
from convlab.gui.training.session import TrainingSession
from convlab.gui.training.settings import TrainingSettings
from convlab.nn.architectures import ArchSpec, ConvBlock
from convlab.train import Trainer

TINY = ArchSpec(blocks=[ConvBlock(4, 3, pool="max", pool_size=2)], dense=16)


@pytest.fixture
def settings(qtbot):
    """A TrainingSettings box on its own."""
    box = TrainingSettings()
    qtbot.addWidget(box)
    return box


@pytest.fixture
def tab(qtbot, monkeypatch):
    """A panel wired to a session on 100 random images; the Trainers the session
    builds are kept, so a test can read their config; the thread is joined after."""
    built = []

    class RecordingTrainer(Trainer):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            built.append(self)

    monkeypatch.setattr(session_module, "Trainer", RecordingTrainer)
    panel = TrainingPanel()
    qtbot.addWidget(panel)
    session = TrainingSession(panel, seed=0)
    rng = np.random.default_rng(0)
    x = rng.random((100, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, 100)
    session.set_dataset(Dataset("tiny random", x, y, x[:16], y[:16]))
    panel.set_arch(TINY)
    panel.settings.batch_size.setValue(16)
    panel.settings.epochs.setValue(2)
    yield panel, session, built, x
    session.shutdown()


def run_from_panel(qtbot, panel, session):
    """Press Start and wait for the short run to end."""
    with qtbot.waitSignal(session.finished, timeout=60000):
        panel.start.click()


def is_plain(batch, images):
    """True when every image of the batch is one of ``images`` as it is."""
    return all((images == image).all(axis=(1, 2, 3)).any() for image in batch)


def test_the_box_is_enabled_only_with_augment_and_while_idle(qtbot):
    """Plain epochs can be set only while Augment is checked and no run goes."""
    panel = TrainingPanel()
    qtbot.addWidget(panel)
    box = panel.settings.clean_epochs
    assert not panel.settings.augment.isChecked()
    assert not box.isEnabled() and not panel.settings.clean_epochs_label.isEnabled()
    panel.settings.augment.click()
    assert box.isEnabled() and panel.settings.clean_epochs_label.isEnabled()
    panel.set_state("running")
    assert not box.isEnabled()
    panel.set_state("idle")
    assert box.isEnabled()
    panel.settings.augment.click()
    assert not box.isEnabled()


def test_the_maximum_follows_the_epochs(settings):
    """The box never holds more plain epochs than the run has epochs."""
    settings.augment.setChecked(True)
    settings.epochs.setValue(5)
    assert settings.clean_epochs.maximum() == 5
    settings.clean_epochs.setValue(4)
    settings.epochs.setValue(2)
    assert settings.clean_epochs.maximum() == 2
    assert settings.clean_epochs.value() == 2
    settings.clean_epochs.setValue(7)
    assert settings.clean_epochs.value() == 2
    settings.epochs.setValue(10)
    assert settings.clean_epochs.maximum() == 10
    assert settings.clean_epochs.value() == 2


def test_values_and_restore_round_trip(settings, qtbot):
    """Stored plain epochs come back, with the epochs that bound them."""
    settings.augment.setChecked(True)
    settings.epochs.setValue(12)
    settings.clean_epochs.setValue(9)
    assert settings.values()["clean_epochs"] == 9
    again = TrainingSettings()
    qtbot.addWidget(again)
    again.restore(settings.values())
    assert again.values() == settings.values()
    assert again.clean_epochs.value() == 9 and again.clean_epochs.isEnabled()


@pytest.mark.parametrize("state", [
    {}, {"clean_epochs": "2"}, {"clean_epochs": True}, {"clean_epochs": 1.5},
    {"clean_epochs": -1}, {"clean_epochs": None}, {"clean_epochs": 10**9},
    {"epochs": 3, "clean_epochs": 4},
])
def test_restore_ignores_bad_plain_epochs(settings, state):
    """Missing, mistyped or out-of-range plain epochs keep the box's value."""
    settings.epochs.setValue(3)
    settings.clean_epochs.setValue(1)
    settings.restore(state)
    assert settings.clean_epochs.value() == 1
    assert settings.epochs.value() == 3


def test_an_augmented_run_gets_its_plain_epochs(qtbot, tab):
    """Augment with 1 plain epoch of 2: the run's TrainConfig says so, and its last
    batch is made of training images as they are."""
    panel, session, built, x = tab
    panel.settings.augment.click()
    panel.settings.clean_epochs.setValue(1)
    run_from_panel(qtbot, panel, session)
    (trainer,) = built
    assert trainer.config.augment and trainer.config.clean_epochs == 1
    assert trainer.epoch_results and len(trainer.epoch_results) == 2
    assert is_plain(trainer.last_batch[0], x)


def test_an_augmented_run_without_plain_epochs_ends_augmented(qtbot, tab):
    """With 0 plain epochs the last batch is augmented: not the images as they are."""
    panel, session, built, x = tab
    panel.settings.augment.click()
    run_from_panel(qtbot, panel, session)
    (trainer,) = built
    assert trainer.config.augment and trainer.config.clean_epochs == 0
    assert not is_plain(trainer.last_batch[0], x)


def test_a_run_without_augment_gets_no_plain_epochs(qtbot, tab):
    """Plain epochs left in the box count for nothing once Augment is off."""
    panel, session, built, _ = tab
    panel.settings.augment.click()
    panel.settings.clean_epochs.setValue(2)
    panel.settings.augment.click()
    assert panel.request().clean_epochs == 2
    run_from_panel(qtbot, panel, session)
    (trainer,) = built
    assert not trainer.config.augment and trainer.config.clean_epochs == 0
