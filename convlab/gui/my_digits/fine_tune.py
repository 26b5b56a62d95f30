"""Fine-tuning on My digits: the request the panel sends to the training session."""

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
        # No validation split: the panel measures My digits and the test set itself.
        return Trainer(model, (x, y), None, self.config, rng=rng)


def copy_digits(store: MyDigits) -> MyDigits:
    """An independent in-memory copy of ``store`` (the copy is never saved)."""
    copy = MyDigits(store.folder)
    for image, label in zip(store.images, store.labels, strict=True):
        copy.add(image, label)
    return copy

