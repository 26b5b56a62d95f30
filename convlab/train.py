"""The training loop in plain Python + NumPy, driven step by step by CLI, tests and GUI.

Public API (the GUI worker, the CLI and the tests rely on these names)::

    config = TrainConfig(epochs=5, batch_size=64, lr=1e-3, optimizer="adam")
    trainer = Trainer(model, train=(x_train, y_train), val=(x_val, y_val),
                      config=config)            # optimizer and rng built from config
    for result in trainer.steps():              # one StepResult per optimisation step
        print(result.loss, result.accuracy, result.images_per_sec)
        if result.epoch_result:                 # the last step of an epoch carries
            print(result.epoch_result.val_acc)  # that epoch's validation metrics

Data: x float32 (N, 1, 28, 28) in [0, 1], y int (N,). ``val`` may be None.

Control from another thread (the GUI), all taking effect *between* steps:

* ``pause()`` / ``resume()`` / ``stop()``: threading.Events. ``steps()`` blocks inside
  its loop while paused (so call it from a worker thread, never the GUI thread) and
  simply ends after ``stop()``.
* ``step_once()``: while paused, run exactly one more step and stay paused (while
  running: run one more step, then pause).
* ``set_lr(lr)``: the new base learning rate from the next step on (a cosine schedule
  keeps scaling it down as training advances).
* ``submit(fn) -> concurrent.futures.Future``: ``fn()`` runs in the training thread
  between steps (also while paused), so exactly one thread ever writes the weights.
  The GUI sends kernel edits and filter freezes this way. The future holds fn's result
  or exception. Commands submitted after ``steps()`` has ended never run.
* ``state``: "ready", "running", "paused", "stopped", "finished" or "diverged".

A NaN/inf guard checks ``np.isfinite(loss)`` at every step. On a bad loss it restores
the last weights (and optimizer state, BatchNorm statistics) that gave a finite loss
and raises ``TrainingDiverged`` out of ``steps()`` with a message saying what happened
and what to try.

A loss can also go wrong while staying finite, so every step is watched and may carry
``result.alarm``, an ``Alarm(kind, message, step)``:

* ``"exploded"``: the loss jumped far above its recent median (see SPIKE_FACTOR). The
  trainer only reports it; the consumer decides (the CLI restores and stops, the GUI
  pauses and asks). ``restore_points()`` names the saved weights that are available,
  ``"before_spike"`` (a copy kept every RESTORE_EVERY calm steps) and ``"start"``
  (the weights of the first step); ``restore(point)`` puts one back between steps.
* ``"stalled"``: loss and accuracy have sat at chance level (ln K and 1/K for K
  classes) for a window of steps. A warning only: training goes on.

Checkpoints: ``trainer.save_checkpoint(path)`` (atomic, through ``nn.save_model``)
stores weights, optimizer state, step, the RNG state and the position inside the
epoch; ``Trainer.from_checkpoint(path, train, val)`` continues exactly where it
stopped, giving the same weights as an uninterrupted run (``resume_config`` reads
the stored TrainConfig first, e.g. to redo the same train/validation split). Call
``save_checkpoint`` from the training thread: between ``next()`` calls, or via
``submit`` while running.

Randomness (shuffling, augmentation, dropout masks) flows from one seeded
``np.random.Generator``; nothing touches the global ``np.random`` state.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import numbers
import queue
import statistics
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field

import numpy as np

from convlab import nn
from convlab.evaluation import evaluate

OPTIMIZERS = ("adam", "sgd")
SCHEDULES = ("constant", "cosine")

# Key under which the trainer keeps its own state inside a model file's `extra`.
_EXTRA_KEY = "trainer"


def _is_whole(value) -> bool:
    # JSON's true/false load as Python bools, which are ints too: refuse them.
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


# Per annotation (they are strings here, see the __future__ import): how a value must
# look, in words and as a check.
_VALUE_KINDS = {
    "int": ("a whole number", _is_whole),
    "float": ("a number", _is_number),
    "float | None": ("a number or null", lambda v: v is None or _is_number(v)),
    "str": ("a string", lambda v: isinstance(v, str)),
    "bool": ("true or false", lambda v: isinstance(v, (bool, np.bool_))),
    "dict": ("a JSON object", lambda v: isinstance(v, dict)),
}

# Loss watch. Batch losses are noisy, so a spike is judged against the median of the
# recent steps, which one bad batch cannot move (before SPIKE_MIN_STEPS steps, against
# the chance-level loss ln K every run starts near). A loss more than SPIKE_FACTOR
# times that (and above chance level, so bounces of a loss near zero do not count)
# means the last updates threw the weights far away: a learning rate too high.
SPIKE_FACTOR = 10.0
SPIKE_WINDOW = 50           # steps the median is taken over
SPIKE_MIN_STEPS = 20        # fewer steps give no trustworthy median yet
# A copy of the weights is kept every RESTORE_EVERY calm steps and becomes the
# "before_spike" restore point only after RESTORE_EVERY more calm steps, so the
# weights that started a climb are never the ones put back.
RESTORE_EVERY = 10
RESTORE_POINTS = ("before_spike", "start")
# Every run starts at chance level (loss ln K, accuracy 1/K for K classes), so a
# stall is only looked for after STALL_AFTER_STEPS steps; a healthy run has left
# chance level long before. Stalled = over the last STALL_WINDOW steps the mean loss
# is within STALL_LOSS_BAND (relative) of ln K and the mean accuracy at most
# STALL_ACC_MARGIN above 1/K. Stuck runs bounce a little above ln K, hence the band.
STALL_AFTER_STEPS = 100
STALL_WINDOW = 50
STALL_LOSS_BAND = 0.1
STALL_ACC_MARGIN = 0.05


@dataclass
class TrainConfig:
    """Every setting of a training run; stored in checkpoints so a resume is exact."""

    epochs: int = 5
    batch_size: int = 64
    lr: float = 1e-3
    optimizer: str = "adam"          # "adam" or "sgd"
    momentum: float = 0.9            # SGD only
    weight_decay: float = 0.0
    schedule: str = "constant"       # "constant" or "cosine" (decays to 0 at the end)
    augment: bool = False            # random shifts/rotations/scales of each batch
    augment_options: dict = field(default_factory=dict)  # passed to augment_batch
    clean_epochs: int = 0            # with augment: the last N epochs see plain images
    val_fraction: float = 0.1        # used by callers that split off validation data
    seed: int = 0
    eval_batch_size: int = 500

    def __post_init__(self):
        # Types first (a crafted checkpoint can hold anything), then ranges.
        for f in dataclasses.fields(self):
            description, fits = _VALUE_KINDS[f.type]
            if not fits(getattr(self, f.name)):
                raise ValueError(f"{f.name} must be {description}, got "
                                 f"{getattr(self, f.name)!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(
                f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}"
            )
        if self.schedule not in SCHEDULES:
            raise ValueError(
                f"schedule must be one of {SCHEDULES}, got {self.schedule!r}"
            )
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError(
                f"epochs and batch_size must be >= 1, got {self.epochs} and "
                f"{self.batch_size}"
            )
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ValueError(f"learning rate must be a positive number, got {self.lr}")
        if not 0.0 <= self.val_fraction < 1.0:
            raise ValueError(f"val_fraction must be in [0, 1), got {self.val_fraction}")
        for name in ("momentum", "weight_decay"):
            value = getattr(self, name)
            if not (value >= 0 and math.isfinite(value)):
                raise ValueError(f"{name} must be a number >= 0, got {value}")
        if not 0 <= self.clean_epochs <= self.epochs:
            raise ValueError(f"clean_epochs must be in [0, epochs = {self.epochs}], "
                             f"got {self.clean_epochs}")
        if self.seed < 0 or self.eval_batch_size < 1:
            raise ValueError(f"seed must be >= 0 and eval_batch_size >= 1, got "
                             f"{self.seed} and {self.eval_batch_size}")
        if self.augment_options:
            from convlab.data.augment import augment_batch

            known = set(inspect.signature(augment_batch).parameters) - {"x", "rng"}
            unknown = sorted(set(self.augment_options) - known)
            if unknown:
                raise ValueError(f"unknown augment_options {', '.join(unknown)}; "
                                 f"known: {', '.join(sorted(known))}")


@dataclass(frozen=True)
class EpochResult:
    """Metrics of one finished epoch; val_* are None when there is no validation set."""

    epoch: int                       # 1-based
    train_loss: float                # mean over the epoch's steps
    train_acc: float                 # 0..1
    val_loss: float | None
    val_acc: float | None


@dataclass(frozen=True)
class StepResult:
    """What one optimisation step did, for progress bars and live curves."""

    step: int                        # steps done so far in the whole run, 1-based
    epoch: int                       # 1-based
    batch: int                       # 1-based index of the batch inside the epoch
    batches_per_epoch: int
    loss: float                      # this batch's mean cross-entropy
    accuracy: float                  # this batch's accuracy, 0..1
    lr: float                        # learning rate used for this step
    images_per_sec: float            # smoothed training throughput (pauses excluded)
    progress: float                  # fraction of the whole run done, 0..1
    eta_seconds: float               # estimated training time left
    epoch_result: EpochResult | None = None   # set on the last step of an epoch
    alarm: Alarm | None = None       # set when this step's loss looks wrong


@dataclass(frozen=True)
class Alarm:
    """A finite loss that looks wrong: kind "exploded" or "stalled" (see the module
    docstring), a message saying what happened and what to try, and the step."""

    kind: str
    message: str
    step: int


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the last good weights have been restored."""

    def __init__(self, message: str, step: int, loss: float):
        super().__init__(message)
        self.step = step
        self.loss = loss


