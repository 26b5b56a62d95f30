"""Step one batch: the Training tab shows what that batch changed, layer by layer."""

import numpy as np
import pytest

from convlab.data.sources import Dataset
from convlab.gui.training.panel import TrainingPanel
from convlab.gui.training.session import TrainingSession
from convlab.gui.training.worker import TrainingWorker
from convlab.lab.snapshots import clone_model
from convlab.lab.update import batch_loss
from convlab.nn.architectures import ArchSpec, ConvBlock, build
from convlab.train import TrainConfig, Trainer

TINY = ArchSpec(blocks=[ConvBlock(4, 3, pool="max", pool_size=2)], dense=16)


def random_dataset(n):
    """n random images and labels: nothing to learn, but every step has gradients."""
    rng = np.random.default_rng(0)
    x = rng.random((n, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, n)
    return Dataset("random", x, y, x[:16], y[:16])


@pytest.fixture
def tab(qtbot, messages):
    """A Training panel wired to a session whose model the test holds."""
    panel = TrainingPanel()
    qtbot.addWidget(panel)
    session = TrainingSession(panel, seed=0)
    session.set_dataset(random_dataset(400))
    session.set_model(build(TINY, np.random.default_rng(0)))
    panel.set_arch(TINY)
    panel.settings.batch_size.setValue(16)
    panel.settings.epochs.setValue(20)
    yield panel, session
    session.shutdown()


def _step_with_update(qtbot, panel, session):
    """Click Step one batch; the progress report that carries the step's update."""
    with qtbot.waitSignal(session.progress, timeout=60000,
                          check_params_cb=lambda p: p.update is not None) as blocker:
        panel.step.click()
    qtbot.waitUntil(lambda: session.trainer.state == "paused", timeout=60000)
    return blocker.args[0]


def _assert_measured(update, before, model, batch):
    """Every number of the update equals what the weights before and after say."""
    with_weights = [i for i, layer in enumerate(model.layers)
                    if getattr(layer, "weight", None) is not None]
    assert [entry.layer_index for entry in update.layers] == with_weights
    for entry in update.layers:
        w0 = before.layers[entry.layer_index].weight.data.astype(np.float64)
        param = model.layers[entry.layer_index].weight
        w1 = param.data.astype(np.float64)
        assert entry.weight_norm == pytest.approx(np.linalg.norm(w0))
        assert entry.grad_norm == pytest.approx(np.linalg.norm(param.grad))
        assert entry.change_ratio == pytest.approx(
            np.linalg.norm(w1 - w0) / np.linalg.norm(w0))
        assert entry.sgd_ratio == pytest.approx(
            update.lr * np.linalg.norm(param.grad) / np.linalg.norm(w0))
        assert entry.change_ratio > 0
    x, y = batch
    assert len(x) == update.batch_size == 16
    assert update.loss_before == pytest.approx(batch_loss(before, x, y))
    assert update.loss_after == pytest.approx(batch_loss(model, x, y))


def test_step_one_batch_shows_the_update_measured_on_the_model(qtbot, tab):
    """From idle: the table's sizes are the model's |dW|, |W| and |dW| / |W|."""
    panel, session = tab
    before = clone_model(session.model)
    progress = _step_with_update(qtbot, panel, session)
    update = progress.update
    assert update.step == progress.step == 1
    _assert_measured(update, before, session.model, session.trainer.last_batch)
    assert panel.step_summary.shown() is update
    assert panel.step_summary.isVisibleTo(panel)
    text = panel.step_summary.text()
    assert f"{update.loss_before:.4f}</b> to <b>{update.loss_after:.4f}" in text
    for entry in update.layers:
        assert f"{100 * entry.change_ratio:.3g}%" in text
    assert "|ΔW| / |W|" in panel.step_summary.toolTip()


def test_a_second_step_is_measured_against_the_first(qtbot, tab):
    """Step twice: the second update compares the weights after step 1 with step 2."""
    panel, session = tab
    _step_with_update(qtbot, panel, session)
    before = clone_model(session.model)
    progress = _step_with_update(qtbot, panel, session)
    assert progress.update.step == 2
    _assert_measured(progress.update, before, session.model,
                     session.trainer.last_batch)


def test_a_new_run_hides_the_last_steps_table(qtbot, tab):
    """The table belongs to its run: a new run starts without one."""
    panel, session = tab
    _step_with_update(qtbot, panel, session)
    panel.new_run()
    assert panel.step_summary.shown() is None
    assert not panel.step_summary.isVisibleTo(panel)


def test_only_the_single_step_carries_an_update():
    """A plain run reports no update; step_once's step does, then none again."""
    model = build(TINY, np.random.default_rng(0))
    data = random_dataset(64)
    trainer = Trainer(model, (data.x_train, data.y_train), None,
                      TrainConfig(epochs=1, batch_size=16, seed=0))
    worker = TrainingWorker(model, lambda: trainer, interval=0.0)
    reports = []
    worker.progress.connect(reports.append)
    worker.pause()
    worker.step_once()
    # Once the measured step is done, let the run go on to its end.
    worker.progress.connect(lambda p: worker.resume() if p.update else None)
    worker.run()
    updates = [p.update for p in reports]
    assert updates[0] is not None and updates[0].step == 1
    assert all(u is None for u in updates[1:])
    assert sum(len(p.steps) for p in reports) == 4
