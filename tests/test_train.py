"""Tests for the training loop: progress, controls, schedule, checkpoints, NaN guard."""

import queue
import threading
import time

import numpy as np
import pytest

from convlab import nn
from convlab.data.sources import load_dataset
from convlab.evaluation import evaluate
from convlab.resources import BUNDLED_MODEL, resource_path
from convlab.train import (
    STALL_AFTER_STEPS,
    TrainConfig,
    Trainer,
    TrainingDiverged,
    resume_config,
    scheduled_lr,
)

BUNDLED = resource_path(BUNDLED_MODEL)


def bars_dataset(n, seed=0):
    """12x12 images with one bright bar: class 0 horizontal, class 1 vertical."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 0.1, size=(n, 1, 12, 12)).astype(np.float32)
    y = np.arange(n) % 2
    for i in range(n):
        pos = rng.integers(2, 10)
        if y[i] == 0:
            x[i, 0, pos, 2:10] = 1.0
        else:
            x[i, 0, 2:10, pos] = 1.0
    return x, y.astype(np.int64)


def small_net(seed=0, dropout=0.0):
    """A small conv net for 12x12 images with two classes; optional dropout."""
    rng = np.random.default_rng(seed)
    layers = [nn.Conv2d(1, 4, 3, rng=rng), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(4 * 5 * 5, 2, rng=rng))
    return nn.Sequential(*layers)


def make_trainer(epochs=2, batch_size=8, n=40, dropout=0.0, **config):
    """A seeded trainer on the bars problem with a small validation set."""
    cfg = TrainConfig(epochs=epochs, batch_size=batch_size, seed=3, **config)
    return Trainer(small_net(dropout=dropout), train=bars_dataset(n),
                   val=bars_dataset(16, seed=1), config=cfg)


def weights(model):
    """Copies of all parameters and buffers of a model."""
    return model.state_dict()


def assert_same_weights(a, b):
    """Two state dicts hold exactly the same arrays."""
    assert a.keys() == b.keys()
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


def test_steps_report_progress_and_epoch_results():
    """Every step yields numbers; the last step of each epoch carries its metrics."""
    trainer = make_trainer(epochs=2, batch_size=8, n=36)   # 5 batches per epoch
    results = list(trainer.steps())
    assert [r.step for r in results] == list(range(1, 11))
    assert [r.epoch for r in results] == [1] * 5 + [2] * 5
    assert [r.batch for r in results[:5]] == [1, 2, 3, 4, 5]
    assert results[-1].progress == 1.0 and results[-1].eta_seconds == 0.0
    assert all(np.isfinite(r.loss) and 0 <= r.accuracy <= 1 for r in results)
    assert all(r.images_per_sec > 0 and r.lr == 1e-3 for r in results)
    epoch_results = [r.epoch_result for r in results if r.epoch_result]
    assert [e.epoch for e in epoch_results] == [1, 2]
    assert [r.step for r in results if r.epoch_result] == [5, 10]
    assert epoch_results[1].val_acc is not None and 0 <= epoch_results[1].val_acc <= 1
    assert trainer.epoch_results == epoch_results
    assert trainer.state == "finished"


def test_learns_the_bars_problem():
    """A few epochs of Adam take a small conv net to high validation accuracy."""
    trainer = make_trainer(epochs=6, batch_size=16, n=200, lr=0.01)
    results = list(trainer.steps())
    assert results[-1].epoch_result.val_acc >= 0.9
    assert trainer.epoch_results[-1].train_loss < trainer.epoch_results[0].train_loss


def test_without_validation_data_val_metrics_are_none():
    """With val=None the epoch results have no validation numbers."""
    cfg = TrainConfig(epochs=1, batch_size=10)
    trainer = Trainer(small_net(), train=bars_dataset(20), config=cfg)
    (last,) = [r for r in trainer.steps() if r.epoch_result]
    assert last.epoch_result.val_loss is None and last.epoch_result.val_acc is None


def test_stop_ends_the_loop_between_steps():
    """stop() after two steps ends steps() with exactly two steps done."""
    trainer = make_trainer()
    seen = []
    for result in trainer.steps():
        seen.append(result.step)
        if result.step == 2:
            trainer.stop()
    assert seen == [1, 2]
    assert trainer.step == 2 and trainer.state == "stopped"


def run_in_thread(trainer):
    """Consume trainer.steps() in a worker thread, putting each result in a queue."""
    results = queue.Queue()
    errors = []

    def consume():
        try:
            for result in trainer.steps():
                results.put(result)
        except Exception as exc:   # surfaced by the test's assertions
            errors.append(exc)

    thread = threading.Thread(target=consume, daemon=True)
    thread.start()
    return thread, results, errors


def wait_until(condition):
    """Poll until condition() is true; a generous bound only guards against hangs."""
    for _ in range(2000):
        if condition():
            return
        time.sleep(0.005)
    raise AssertionError("condition never became true")


def test_pause_single_step_and_resume_from_another_thread():
    """Paused, the loop waits; step_once runs one step; resume runs to the end."""
    trainer = make_trainer(epochs=1, batch_size=8, n=40)   # 5 steps
    trainer.pause()
    thread, results, errors = run_in_thread(trainer)
    wait_until(lambda: trainer.state == "paused")
    assert results.empty() and trainer.step == 0

    trainer.step_once()
    assert results.get(timeout=30).step == 1
    wait_until(lambda: trainer.state == "paused")
    assert results.empty() and trainer.step == 1 and trainer.paused

    trainer.resume()
    thread.join(timeout=60)
    assert not thread.is_alive() and not errors
    assert [results.get_nowait().step for _ in range(4)] == [2, 3, 4, 5]
    assert trainer.state == "finished"


def test_stop_while_paused_ends_the_loop():
    """stop() wakes a paused loop, which ends without another step."""
    trainer = make_trainer()
    trainer.pause()
    thread, results, errors = run_in_thread(trainer)
    wait_until(lambda: trainer.state == "paused")
    trainer.stop()
    thread.join(timeout=60)
    assert not thread.is_alive() and not errors
    assert results.empty() and trainer.state == "stopped"


def test_submit_runs_in_the_training_thread_between_steps():
    """Submitted commands run in the thread consuming steps(), also while paused."""
    trainer = make_trainer(epochs=1, n=40)
    trainer.pause()
    thread, results, errors = run_in_thread(trainer)
    wait_until(lambda: trainer.state == "paused")

    first_weight = trainer.model.parameters()[0].data

    def edit_kernel():
        first_weight[0] = 0.5
        return threading.get_ident(), trainer.step

    future = trainer.submit(edit_kernel)
    ident, step = future.result(timeout=30)
    assert ident == thread.ident and step == 0
    np.testing.assert_array_equal(first_weight[0], 0.5)

    failing = trainer.submit(lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        failing.result(timeout=30)
    trainer.resume()
    thread.join(timeout=60)
    assert not errors and trainer.state == "finished"


def test_set_lr_takes_effect_at_the_next_step():
    """set_lr mid-run changes the learning rate the next step uses."""
    trainer = make_trainer()
    steps = trainer.steps()
    assert next(steps).lr == pytest.approx(1e-3)
    trainer.set_lr(0.05)
    assert next(steps).lr == pytest.approx(0.05)
    assert trainer.optimizer.lr == pytest.approx(0.05)
    with pytest.raises(ValueError, match="learning rate"):
        trainer.set_lr(-1)


def test_cosine_schedule_decays_from_the_base_rate():
    """Cosine starts at the base rate, falls monotonically, and stays above zero."""
    trainer = make_trainer(epochs=2, schedule="cosine", lr=0.01)
    lrs = [r.lr for r in trainer.steps()]
    assert lrs[0] == pytest.approx(0.01)
    assert all(a > b for a, b in zip(lrs, lrs[1:], strict=False))
    assert 0 < lrs[-1] < 0.001
    assert scheduled_lr(0.01, "cosine", 5, 10) == pytest.approx(0.005)
    assert scheduled_lr(0.01, "constant", 9, 10) == 0.01


@pytest.mark.parametrize("stop_at", [3, 5])
def test_resume_from_checkpoint_continues_identically(tmp_path, stop_at):
    """Stop mid-epoch or at an epoch end, checkpoint, resume: same weights as no break.

    Augmentation and dropout are on, so the RNG state must be restored exactly.
    """
    options = dict(epochs=2, batch_size=8, n=40, dropout=0.3, augment=True)
    uninterrupted = make_trainer(**options)
    full = [r.loss for r in uninterrupted.steps()]

    first = make_trainer(**options)
    for result in first.steps():
        if result.step == stop_at:
            first.stop()
    path = tmp_path / "run.checkpoint.npz"
    first.save_checkpoint(path)

    second = Trainer.from_checkpoint(path, train=bars_dataset(40),
                                     val=bars_dataset(16, seed=1))
    assert second.step == stop_at
    rest = [r.loss for r in second.steps()]
    assert rest == full[stop_at:]
    assert_same_weights(weights(second.model), weights(uninterrupted.model))
    assert second.epoch_results == uninterrupted.epoch_results


def test_resume_can_extend_the_number_of_epochs(tmp_path):
    """A finished run's checkpoint resumes with more epochs and trains them."""
    trainer = make_trainer(epochs=1, n=16)
    list(trainer.steps())
    trainer.save_checkpoint(tmp_path / "done.npz")
    assert resume_config(nn.load_model(tmp_path / "done.npz")).epochs == 1
    more = Trainer.from_checkpoint(tmp_path / "done.npz", train=bars_dataset(16),
                                   epochs=3)
    assert [r.epoch for r in more.steps() if r.epoch_result] == [2, 3]


