"""convlab.lab.my_digits: the figures and words of the My digits room, and the
fine-tuning request."""

import numpy as np

from convlab import nn
from convlab.data.my_digits import MyDigits
from convlab.lab import my_digits


def small_store(folder, labels=(3, 7)):
    """A store holding one flat image per label."""
    store = MyDigits(folder)
    for k, label in enumerate(labels):
        store.add(np.full((28, 28), 0.1 * (k + 1), np.float32), label)
    return store


def test_percent_shows_a_dash_until_measured():
    """An accuracy is shown with one decimal; None (not measured) is a dash."""
    assert my_digits.percent(0.8771) == "87.7%"
    assert my_digits.percent(1.0) == "100.0%"
    assert my_digits.percent(None) == "—"


def test_gallery_summary_counts_the_digits_read_right():
    """The summary says how many of the digits the network reads right."""
    text = my_digits.gallery_summary([3, 7, 3, 1], [3, 1, 3, 1], training=False)
    assert text.startswith("The network reads 3 of your 4 digits right (75%).")
    assert "Marks update" not in text
    training = my_digits.gallery_summary([3], [3], training=True)
    assert training.endswith("Marks update when training ends.")


def test_gallery_summary_without_marks_or_digits():
    """Without marks it counts the drawings; without digits it says how to add one."""
    assert my_digits.gallery_summary([3, 7], None, False) == "2 labelled drawings."
    assert my_digits.gallery_summary([3], None, False) == "1 labelled drawing."
    assert my_digits.gallery_summary([], None, False).startswith("No digits yet")


def test_fine_tune_request_keeps_its_own_copy(tmp_path):
    """The request's digits stay as they were when the store changes afterwards."""
    store = small_store(tmp_path)
    request = my_digits.fine_tune_request(store, None, epochs=4, lr=3e-4, seed=9)
    store.remove(0)
    store.add(np.zeros((28, 28), np.float32), 5)
    assert request.digits.labels.tolist() == [3, 7]
    config = request.config
    assert (config.epochs, config.lr, config.seed) == (4, 3e-4, 9)
    assert config.batch_size == my_digits.BATCH_SIZE
    assert config.optimizer == "adam" and config.val_fraction == 0.0


def test_fine_tune_trainer_mixes_base_digits_with_mine(tmp_path):
    """The trainer trains on base digits with every drawing of mine mixed in."""
    store = small_store(tmp_path)
    rng = np.random.default_rng(0)
    x_base = np.zeros((60, 1, 28, 28), np.float32)
    y_base = rng.integers(0, 10, 60)
    request = my_digits.fine_tune_request(store, (x_base, y_base), 1, 1e-3, seed=0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 10, rng=rng))
    trainer = request.build_trainer(model)
    assert trainer.model is model
    mine = trainer.x_train.reshape(len(trainer.x_train), -1).max(axis=1) > 0
    assert len(trainer.x_train) == 60 + 20  # a quarter of the mix is mine
    assert sorted(set(trainer.y_train[mine].tolist())) == [3, 7]

