"""The controller's one way out: closing the window, and nothing else, ends the work."""

import numpy as np

from convlab.data.sources import Dataset
from convlab.train import TrainConfig, Trainer


def start_training(controller, dataset):
    """A long run of the window's model on dataset in the session's worker thread."""
    model = controller.model
    train = (dataset.x_train, dataset.y_train)
    config = TrainConfig(epochs=1000, batch_size=8, lr=5e-3)
    controller.session.start_trainer(
        lambda: Trainer(model, train, None, config, rng=np.random.default_rng(0)))


def many_test_digits(dataset):
    """dataset with 6,000 test digits, so an evaluation is still running at close."""
    return Dataset("many test digits", dataset.x_train, dataset.y_train,
                   np.concatenate([dataset.x_test] * 300),
                   np.concatenate([dataset.y_test] * 300))


def test_closing_during_a_run_and_an_evaluation_joins_every_thread(
        qtbot, window, tiny_dataset):
    """Closing the window while training and an evaluation run stops both and joins
    their threads before the window goes (no thread is left: see conftest)."""
    controller = window.controller
    controller.set_dataset(many_test_digits(tiny_dataset))
    start_training(controller, tiny_dataset)
    with qtbot.waitSignal(controller.session.weights_updated, timeout=20000):
        pass
    task = controller.evaluation.evaluate_test_set()
    thread = controller.session._thread
    window.close()
    assert not window.isVisible()
    assert not controller.session.is_running()
    assert thread.isFinished() and controller.session.state == "idle"
    assert not task.is_running()
    assert not controller.evaluation._tasks.running()


def test_cancelling_the_close_keeps_the_run_going(qtbot, window, tiny_dataset,
                                                  save_questions):
    """Cancel in the "Save changes?" question before closing keeps the window and
    the training run: nothing stops before the student has said yes."""
    controller = window.controller
    start_training(controller, tiny_dataset)
    with qtbot.waitSignal(controller.session.weights_updated, timeout=20000):
        pass
    save_questions.answers.append("cancel")
    window.close()
    assert len(save_questions) == 1
    assert window.isVisible()
    assert controller.session.is_running()
    controller.session.shutdown()