def test_resume_rejects_a_plain_model_file(tmp_path):
    """A model saved without training state cannot be resumed, with a clear reason."""
    nn.save_model(tmp_path / "plain.npz", small_net())
    with pytest.raises(ValueError, match="no training state"):
        Trainer.from_checkpoint(tmp_path / "plain.npz", train=bars_dataset(8))


def crafted_checkpoint(tmp_path, change):
    """A real checkpoint from step 2 of make_trainer(), loaded, then ``change``d."""
    trainer = make_trainer()
    steps = trainer.steps()
    next(steps)
    next(steps)
    trainer.save_checkpoint(tmp_path / "run.npz")
    checkpoint = nn.load_model(tmp_path / "run.npz")
    change(checkpoint, checkpoint.extra["trainer"])
    return checkpoint


def set_entry(name, value):
    """A change for crafted_checkpoint that sets one entry of the trainer state."""
    return lambda checkpoint, state: state.__setitem__(name, value)


def set_setting(name, value):
    """A change for crafted_checkpoint that sets one setting of the stored config."""
    return lambda checkpoint, state: state["config"].__setitem__(name, value)


def other_optimizer(checkpoint, state):
    """Claim the optimizer state belongs to SGD while the config says Adam."""
    checkpoint.optimizer_state["type"] = "SGD"