def make_optimizer(model, config: TrainConfig):
    """The optimizer named by ``config`` over every parameter of ``model``."""
    params = model.parameters()
    if config.optimizer == "adam":
        return nn.Adam(params, lr=config.lr, weight_decay=config.weight_decay)
    return nn.SGD(params, lr=config.lr, momentum=config.momentum,
                  weight_decay=config.weight_decay)


def scheduled_lr(base_lr: float, schedule: str, step: int, total_steps: int) -> float:
    """Learning rate for 0-based ``step`` of ``total_steps`` (constant or cosine)."""
    if schedule == "cosine":
        # Half a cosine wave: big steps early to make progress, tiny ones at the end
        # to settle into a minimum instead of bouncing around it.
        return base_lr * 0.5 * (1.0 + math.cos(math.pi * step / max(total_steps, 1)))
    return base_lr


class Trainer:
    """Trains ``model`` on ``train`` = (x, y), one step at a time, controllable from
    another thread; see the module docstring for the API."""

    def __init__(self, model, train, val=None, config: TrainConfig | None = None,
                 optimizer=None, rng: np.random.Generator | None = None):
        self.model = model
        self.config = config or TrainConfig()
        self.x_train, self.y_train = _check_data(*train, "training")
        if len(self.x_train) == 0:
            raise ValueError("the training set is empty")
        self.val = None if val is None else _check_data(*val, "validation")
        self.optimizer = (make_optimizer(model, self.config) if optimizer is None
                          else optimizer)
        self.rng = rng if rng is not None else np.random.default_rng(self.config.seed)
        _share_rng_with_dropout(model, self.rng)
        self.base_lr = self.config.lr
        self.batches_per_epoch = math.ceil(len(self.x_train) / self.config.batch_size)
        self.total_steps = self.config.epochs * self.batches_per_epoch
        self.epoch_results: list[EpochResult] = []
        self.state = "ready"
        self._good = None                 # snapshot for the NaN guard
        self._good_loss = None
        # Loss watch: (loss, accuracy) of recent steps, and restore points as
        # name -> (step, model state_dict).
        self._recent: deque = deque(maxlen=max(SPIKE_WINDOW, STALL_WINDOW))
        self._restore_points: dict[str, tuple[int, dict]] = {}
        self._pending_point: tuple[int, dict] | None = None
        self._spiked = False              # an explosion not undone by restore()
        self._stall_reported = False

        # Position in the run; all of it goes into checkpoints.
        self.step = 0
        self._epoch = 0                   # 0-based epoch in progress
        self._batch = 0                   # batches done in that epoch
        self._order: np.ndarray | None = None   # this epoch's shuffled example order
        self._epoch_loss_sum = 0.0
        self._epoch_correct = 0
        self._epoch_seen = 0
        # The (x, y) the last step trained on, augmented as it was seen: what the
        # GUI's "Step one batch" compares the loss on before and after the update.
        self.last_batch = None

        # Cross-thread controls.
        self._pause = threading.Event()
        self._stop = threading.Event()
        self._single_step = threading.Event()
        self._wake = threading.Event()    # set whenever a control or command arrives
        self._commands: queue.SimpleQueue = queue.SimpleQueue()

        # Throughput bookkeeping (pauses are excluded from both).
        self._train_seconds = 0.0
        self._session_steps = 0
        self._images_per_sec = 0.0

    def pause(self):
        """Pause before the next step."""
        self._pause.set()
        self._wake.set()

    def resume(self):
        """Continue after ``pause()``."""
        self._pause.clear()
        self._wake.set()

    def stop(self):
        """End ``steps()`` before the next step; the model keeps its current weights."""
        self._stop.set()
        self._wake.set()

    def step_once(self):
        """Run exactly one more step, then stay (or become) paused."""
        self._single_step.set()
        self._pause.set()
        self._wake.set()

    def set_lr(self, lr: float):
        """Use ``lr`` as the base learning rate from the next step on."""
        lr = float(lr)
        if not (lr > 0 and math.isfinite(lr)):
            raise ValueError(f"learning rate must be a positive number, got {lr}")
        self.base_lr = lr

    def submit(self, fn: Callable[[], object]) -> Future:
        """Run ``fn()`` in the training thread between steps; returns its Future."""
        future: Future = Future()
        self._commands.put((fn, future))
        self._wake.set()
        return future

    def restore_points(self) -> tuple[str, ...]:
        """Names of the saved weights ``restore`` can put back now, best first."""
        return tuple(name for name in RESTORE_POINTS if name in self._restore_points)

    def restore(self, point: str):
        """Put back the weights and BatchNorm statistics saved at ``point``.

        The optimizer's moment estimates are reset too: they were built from the
        gradients of the run being undone. Call between steps (via ``submit`` while
        training) or after ``steps()`` has ended.
        """
        if point not in self._restore_points:
            available = ", ".join(self.restore_points()) or "none yet"
            raise ValueError(f"no restore point {point!r}; available: {available}")
        _, state = self._restore_points[point]
        self.model.load_state_dict(state)
        optimizer = self.optimizer
        optimizer.load_state_dict({"type": type(optimizer).__name__, "step": 0,
                                   **optimizer.hyperparameters()})
        # The recent losses belong to the weights just undone.
        self._recent.clear()
        self._pending_point = None
        self._spiked = False
        self._stall_reported = False
        self._good = _snapshot(self.model, self.optimizer)

    @property
    def paused(self) -> bool:
        return self._pause.is_set()

    @property
    def current_lr(self) -> float:
        """The learning rate the next step will use."""
        return scheduled_lr(self.base_lr, self.config.schedule, self.step,
                            self.total_steps)

    def steps(self) -> Iterator[StepResult]:
        """Train until done or stopped, yielding a StepResult after every step.

        Raises TrainingDiverged (weights restored) when the loss stops being finite.
        """
        self.model.train()
        try:
            while self._epoch < self.config.epochs:
                if not self._wait_for_go():
                    self.state = "stopped"
                    return
                self.state = "running"
                yield self._train_step()
            self.state = "finished"
        finally:
            self._run_commands()

    def _wait_for_go(self) -> bool:
        """Run pending commands and honour pause/stop; False means stop now."""
        while True:
            self._wake.clear()
            self._run_commands()
            if self._stop.is_set():
                return False
            if not self._pause.is_set():
                return True
            if self._single_step.is_set():
                self._single_step.clear()
                return True
            self.state = "paused"
            self._wake.wait()

    def _run_commands(self):
        while True:
            try:
                fn, future = self._commands.get_nowait()
            except queue.Empty:
                return
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn())
            except Exception as exc:  # the caller sees it through the future
                future.set_exception(exc)

    def _train_step(self) -> StepResult:
        started = time.perf_counter()
        cfg = self.config
        if self._order is None:
            self._order = self.rng.permutation(len(self.x_train))
        start = self._batch * cfg.batch_size
        index = self._order[start:start + cfg.batch_size]
        xb, yb = self.x_train[index], self.y_train[index]
        # Distorted digits teach robustness; a few plain epochs at the end, while the
        # learning rate is small, settle the weights on digits as they really look.
        if cfg.augment and self._epoch < cfg.epochs - cfg.clean_epochs:
            from convlab.data.augment import augment_batch

            xb = augment_batch(xb, self.rng, **cfg.augment_options)
        self.last_batch = (xb, yb)

        lr = self.current_lr
        self.optimizer.lr = lr
        # Overflow while weights explode is expected and handled by the guard below,
        # so numpy's warnings about it would only be noise.
        with np.errstate(over="ignore", invalid="ignore"):
            logits = self.model.forward(xb)                       # (B, K)
            loss, dlogits = nn.softmax_cross_entropy(logits, yb)
            if not np.isfinite(loss):
                self._diverged(loss, lr)
            # The weights that just gave a finite loss are "good": keep a copy to
            # fall back on if this step's update sends the next loss to NaN or inf.
            self._good = _snapshot(self.model, self.optimizer)
            self._good_loss = float(loss)
            correct = int((logits.argmax(axis=1) == yb).sum())
            alarm = self._watch(float(loss), correct / len(yb), logits.shape[1], lr)
            self.optimizer.zero_grad()
            self.model.backward(dlogits)
            self.optimizer.step()

        self.step += 1
        self._batch += 1
        self._epoch_loss_sum += float(loss) * len(yb)
        self._epoch_correct += correct
        self._epoch_seen += len(yb)
        elapsed = time.perf_counter() - started
        self._session_steps += 1
        # Exponential moving average: steady enough to read, quick to follow changes.
        rate = len(yb) / max(elapsed, 1e-9)
        self._images_per_sec = (rate if self._session_steps == 1
                                else 0.9 * self._images_per_sec + 0.1 * rate)

        epoch_result = None
        epoch = self._epoch + 1
        batch = self._batch
        if self._batch == self.batches_per_epoch:
            epoch_result = self._finish_epoch()
        # Validation is not training throughput, but it does take time: count it in
        # the ETA only.
        self._train_seconds += time.perf_counter() - started
        seconds_per_step = self._train_seconds / self._session_steps
        return StepResult(
            step=self.step, epoch=epoch, batch=batch,
            batches_per_epoch=self.batches_per_epoch,
            loss=float(loss), accuracy=correct / len(yb), lr=lr,
            images_per_sec=self._images_per_sec,
            progress=self.step / self.total_steps,
            eta_seconds=(self.total_steps - self.step) * seconds_per_step,
            epoch_result=epoch_result, alarm=alarm,
        )

    def _watch(self, loss, accuracy, num_classes, lr) -> Alarm | None:
        """Look at this step's loss before its update; keep restore points; maybe
        return an Alarm. ``self._good`` holds the weights that gave this loss."""
        step = self.step + 1
        weights = (step, self._good[0])
        self._restore_points.setdefault("start", weights)
        chance_loss = math.log(num_classes)
        losses = [recent_loss for recent_loss, _ in self._recent]
        warm = len(losses) >= SPIKE_MIN_STEPS
        # Until the median can be trusted, compare with chance level: every run
        # starts near it.
        reference = statistics.median(losses[-SPIKE_WINDOW:]) if warm else chance_loss
        if loss > SPIKE_FACTOR * reference and loss > chance_loss:
            # Start the median afresh: the consumer restores or carries on.
            self._recent.clear()
            self._pending_point = None
            self._spiked = True
            message = self._spike_message(step, loss, reference, warm, lr)
            return Alarm("exploded", message, step)
        # After a spike that was not undone, the copy from before it is kept until
        # the median is trustworthy again and can tell calm weights from bad ones.
        if step % RESTORE_EVERY == 0 and (warm or not self._spiked):
            if self._pending_point is not None:
                self._restore_points["before_spike"] = self._pending_point
            self._pending_point = weights
        self._recent.append((loss, accuracy))

        session_step = self._session_steps + 1
        if session_step < STALL_AFTER_STEPS or len(self._recent) < STALL_WINDOW:
            return None
        window = list(self._recent)[-STALL_WINDOW:]
        mean_loss = sum(x for x, _ in window) / STALL_WINDOW
        mean_acc = sum(a for _, a in window) / STALL_WINDOW
        stalled = (abs(mean_loss - chance_loss) <= STALL_LOSS_BAND * chance_loss
                   and mean_acc <= 1 / num_classes + STALL_ACC_MARGIN)
        if not stalled:
            self._stall_reported = False  # report again if it stalls once more
            return None
        if self._stall_reported:
            return None
        self._stall_reported = True
        return Alarm("stalled", self._stall_message(mean_loss, mean_acc, num_classes,
                                                    lr), step)

    def _spike_message(self, step, loss, reference, warm, lr):
        if warm:
            compared = f"its median {reference:.4g} over the last steps"
        else:
            compared = f"the {reference:.4g} of guessing (ln of the number of classes)"
        points = []
        if "before_spike" in self._restore_points:
            points.append(f"from before the spike (step "
                          f"{self._restore_points['before_spike'][0]})")
        points.append(f"from the start (step {self._restore_points['start'][0]})")
        return (f"The loss exploded at step {step}: {loss:.4g}, more than "
                f"{SPIKE_FACTOR:g}x {compared}. The learning rate {lr:g} is too "
                f"high for {self.config.optimizer}: its updates threw the weights far "
                f"away. Try {lr / 10:g}. The weights can be restored "
                f"{' or '.join(points)}.")

    def _stall_message(self, mean_loss, mean_acc, num_classes, lr):
        return (f"The network is not learning: over the last {STALL_WINDOW} steps "
                f"the loss was {mean_loss:.3f} (guessing among {num_classes} classes "
                f"gives ln {num_classes} = {math.log(num_classes):.3f}) and the "
                f"accuracy {mean_acc:.1%} (guessing: {1 / num_classes:.0%}). Most "
                f"often the learning rate {lr:g} is too high for "
                f"{self.config.optimizer} and has left the ReLUs giving 0 for every "
                f"image (dead ReLUs): try {lr / 10:g}. A far too small rate looks "
                "the same: then try a larger one.")

    def _finish_epoch(self) -> EpochResult:
        val_loss = val_acc = None
        if self.val is not None and len(self.val[0]):
            metrics = evaluate(self.model, *self.val,
                               batch_size=self.config.eval_batch_size)
            val_loss, val_acc = metrics["loss"], metrics["accuracy"]
        result = EpochResult(
            epoch=self._epoch + 1,
            train_loss=self._epoch_loss_sum / self._epoch_seen,
            train_acc=self._epoch_correct / self._epoch_seen,
            val_loss=val_loss, val_acc=val_acc,
        )
        self.epoch_results.append(result)
        self._epoch += 1
        self._batch = 0
        self._order = None
        self._epoch_loss_sum = 0.0
        self._epoch_correct = 0
        self._epoch_seen = 0
        return result

    def _diverged(self, loss: float, lr: float):
        if self._good is not None:
            _restore(self.model, self.optimizer, self._good)
            restored = (f"the weights used at step {self.step} (loss "
                        f"{self._good_loss:.4g}) have been restored")
        else:
            restored = "there were no earlier weights to restore"
        self.state = "diverged"
        raise TrainingDiverged(
            f"Training stopped: the loss became {loss} at step {self.step + 1} "
            f"(learning rate {lr:g}), so the weights blew up; {restored}. "
            "Try a smaller learning rate.",
            step=self.step + 1, loss=float(loss),
        )

    def save_checkpoint(self, path):
        """Write weights, optimizer state, step, RNG state and position atomically."""
        state = {
            "config": dataclasses.asdict(self.config),
            "base_lr": self.base_lr,
            "epoch": self._epoch,
            "batch": self._batch,
            "order": None if self._order is None else self._order.tolist(),
            "epoch_loss_sum": self._epoch_loss_sum,
            "epoch_correct": self._epoch_correct,
            "epoch_seen": self._epoch_seen,
            "epoch_results": [dataclasses.asdict(r) for r in self.epoch_results],
            "rng_state": self.rng.bit_generator.state,
        }
        nn.save_model(path, self.model, optimizer=self.optimizer, step=self.step,
                      extra={_EXTRA_KEY: state})

    @classmethod
    def from_checkpoint(cls, checkpoint, train, val=None, epochs: int | None = None):
        """A Trainer continuing the run saved in ``checkpoint`` (a path or a loaded
        nn.Checkpoint); ``epochs`` may extend it. Give it the same training data.

        Raises ValueError (nn.ModelFileError for a file) when it cannot resume.
        """
        if not isinstance(checkpoint, nn.Checkpoint):
            checkpoint = nn.load_model(checkpoint)
        config = resume_config(checkpoint)     # also checks the whole state
        state = checkpoint.extra[_EXTRA_KEY]
        if epochs is not None:
            config = dataclasses.replace(config, epochs=epochs)
        rng = np.random.default_rng(config.seed)
        rng.bit_generator.state = state["rng_state"]
        optimizer = make_optimizer(checkpoint.model, config)
        try:
            optimizer.load_state_dict(checkpoint.optimizer_state)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"the checkpoint's optimizer state does not fit its "
                             f"model and settings: {exc}") from exc
        trainer = cls(checkpoint.model, train, val, config, optimizer, rng)
        trainer.base_lr = state["base_lr"]
        trainer.step = checkpoint.step or 0
        trainer._epoch = state["epoch"]
        trainer._batch = state["batch"]
        if state["order"] is not None:
            trainer._order = np.asarray(state["order"], dtype=np.int64)
            if len(trainer._order) != len(trainer.x_train):
                raise ValueError(
                    f"the checkpoint was made with {len(trainer._order)} training "
                    f"images but {len(trainer.x_train)} were given; resume with the "
                    "same data"
                )
            if not np.array_equal(np.sort(trainer._order),
                                  np.arange(len(trainer.x_train))):
                _damaged("'order' is not a shuffled list of the training images")
        if trainer._batch >= trainer.batches_per_epoch:
            _damaged(f"'batch' is {trainer._batch} but an epoch has only "
                     f"{trainer.batches_per_epoch} batches")
        trainer._epoch_loss_sum = state["epoch_loss_sum"]
        trainer._epoch_correct = state["epoch_correct"]
        trainer._epoch_seen = state["epoch_seen"]
        trainer.epoch_results = [EpochResult(**r) for r in state["epoch_results"]]
        return trainer


