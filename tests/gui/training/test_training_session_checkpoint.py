"""A run in progress survives closing the window: it is checkpointed, offered at the
next start, resumed from its step, or discarded; a broken file is set aside."""

from convlab import nn
from convlab.gui.app import create_window
from convlab.nn.architectures import ArchSpec, ConvBlock

TINY = ArchSpec(blocks=[ConvBlock(4, 3, pool="max", pool_size=2)], dense=16)


def start_run(window, dataset, epochs=100):
    """Press Start on the Training tab: the tiny network on the loaded dataset, one
    image per step, so a run of many epochs cannot end while a busy GUI thread looks
    away (40 images x 100 epochs = 4000 steps)."""
    window.controller.set_dataset(dataset)
    panel = window.training_panel
    panel.set_arch(TINY)
    panel.settings.batch_size.setValue(1)
    panel.settings.epochs.setValue(epochs)
    panel.start.click()


def next_window(qtbot):
    """The window of the next start of the app, with its saved state."""
    second = create_window(restore=True)
    qtbot.addWidget(second)
    return second


def notice_button(panel, text):
    return next(b for b in panel.notice.buttons if b.text() == text)


def test_closing_mid_run_saves_it_and_the_next_window_resumes_it(qtbot, window,
                                                                 tiny_dataset):
    """Closed mid-run, the run is on disk with every step done; the next window
    offers it, and resuming goes on from the following step."""
    start_run(window, tiny_dataset)
    session = window.controller.session
    curves = window.training_panel.curves
    qtbot.waitUntil(lambda: curves.curve_points("loss", "step") >= 30, timeout=60000)
    trainer, path = session.trainer, session.unfinished.path
    window.close()
    done = trainer.step
    assert done >= 30 and nn.load_model(path).step == done

    second = next_window(qtbot)
    second.controller.set_dataset(tiny_dataset)
    panel, session = second.training_panel, second.controller.session
    assert not panel.notice.isHidden()
    assert f"step {done}" in panel.notice.label.text()
    with qtbot.waitSignal(session.progress, timeout=60000) as blocker:
        notice_button(panel, "Resume the run").click()
    assert blocker.args[0].steps[0] == done + 1
    assert session.model is second.controller.model
    # The offer is gone. The tiny network on random digits soon gets the "not
    # learning" warning, which may already stand in its place on a busy machine.
    assert (panel.notice.isHidden()
            or "closed during a training run" not in panel.notice.label.text())
    second.close()
    assert nn.load_model(path).step > done


def test_a_finished_run_leaves_no_checkpoint(qtbot, window, tiny_dataset):
    """A run that ends by itself has nothing to resume: its checkpoint is gone."""
    session = window.controller.session
    with qtbot.waitSignal(session.finished, timeout=60000):
        start_run(window, tiny_dataset, epochs=2)
    assert not session.unfinished.path.exists()
    assert not next_window(qtbot).controller.session.unfinished.is_offered()


def test_declining_the_offer_deletes_the_unfinished_run(qtbot, window, tiny_dataset):
    """Discard on the offer deletes the stopped run's checkpoint and hides the offer."""
    session = window.controller.session
    start_run(window, tiny_dataset)
    qtbot.waitUntil(lambda: session.trainer is not None and session.trainer.step > 3,
                    timeout=60000)
    with qtbot.waitSignal(session.finished, timeout=60000):
        window.training_panel.stop.click()
    path = session.unfinished.path
    assert path.exists()
    second = next_window(qtbot)
    panel = second.training_panel
    notice_button(panel, "Discard it").click()
    assert not path.exists()
    assert panel.notice.isHidden()
    assert not next_window(qtbot).controller.session.unfinished.is_offered()


def test_a_corrupt_checkpoint_is_set_aside_with_a_message(qtbot, window):
    """An unreadable checkpoint at start-up is moved aside and explained; the
    window starts as usual."""
    path = window.controller.session.unfinished.path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not a checkpoint at all")
    second = next_window(qtbot)
    panel = second.training_panel
    assert not path.exists()
    aside = path.with_name(path.name + ".corrupt")
    assert aside.read_bytes() == b"not a checkpoint at all"
    assert "could not be read" in panel.notice.label.text()
    assert str(aside) in panel.notice.label.text()
    assert second.controller.model is not None
    assert panel.start.isEnabled()