@pytest.mark.parametrize("change, match", [
    (set_setting("colour", "red"), "unknown setting 'colour' in 'config'"),
    (set_setting("lr", "fast"), "lr must be a number, got 'fast'"),
    (set_setting("epochs", 0), "epochs and batch_size must be >= 1"),
    (lambda c, state: state.pop("rng_state"), "'rng_state' missing"),
    (set_entry("rng_state", {"state": 1}), "'rng_state' is not a random generator"),
    (set_entry("extra_entry", 1), "unknown entry 'extra_entry'"),
    (set_entry("epoch", "3"), "'epoch' must be a whole number, got '3'"),
    (set_entry("batch", -1), "'batch' must be >= 0"),
    (set_entry("batch", 99), "'batch' is 99 but an epoch has only 5 batches"),
    (set_entry("base_lr", None), "'base_lr' must be a number"),
    (set_entry("order", [0] * 40), "'order' is not a shuffled list"),
    (set_entry("order", "0 1 2"), "'order' must be null or a list"),
    (set_entry("epoch_results", [{"epoch": 1}]), "epoch result 1 must have exactly"),
    (other_optimizer, "optimizer state does not fit"),
])
def test_resume_explains_a_damaged_checkpoint(tmp_path, change, match):
    """Crafted or damaged training state: one ValueError naming what is wrong."""
    checkpoint = crafted_checkpoint(tmp_path, change)
    with pytest.raises(ValueError, match=match):
        Trainer.from_checkpoint(checkpoint, train=bars_dataset(40))