def resume_config(checkpoint) -> TrainConfig:
    """The TrainConfig stored in a loaded checkpoint (seed, val_fraction, ...), so a
    caller can rebuild the same train/validation split before resuming.

    Checks the whole training state first: a damaged or hand-edited checkpoint gives
    a ValueError saying what is wrong, not a crash in the middle of training.
    """
    state = (checkpoint.extra or {}).get(_EXTRA_KEY)
    if state is None or checkpoint.optimizer_state is None:
        raise ValueError(
            "this model file holds no training state; resume needs a checkpoint "
            "written by the trainer (the CLI writes one on Ctrl+C)"
        )
    _check_state(state, checkpoint.step)
    try:
        return TrainConfig(**state["config"])
    except ValueError as exc:
        _damaged(f"its settings are impossible: {exc}")


# What a trainer checkpoint holds besides "config", and how each value must look.
_STATE_KINDS = {
    "base_lr": _VALUE_KINDS["float"],
    "epoch": _VALUE_KINDS["int"],
    "batch": _VALUE_KINDS["int"],
    "order": ("null or a list of whole numbers",
              lambda v: v is None or (isinstance(v, list) and all(map(_is_whole, v)))),
    "epoch_loss_sum": _VALUE_KINDS["float"],
    "epoch_correct": _VALUE_KINDS["int"],
    "epoch_seen": _VALUE_KINDS["int"],
    "epoch_results": ("a list of JSON objects",
                      lambda v: isinstance(v, list)
                      and all(isinstance(r, dict) for r in v)),
    "rng_state": _VALUE_KINDS["dict"],
}


