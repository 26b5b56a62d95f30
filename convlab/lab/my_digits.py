"""My digits in words and numbers: what the room says about the student's own
digits, and the fine-tuning run that teaches the network their handwriting."""

from dataclasses import dataclass

import numpy as np

from convlab.data.my_digits import MyDigits, mix_for_fine_tuning
from convlab.data.synthetic import generate_digits
from convlab.train import TrainConfig, Trainer

# Test images used for "before / after" on the test set: all of the official
# 10,000 (about a second in a background thread), because on a small subset chance
# alone moves the figure by half a point and hides what fine-tuning changed.
TEST_SUBSET = 10_000
# My digits make up this share of the fine-tuning set; the rest are base digits, so
# the network keeps practising everything it already knew.
MY_SHARE = 0.25
BASE_SIZE = 2000
BATCH_SIZE = 32


@dataclass
class FineTuneRequest:
    """Everything a fine-tuning run needs, copied so the store may change meanwhile.

    digits: an in-memory MyDigits copy (never saved); base: (x_train (M, 1, 28, 28),
    y_train (M,)) or None for the built-in generated digits; config: the TrainConfig.
    """

    digits: MyDigits
    base: tuple | None
    config: TrainConfig

    def build_trainer(self, model) -> Trainer:
        """A Trainer on ``model`` for My digits mixed into the base digits.

        Called in the training thread (TrainingSession.start_trainer's factory), so
        generating digits or mixing thousands of images never freezes the window.
        """
        rng = np.random.default_rng(self.config.seed)
        if self.base is None:
            # Only BASE_SIZE base digits are mixed in, so generate just those.
            x, y_base = generate_digits(BASE_SIZE, rng)
            x_base = x[:, None]  # (BASE_SIZE, 1, 28, 28)
        else:
            x_base, y_base = self.base
        x, y = mix_for_fine_tuning(self.digits, x_base, y_base, rng,
                                   my_share=MY_SHARE, base_size=BASE_SIZE)
        # No validation split: the room measures My digits and the test set itself.
        return Trainer(model, (x, y), None, self.config, rng=rng)


def fine_tune_request(store, base, epochs, lr, seed) -> FineTuneRequest:
    """Fine-tuning with Adam at learning rate lr on a copy of store's digits.

    base: (x_train, y_train) or None, as in FineTuneRequest.
    """
    digits = MyDigits(store.folder)  # in memory only: never saved
    digits.extend(store)
    config = TrainConfig(epochs=epochs, batch_size=BATCH_SIZE, lr=lr,
                         optimizer="adam", val_fraction=0.0, seed=seed)
    return FineTuneRequest(digits, base, config)


def percent(accuracy) -> str:
    """An accuracy 0..1 as the before/after table shows it; None (not measured): —."""
    return "—" if accuracy is None else f"{accuracy:.1%}"


def gallery_summary(labels, predictions, training) -> str:
    """The line above the gallery: how many digits the network reads right.

    labels (N,); predictions (N,) the digits the network reads, or None before it
    has looked; training: a run is going, so the marks are from before it.
    """
    n = len(labels)
    if n == 0:
        return "No digits yet: draw one and press its key."
    if predictions is None:
        return f"{n} labelled drawing{'s' if n != 1 else ''}."
    right = int(np.sum(np.asarray(predictions) == np.asarray(labels)))
    return (f"The network reads {right} of your {n} digits right ({right / n:.0%})."
            " Under each: your label → what the network reads. Red ones it gets "
            "wrong: those are what fine-tuning can fix."
            + (" Marks update when training ends." if training else ""))