def test_nan_guard_restores_the_last_good_weights():
    """A NaN weight makes the loss NaN: the loop stops, restores, and says why."""
    trainer = make_trainer()
    steps = trainer.steps()
    before_step_2 = None
    for _ in range(2):
        before_step_2 = weights(trainer.model)
        next(steps)
    # Poison the weights as an exploding update would.
    trainer.model.parameters()[0].data[0, 0, 0, 0] = np.nan
    with pytest.raises(TrainingDiverged, match="nan.*smaller learning rate") as info:
        next(steps)
    assert info.value.step == 3 and np.isnan(info.value.loss)
    # The weights that gave step 2 its finite loss are back.
    assert_same_weights(weights(trainer.model), before_step_2)
    assert trainer.state == "diverged"


def test_nan_guard_catches_a_huge_learning_rate():
    """SGD with an absurd learning rate diverges and ends with finite weights."""
    trainer = make_trainer(epochs=3, optimizer="sgd", lr=1e30, momentum=0.9)
    with pytest.raises(TrainingDiverged, match="learning rate"):
        for _ in trainer.steps():
            pass
    assert all(np.isfinite(p.data).all() for p in trainer.model.parameters())


def patterns_dataset(n, seed=0):
    """12x12 noisy copies of ten fixed random patterns, one per class."""
    prototypes = np.random.default_rng(99).random((10, 12, 12)) > 0.7
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 10
    flips = rng.random((n, 12, 12)) < 0.05
    x = (prototypes[y] ^ flips).astype(np.float32)[:, None]     # (n, 1, 12, 12)
    return x, y.astype(np.int64)


def ten_class_trainer(optimizer, lr, epochs):
    """A seeded trainer of a small conv net on the ten-pattern problem."""
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, rng=rng), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(4 * 5 * 5, 16, rng=rng), nn.ReLU(),
                          nn.Linear(16, 10, rng=rng))
    cfg = TrainConfig(epochs=epochs, batch_size=20, lr=lr, optimizer=optimizer, seed=3)
    return Trainer(model, train=patterns_dataset(400), config=cfg)


def test_loss_explosion_raises_an_alarm_and_restores_weights_from_before_it():
    """Adam switched to lr 1.0 mid-run: an "exploded" alarm, pre-spike weights back."""
    trainer = make_trainer(epochs=20, batch_size=16, n=200, lr=0.01)
    steps = trainer.steps()
    used = {}       # step -> the weights that step started from
    losses = {}
    alarm = None
    while alarm is None:
        used[trainer.step + 1] = weights(trainer.model)
        result = next(steps)
        losses[result.step] = result.loss
        alarm = result.alarm
        if result.step == 30:
            trainer.set_lr(1.0)
    assert alarm.kind == "exploded" and alarm.step == result.step > 30
    assert "learning rate 1 is too high for adam" in alarm.message
    assert "Try 0.1" in alarm.message
    assert trainer.restore_points() == ("before_spike", "start")

    trainer.restore("before_spike")
    restored = weights(trainer.model)
    (match,) = [s for s, w in used.items()
                if all(np.array_equal(w[k], restored[k]) for k in w)]
    assert match <= 30 and losses[match] < losses[alarm.step] / 10
    assert trainer.optimizer.step_count == 0     # Adam's moments start afresh
    trainer.restore("start")
    assert_same_weights(weights(trainer.model), used[1])
    assert next(steps).alarm is None


def test_explosion_in_the_first_steps_is_judged_against_chance_level():
    """Adam at lr 1.0 from the start explodes before a median exists: alarm, "start"."""
    trainer = ten_class_trainer("adam", 1.0, epochs=1)
    start = weights(trainer.model)
    alarm = next(r.alarm for r in trainer.steps() if r.alarm)
    assert alarm.kind == "exploded" and alarm.step < 10
    assert "ln of the number of classes" in alarm.message
    assert trainer.restore_points() == ("start",)
    trainer.restore("start")
    assert_same_weights(weights(trainer.model), start)


def test_restore_names_the_available_points():
    """Before any step nothing can be restored, and the error says what exists."""
    trainer = make_trainer()
    assert trainer.restore_points() == ()
    with pytest.raises(ValueError, match="none yet"):
        trainer.restore("start")


