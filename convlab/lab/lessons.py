"""The answers of the lessons: every one computed from the live app's state.

A lesson step names how its answer is computed ("answer": {"kind": ...}); the
answer is never written in the lesson file. ANSWER_KINDS computes it from a
LessonState, the state of the window that the Lessons presenter fills in, so a new
digit or a new kernel gives a new answer. check() judges a student's prediction;
step_states() gives the teacher view each step as its setup would leave the window.
lab.lesson_files reads the lesson files. Nothing here imports Qt.
"""

from dataclasses import dataclass, field, replace

import numpy as np

from convlab import explain
from convlab.evaluation import class_scores, evaluate
from convlab.lab.backward import default_target
from convlab.lab.batch_norm import train_vs_eval
from convlab.lab.channels import partial_maps
from convlab.lab.filter_edits import switch_off_command, with_filter
from convlab.lab.pipeline import formula_text, kernel_pipeline, shrink
from convlab.lab.presets import make_preset, preset_size
from convlab.lab.update import filter_step
from convlab.nn.functional import conv_output_size
from convlab.nn.layers import BatchNorm2d, Conv2d
from convlab.nn.reference import conv_single_step, create_mask_from_window

# Test images an accuracy with a filter off is measured on: as many as the
# Playground's "Measure test accuracy now" uses, so both give the same figures.
SWITCH_OFF_IMAGES = 10_000
BATCH_NORM_BATCH = 31  # test digits that share the student's digit's batch
DEFAULT_TOLERANCE = 0.01  # for numbers that are not whole: |answer - right| <= this


class AnswerUnavailable(ValueError):
    """The app is not in a state the answer can be computed from (says what to do)."""


# The state an answer is computed from


@dataclass
class TrainingRecord:
    """What the training session reported for the last run: every batch loss, in
    order, and the last epoch's accuracies (0..1, val None without validation)."""

    losses: list = field(default_factory=list)
    train_acc: float | None = None
    val_acc: float | None = None
    epochs: int = 0


@dataclass
class LessonState:
    """The live app as the answers see it (every field may be None).

    image (28, 28) the current input and label its true digit (test images);
    pipeline: the Playground's KernelPipeline; model: the GUI's copy of the network;
    x_test (N, 1, 28, 28), y_test (N,); training: a TrainingRecord; my_images
    (M, 28, 28), my_labels (M,): the student's labelled digits.
    """

    image: np.ndarray | None = None
    label: int | None = None
    pipeline: object = None
    model: object = None
    x_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    training: TrainingRecord = field(default_factory=TrainingRecord)
    my_images: np.ndarray | None = None
    my_labels: np.ndarray | None = None


@dataclass(frozen=True)
class Answer:
    """A computed answer: value (a number or one of options), and working, the
    sentence the reveal shows (how the value came about, with the numbers)."""

    value: object
    working: str
    options: tuple = ()

    def text(self):
        """The value as a student reads it."""
        if isinstance(self.value, str):
            return self.value
        return f"{self.value:.4g}" if isinstance(self.value, float) else str(
            self.value)


def _need(value, what):
    if value is None:
        raise AnswerUnavailable(what)
    return value


def _pipeline(state):
    return _need(state.pipeline, "The Playground has no valid setting yet: open the "
                 "Playground and pick a kernel that fits.")


def _model(state):
    return _need(state.model, "No network is loaded.")


def _image(state):
    return _need(state.image, "Draw a digit or load a test digit first.")


def _test_set(state):
    _need(state.x_test, "This needs test digits: File > Open dataset folder or "
          "Download MNIST.")
    return state.x_test, state.y_test


def _conv_layer(model, layer):
    if not 0 <= layer < len(model.layers) or not isinstance(model.layers[layer],
                                                             Conv2d):
        raise AnswerUnavailable(f"Model layer {layer} of this network is not a "
                                "convolution: pick the architecture the lesson uses.")
    return model.layers[layer]


# The answer kinds: each reads a LessonState and the step's parameters.


def output_size(state):
    """The Playground's convolution output side, floor((n + 2p - f) / s) + 1."""
    r = _pipeline(state)
    n, f = r.input.shape[0], r.kernel.shape[0]
    out = conv_output_size(n, f, r.stride, r.padding)
    return Answer(out, formula_text(n, r.padding, f, r.stride))


NO_POOLING = "Pooling is off in the Playground: pick max or average."