def _check_state(state, step):
    """Raise ValueError naming the first entry of a trainer state that is missing,
    unknown or of the wrong type or range."""
    if not isinstance(state, dict):
        _damaged(f"it must be a JSON object, got {state!r}")
    expected = {"config", *_STATE_KINDS}
    missing, unknown = sorted(expected - set(state)), sorted(set(state) - expected)
    if missing:
        _damaged(f"{', '.join(map(repr, missing))} missing")
    if unknown:
        _damaged(f"unknown entry {', '.join(map(repr, unknown))}")
    config = state["config"]
    if not isinstance(config, dict):
        _damaged(f"'config' must be a JSON object, got {config!r}")
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(config) - known)
    if unknown:
        _damaged(f"unknown setting {', '.join(map(repr, unknown))} in 'config'; "
                 f"known: {', '.join(sorted(known))}")
    for name, (description, fits) in _STATE_KINDS.items():
        if not fits(state[name]):
            _damaged(f"'{name}' must be {description}, got {state[name]!r}")
    for name in ("epoch", "batch", "epoch_correct", "epoch_seen", "epoch_loss_sum"):
        if not (state[name] >= 0 and math.isfinite(state[name])):
            _damaged(f"'{name}' must be >= 0, got {state[name]}")
    if not (state["base_lr"] > 0 and math.isfinite(state["base_lr"])):
        _damaged(f"'base_lr' must be a positive number, got {state['base_lr']}")
    if step is not None and not (_is_whole(step) and step >= 0):
        _damaged(f"the step must be a whole number >= 0, got {step!r}")
    fields = {f.name: f.type for f in dataclasses.fields(EpochResult)}
    for i, result in enumerate(state["epoch_results"], 1):
        if set(result) != set(fields):
            _damaged(f"epoch result {i} must have exactly {', '.join(fields)}")
        for name, kind in fields.items():
            description, fits = _VALUE_KINDS[kind]
            if not fits(result[name]):
                _damaged(f"'{name}' of epoch result {i} must be {description}, got "
                         f"{result[name]!r}")
    try:
        np.random.default_rng().bit_generator.state = state["rng_state"]
    except (KeyError, TypeError, ValueError) as exc:
        _damaged(f"'rng_state' is not a random generator state ({exc})")


def _damaged(problem):
    raise ValueError(f"the checkpoint's training state is damaged: {problem}")


def _check_data(x, y, what):
    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y, dtype=np.int64)
    if x.ndim != 4 or len(x) != len(y):
        raise ValueError(
            f"{what} data must be images (N, C, H, W) with N labels; got images "
            f"{x.shape} and labels {y.shape}"
        )
    return x, y


def _share_rng_with_dropout(model, rng):
    # Dropout masks come from the trainer's generator, so one seed fixes the whole run
    # and a checkpoint's RNG state is enough to continue it exactly.
    for layer in model.modules():
        if isinstance(layer, nn.Dropout):
            layer.rng = rng


def _snapshot(model, optimizer):
    # Both state_dicts are copies: weights, BatchNorm statistics, optimizer moments.
    return model.state_dict(), optimizer.state_dict()


def _restore(model, optimizer, snapshot):
    model_state, optimizer_state = snapshot
    # load_state_dict copies into the existing arrays, which the GUI and the
    # optimizer hold references to.
    model.load_state_dict(model_state)
    optimizer.load_state_dict(optimizer_state)