def test_sgd_stuck_at_chance_raises_one_stalled_alarm():
    """SGD at lr 1.0 sits at ln 10 and 10% accuracy: one "stalled" warning, no stop."""
    trainer = ten_class_trainer("sgd", 1.0, epochs=10)   # 200 steps
    results = list(trainer.steps())
    alarms = [r.alarm for r in results if r.alarm]
    assert [a.kind for a in alarms] == ["stalled"]
    assert alarms[0].step >= STALL_AFTER_STEPS
    assert "ln 10 = 2.303" in alarms[0].message and "try 0.1" in alarms[0].message
    assert trainer.state == "finished"


@pytest.mark.parametrize("optimizer, lr", [("adam", 0.01), ("sgd", 0.01)])
def test_healthy_runs_raise_no_alarm(optimizer, lr):
    """Runs that learn, down to losses near zero that bounce, raise no alarm."""
    trainer = ten_class_trainer(optimizer, lr, epochs=10)
    results = list(trainer.steps())
    assert [r.alarm for r in results if r.alarm] == []
    assert results[-1].loss < 0.5


def test_config_rejects_impossible_settings():
    """Unknown optimizer or schedule, zero epochs and bad rates raise ValueError."""
    with pytest.raises(ValueError, match="optimizer"):
        TrainConfig(optimizer="rmsprop")
    with pytest.raises(ValueError, match="schedule"):
        TrainConfig(schedule="step")
    with pytest.raises(ValueError, match="epochs"):
        TrainConfig(epochs=0)
    with pytest.raises(ValueError, match="learning rate"):
        TrainConfig(lr=float("nan"))
    with pytest.raises(ValueError, match="val_fraction"):
        TrainConfig(val_fraction=1.0)
    with pytest.raises(ValueError, match="momentum must be a number >= 0"):
        TrainConfig(momentum=-0.1)
    with pytest.raises(ValueError, match="seed must be >= 0"):
        TrainConfig(seed=-1)
    with pytest.raises(ValueError, match="epochs must be a whole number"):
        TrainConfig(epochs="5")
    with pytest.raises(ValueError, match="unknown augment_options wobble"):
        TrainConfig(augment_options={"wobble": 1})


def test_clean_epochs_train_on_the_images_as_they_are():
    """With augment and clean_epochs=1, the first epoch trains on distorted images
    and the last one on the training images themselves."""
    trainer = make_trainer(epochs=2, augment=True, clean_epochs=1)
    plain = {image.tobytes() for image in trainer.x_train}
    seen = {1: [], 2: []}
    for result in trainer.steps():
        seen[result.epoch] += [image.tobytes() in plain
                               for image in trainer.last_batch[0]]
    assert len(seen[1]) == len(seen[2]) == len(trainer.x_train)
    assert not any(seen[1])
    assert all(seen[2])


def test_clean_epochs_must_fit_in_the_run():
    """clean_epochs below 0 or above epochs is refused with the allowed range."""
    for clean in (-1, 3):
        with pytest.raises(ValueError, match=r"clean_epochs must be in \[0, epochs"):
            TrainConfig(epochs=2, clean_epochs=clean)


def test_bundled_model_reads_real_digits(mnist_dir):
    """The bundled model is small and scores at least 99.0% on the official test set."""
    assert BUNDLED.stat().st_size < 5_000_000
    model = nn.load_model(BUNDLED).model
    test = load_dataset(mnist_dir)
    assert evaluate(model, test.x_test, test.y_test)["accuracy"] >= 0.99


def test_sample_network_without_augmentation_floor(mnist_dir):
    """The sample network, 5 epochs without augmentation: >= 97.5% on the test set.

    Same recipe and seed as the reported `train` command (Adam, cosine schedule from
    lr 0.002, batch 64, all training images); one BLAS thread keeps it quick on a
    busy machine.
    """
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from convlab.nn.architectures import NAMED_ARCHS, build

    data = load_dataset(mnist_dir)
    config = TrainConfig(epochs=5, batch_size=64, lr=0.002, schedule="cosine", seed=0)
    rng = np.random.default_rng(config.seed)
    model = build(NAMED_ARCHS["sample"], rng)
    trainer = Trainer(model, (data.x_train, data.y_train), config=config, rng=rng)
    with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
        for _ in trainer.steps():
            pass
        accuracy = evaluate(model, data.x_test, data.y_test)["accuracy"]
    assert accuracy >= 0.975