def pooled_size(state):
    """The side of the Playground's pooled map (pooling on its ReLU output)."""
    r = _pipeline(state)
    if r.pool == "none":
        raise AnswerUnavailable(NO_POOLING)
    n = r.conv.shape[0]
    out = conv_output_size(n, r.pool_size, r.pool_stride, 0)
    return Answer(out, formula_text(n, 0, r.pool_size, r.pool_stride))


def unreached_rows(state):
    """How many rows of the padded input no window of the Playground reaches."""
    r = _pipeline(state)
    missed = int(np.sum(~r.input_covered))
    rows = np.flatnonzero(~r.input_covered).tolist()
    return Answer(missed, f"{r.conv.shape[0]} windows of {r.kernel.shape[0]} rows, "
                  f"{r.stride} apart, over {len(r.input_covered)} padded rows: rows "
                  f"never reached {rows or 'none'}.")


def conv_cell(state, row, col):
    """Output cell (row, col) of the Playground's convolution, by conv_single_step."""
    r = _pipeline(state)
    out = r.conv.shape[0]
    if not (0 <= row < out and 0 <= col < out):
        raise AnswerUnavailable(f"Cell ({row}, {col}) is outside the {out}x{out} "
                                "output: set the Playground as the step says.")
    f = r.kernel.shape[0]
    top, left = row * r.stride, col * r.stride
    window = r.padded[top:top + f, left:left + f]  # (f, f)
    value = conv_single_step(window, r.kernel, r.bias)
    return Answer(value, f"window rows {top}..{top + f - 1}, columns "
                  f"{left}..{left + f - 1} of the padded input times the kernel, "
                  f"summed: {np.sum(window * r.kernel):.4g} + bias {r.bias:.4g} = "
                  f"{value:.4g}")


def _pool_window(r, row, col):
    if r.pool == "none":
        raise AnswerUnavailable(NO_POOLING)
    out = r.max.shape[0]
    if not (0 <= row < out and 0 <= col < out):
        raise AnswerUnavailable(f"Cell ({row}, {col}) is outside the {out}x{out} "
                                "pooled map: set the Playground as the step says.")
    top, left = row * r.pool_stride, col * r.pool_stride
    return r.relu[top:top + r.pool_size, left:left + r.pool_size], top, left


def pool_cell(state, mode, row, col):
    """Cell (row, col) of the Playground's max ("max") or average ("avg") pooling."""
    r = _pipeline(state)
    window, top, left = _pool_window(r, row, col)
    pooled = r.max if mode == "max" else r.avg
    values = ", ".join(f"{v:.3g}" for v in window.ravel())
    what = "the largest" if mode == "max" else "the mean"
    return Answer(float(pooled[row, col]), f"ReLU values under the window (rows "
                  f"{top}.., columns {left}..): {values}; {what} is "
                  f"{pooled[row, col]:.4g}")


def cell_text(row, col):
    """How a clicked cell is named in answers: "row 3, column 5" (from 0)."""
    return f"row {row}, column {col}"


def largest_cell(state, stage):
    """The cell of the Playground's "conv" output or "pool" (max) map holding the
    largest value (the first in reading order when several tie)."""
    r = _pipeline(state)
    if stage not in ("conv", "pool"):
        raise AnswerUnavailable(f'stage must be "conv" or "pool", not {stage!r}')
    values = r.conv if stage == "conv" else r.max
    if values is None:
        raise AnswerUnavailable(NO_POOLING)
    i, j = np.unravel_index(np.argmax(values), values.shape)
    return Answer(cell_text(int(i), int(j)), f"the largest value, {values[i, j]:.4g}, "
                  f"of the {values.shape[0]}x{values.shape[1]} map.")


def _position_names(size):
    if size == 2:
        return ("top-left", "top-right", "bottom-left", "bottom-right")
    return tuple(f"row {i}, column {j}" for i in range(size) for j in range(size))


def max_position(state, row, col):
    """Where in pooling window (row, col) the gradient of max pooling goes."""
    r = _pipeline(state)
    window, top, left = _pool_window(r, row, col)
    if window.shape != (r.pool_size, r.pool_size):
        raise AnswerUnavailable("That pooling window hangs over the map's edge.")
    mask = create_mask_from_window(window)
    names = _position_names(r.pool_size)
    i, j = np.unravel_index(np.argmax(mask), mask.shape)
    name = names[i * r.pool_size + j]
    return Answer(name, f"the window's maximum {window[i, j]:.4g} is at its {name} "
                  f"(ReLU row {top + i}, column {left + j}): create_mask_from_window "
                  "puts the whole gradient there and 0 on the other cells.", names)


def _target(state, model, image):
    probabilities = explain.backprop(model, image, 0).probabilities
    return default_target(probabilities, state.label)


SIGNS = ("positive", "negative", "zero")


def gradient_sign(state, layer, filter, channel, row, col):
    """The sign of dL/dw of one weight of a conv filter, for the current digit."""
    model, image = _model(state), _image(state)
    conv = _conv_layer(model, layer)
    if not (0 <= filter < conv.out_channels and 0 <= channel < conv.in_channels):
        raise AnswerUnavailable(f"Layer {layer} has no filter {filter}, channel "
                                f"{channel}.")
    target = _target(state, model, image)
    trace = explain.backprop(model, image, target)
    g = float(trace.layers[layer].grad_weight[filter, channel, row, col])
    sign = "positive" if g > 0 else "negative" if g < 0 else "zero"
    move = ("down" if g > 0 else "up") if g else "nowhere"
    return Answer(sign, f"dL/dw = {g:.3g} for target {target} (loss {trace.loss:.3g}):"
                  f" gradient descent moves this weight {move}.", SIGNS)


CHANGES = ("lower", "higher")


def step_loss(state, layer, filter, lr):
    """Whether one SGD step of a filter (lab.update.filter_step) lowers the loss."""
    model, image = _model(state), _image(state)
    _conv_layer(model, layer)
    target = _target(state, model, image)
    step = filter_step(model, image, target, layer, filter, lr)
    way = "lower" if step.loss_after < step.loss_before else "higher"
    return Answer(way, f"loss of target {target}: {step.loss_before:.4g} before, "
                  f"{step.loss_after:.4g} after the step with lr {lr:g} (first-order "
                  f"estimate of the change: {step.predicted_change:+.3g}).", CHANGES)


DROPS = ("drops by more than 1 point", "changes by 1 point or less",
         "rises by more than 1 point")


def switch_off_drop(state, layer, filter, cancelled=None):
    """How test accuracy changes with one filter switched off (slow: evaluates)."""
    model = _model(state)
    x, y = _test_set(state)
    _conv_layer(model, layer)
    x, y = x[:SWITCH_OFF_IMAGES], y[:SWITCH_OFF_IMAGES]
    weight = model.layers[layer].weight.data[filter]
    bias = model.layers[layer].bias
    bias = None if bias is None else bias.data[filter]
    on = with_filter(model, layer, filter, weight, bias)  # a private copy
    off = with_filter(model, layer, filter, weight, bias)
    switch_off_command(layer, filter)(off)
    before = evaluate(on, x, y, cancelled=cancelled)["accuracy"]
    after = evaluate(off, x, y, cancelled=cancelled)["accuracy"]
    points = 100 * (after - before)
    choice = DROPS[0] if points < -1 else DROPS[2] if points > 1 else DROPS[1]
    return Answer(choice, f"on {len(x):,} test digits: {before:.1%} with filter "
                  f"{filter} on, {after:.1%} with it off ({points:+.1f} points).",
                  DROPS)


def _layer_input(model, image, layer):
    """What conv layer ``layer`` reads for image: (C, H, W) float64."""
    if layer == 0:
        return np.asarray(image, np.float64)[None]
    x = np.asarray(image, model.parameters()[0].data.dtype)[None, None]
    return model.activations(x)[layer - 1][0].astype(np.float64)  # (C, H, W)


def _partial_maps(state, layer, filter):
    model, image = _model(state), _image(state)
    conv = _conv_layer(model, layer)
    b = 0.0 if conv.bias is None else float(conv.bias.data[filter])
    return partial_maps(_layer_input(model, image, layer), conv.weight.data[filter],
                        b, conv.stride, conv.padding)


def filter_channels(state, layer, filter):
    """How many partial maps (one per input channel) a filter's output sums."""
    maps = _partial_maps(state, layer, filter)
    return Answer(len(maps.partial), " ".join(maps.text()[:2]))


def top_channel(state, layer, filter):
    """Which input channel moves the filter's output most (sum of |partial map|)."""
    maps = _partial_maps(state, layer, filter)
    return Answer(int(maps.order[0]), maps.text()[2])


SAME_OR_DIFFERENT = ("the same", "different")


def _batch_norm(state):
    model, image = _model(state), _image(state)
    x, _ = _test_set(state)
    layers = [i for i, lay in enumerate(model.layers) if isinstance(lay, BatchNorm2d)]
    if not layers:
        raise AnswerUnavailable("This network has no batch norm: pick the 'sample-bn' "
                                "architecture (this step's setup does) first.")
    return train_vs_eval(model, layers[0], image, x[:BATCH_NORM_BATCH])


def batch_norm_modes(state):
    """Whether batch norm gives the digit the same output in training and eval."""
    result = _batch_norm(state)
    gap = float(np.abs(result.difference).max())
    answer = SAME_OR_DIFFERENT[int(gap > 1e-6)]
    return Answer(answer, f"largest |train - eval| over the layer's output: {gap:.3g};"
                  f" channel 0 uses batch mean {result.batch_mean[0]:.3g}, var "
                  f"{result.batch_var[0]:.3g} in training, running mean "
                  f"{result.running_mean[0]:.3g}, var {result.running_var[0]:.3g} in "
                  "eval.", SAME_OR_DIFFERENT)


def _run(state):
    record = state.training
    if not record.losses:
        raise AnswerUnavailable("No training run yet: start one in the Training tab "
                                "as the step says, let it finish, then answer.")
    return record


UP_OR_DOWN = ("went down", "went up or stayed")


def run_loss_trend(state):
    """Whether the last run's batch loss ended below where it started."""
    losses = _run(state).losses
    k = max(1, min(10, len(losses) // 4))  # mean of a few steps: single batches jump
    first, last = float(np.mean(losses[:k])), float(np.mean(losses[-k:]))
    answer = UP_OR_DOWN[int(not last < first)]
    return Answer(answer, f"mean batch loss of the first {k} step(s) {first:.3g}, of "
                  f"the last {k} {last:.3g}.", UP_OR_DOWN)


def last_validation_accuracy(state):
    """The last epoch's validation accuracy of the last run, in percent."""
    record = _run(state)
    val = _need(record.val_acc, "The last run measured no validation accuracy.")
    return Answer(round(100 * val, 1), f"after epoch {record.epochs}: training "
                  f"{100 * record.train_acc:.1f}%, validation {100 * val:.1f}%.")


GAPS = ("training is more than 5 points higher", "within 5 points")


def overfit_gap(state):
    """Whether the last run's training accuracy beat validation by over 5 points."""
    record = _run(state)
    val = _need(record.val_acc, "The last run measured no validation accuracy.")
    gap = 100 * (record.train_acc - val)
    return Answer(GAPS[int(not gap > 5)], f"training {100 * record.train_acc:.1f}%, "
                  f"validation {100 * val:.1f}%: a gap of {gap:.1f} points.", GAPS)


def my_digits_right(state):
    """How many of the student's labelled digits the network reads right."""
    model = _model(state)
    images = state.my_images
    if images is None or len(images) == 0:
        raise AnswerUnavailable("My digits holds no digits yet: draw one, press its "
                                "digit key, and repeat.")
    read = class_scores(model, images[:, None]).argmax(axis=1)  # (M, 1, 28, 28) in
    right = int(np.sum(read == state.my_labels))
    return Answer(right, f"{right} of your {len(images)} digits read right "
                  f"({right / len(images):.0%}).")


@dataclass(frozen=True)
class AnswerKind:
    """One way to compute an answer: fn(state, **params) -> Answer; params name ->
    type; choice: the answer is one of Answer.options (else a number); cell: the
    student clicks a cell of a Playground map (cell_text names it); whole: the
    number is an integer (checked exactly); slow: run it in the background."""

    fn: object
    params: dict
    choice: bool = False
    cell: bool = False
    whole: bool = False
    slow: bool = False


_CELL = {"row": int, "col": int}
ANSWER_KINDS = {
    "output_size": AnswerKind(output_size, {}, whole=True),
    "pooled_size": AnswerKind(pooled_size, {}, whole=True),
    "unreached_rows": AnswerKind(unreached_rows, {}, whole=True),
    "conv_cell": AnswerKind(conv_cell, _CELL),
    "pool_cell": AnswerKind(pool_cell, {"mode": str, **_CELL}),
    "max_position": AnswerKind(max_position, _CELL, choice=True),
    "largest_cell": AnswerKind(largest_cell, {"stage": str}, cell=True),
    "gradient_sign": AnswerKind(gradient_sign, {"layer": int, "filter": int,
                                                "channel": int, **_CELL}, choice=True),
    "step_loss": AnswerKind(step_loss, {"layer": int, "filter": int, "lr": float},
                            choice=True),
    "switch_off_drop": AnswerKind(switch_off_drop, {"layer": int, "filter": int},
                                  choice=True, slow=True),
    "filter_channels": AnswerKind(filter_channels, {"layer": int, "filter": int},
                                  whole=True),
    "top_channel": AnswerKind(top_channel, {"layer": int, "filter": int}, whole=True),
    "batch_norm_modes": AnswerKind(batch_norm_modes, {}, choice=True),
    "run_loss_trend": AnswerKind(run_loss_trend, {}, choice=True),
    "last_validation_accuracy": AnswerKind(last_validation_accuracy, {}),
    "overfit_gap": AnswerKind(overfit_gap, {}, choice=True),
    "my_digits_right": AnswerKind(my_digits_right, {}, whole=True),
}

# Options a choice shows before it is computed (max_position's depend on the pool).
KIND_OPTIONS = {"max_position": _position_names(2), "gradient_sign": SIGNS,
                "step_loss": CHANGES, "switch_off_drop": DROPS,
                "batch_norm_modes": SAME_OR_DIFFERENT, "run_loss_trend": UP_OR_DOWN,
                "overfit_gap": GAPS}


def compute(answer, state, cancelled=None):
    """The Answer of a step's "answer" dict (kind and parameters) for state."""
    spec = ANSWER_KINDS[answer["kind"]]
    params = {k: answer[k] for k in spec.params}
    if spec.slow:
        params["cancelled"] = cancelled
    return spec.fn(state, **params)


def check(answer, computed, response):
    """Whether a student's response (text, option or cell_text of the cell
    clicked) matches the computed Answer.

    Raises ValueError with a hint when a number cannot be read.
    """
    spec = ANSWER_KINDS[answer["kind"]]
    if spec.choice or spec.cell:
        return response == computed.value
    try:
        number = float(str(response).strip().replace(",", "."))
    except ValueError:
        raise ValueError(f"'{response}' is not a number: type one, e.g. 3 or "
                         "-0.25.") from None
    if spec.whole:
        return number == computed.value
    tolerance = answer.get("tolerance", DEFAULT_TOLERANCE)
    return abs(number - computed.value) <= tolerance + 1e-12


# Every step's answer for a teacher: each step as its setup would leave the window


@dataclass(frozen=True)
class PlaygroundSetting:
    """The Playground's kernel (f, f) and controls (as its Settings), and whether
    a network filter is open in it."""

    kernel: np.ndarray
    filter_open: bool = False
    input_factor: int = 1
    stride: int = 1
    padding: object = 0
    pool: str = "max"
    pool_size: int = 2
    pool_stride: int = 2


PLAYGROUND_KEYS = ("input_factor", "stride", "padding", "pool", "pool_size",
                   "pool_stride")


def step_states(lesson, state, playground, bundled=None):
    """One (LessonState or None, note) per step of lesson: the state each step
    would be answered in, starting from state and the PlaygroundSetting playground
    and applying the steps' setups in turn. bundled() loads the bundled model.

    A step after a setup that makes fresh random weights, or with a network filter
    open in the Playground, gets None and a note: its answer is only known live.
    """
    rng = np.random.default_rng(0)
    out, unknown, filter_open = [], None, playground.filter_open
    for step in lesson.steps:
        setup = step.get("setup", {})
        if setup.get("model") == "bundled" and bundled is not None:
            state, unknown = replace(state, model=bundled()), None
        if "architecture" in setup:
            unknown = "the step makes fresh random weights"
        if "test_image" in setup and state.x_test is not None:
            i = setup["test_image"]
            if 0 <= i < len(state.x_test):
                state = replace(state, image=state.x_test[i, 0].astype(np.float64),
                                label=int(state.y_test[i]))
        changes = {k: setup[k] for k in PLAYGROUND_KEYS if k in setup}
        if "kernel" in setup or "kernel_size" in setup:
            key = setup.get("kernel", "identity")
            size = setup.get("kernel_size", playground.kernel.shape[0])
            changes["kernel"] = make_preset(key, preset_size(key, size), rng)
        playground = replace(playground, **changes)
        # As the presenter does: a kernel setting closes an open network filter.
        if "open_filter" in setup:
            filter_open = True
        elif setup.get("close_filter") or "kernel" in changes or \
                "input_factor" in setup:
            filter_open = False
        state = replace(state, pipeline=None if filter_open else _pipeline_for(
            state.image, playground))
        out.append((None, unknown) if unknown else (state, ""))
    return out


def _pipeline_for(image, s):
    """The Playground's KernelPipeline for image under setting s, or None."""
    picture = np.zeros((28, 28)) if image is None else image
    try:
        return kernel_pipeline(shrink(picture, s.input_factor), s.kernel, 0.0,
                               s.stride, s.padding, s.pool, s.pool_size,
                               s.pool_stride)
    except ValueError:
        return None
